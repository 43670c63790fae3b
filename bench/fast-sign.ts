/**
 * Signed announcements for the benchmarks, fast. The bytes are laid out exactly as
 * `buildAnnouncement` (src/protocol/announcement.ts) lays them out — signature ‖ signing key ‖
 * snode IPv6 ‖ timestamp word (`buildTimestampField`) ‖ entities — and the signature is a valid
 * ed25519 signature by the node's key (the route server verifies it like any other).
 *
 * BENCH ONLY: to skip the costly nonce multiplication of every signature, all signatures use
 * one fixed nonce r (R = r·B computed once): S = r + H(R ‖ A ‖ M)·a mod L. Reusing a nonce
 * reveals the private key to anyone holding two signatures — harmless for synthetic keys,
 * never acceptable for a real one. `buildAnnouncement` (cjdns-style signing) is the real thing.
 */
import { hash } from 'node:crypto';
import { Point } from '@noble/ed25519';
import { buildTimestampField } from '../src/protocol/announcement.ts';
import { ip6FromString } from '../src/protocol/keys.ts';
import type { BenchKey } from './keys.ts';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const R_SCALAR = 0x5eed_5eed_5eed_5eed_5eed_5eed_5eed_5eedn % L;
const R_BYTES = Point.BASE.multiply(R_SCALAR).toBytes();

function leToBig(b: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(b).reverse().toString('hex'));
}

function toLe32(n: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse());
}

const scalarCache = new WeakMap<Uint8Array, bigint>();

/** Sign `message` (announcement bytes 64..end) with `key`; returns R ‖ S. */
export function fastSign(key: BenchKey, message: Uint8Array): Uint8Array {
  let a = scalarCache.get(key.priv);
  if (a === undefined) {
    a = leToBig(key.priv) % L;
    scalarCache.set(key.priv, a);
  }
  const k = leToBig(hash('sha512', Buffer.concat([R_BYTES, key.edPub, message]), 'buffer')) % L;
  const s = (R_SCALAR + k * a) % L;
  const sig = new Uint8Array(64);
  sig.set(R_BYTES, 0);
  sig.set(toLe32(s), 32);
  return sig;
}

/** A signed announcement from `key` to `snodeIp` carrying `entities`. */
export function signedAnnouncement(
  key: BenchKey,
  snodeIp: string,
  timestamp: number,
  isReset: boolean,
  entities: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(120 + entities.length);
  out.set(key.edPub, 64);
  out.set(ip6FromString(snodeIp), 96);
  out.set(buildTimestampField(timestamp, isReset, 1), 112);
  out.set(entities, 120);
  out.set(fastSign(key, out.subarray(64)), 0);
  return out;
}
