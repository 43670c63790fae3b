/**
 * Issue 2: announcements parsed + verified per second next to bare `crypto.verify` per second on
 * the same messages, measured in the same run (target ratio >= 0.8); and libsodium's bare verify
 * (what `verify` runs: src/protocol/signature.ts) beside the same baseline.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import {
  buildAnnouncement,
  checkAnnouncementHeader,
  parseAnnouncement,
} from '../src/protocol/announcement.ts';
import {
  serializeEncodingSchemeEntity,
  serializePeer,
  serializeVersion,
} from '../src/protocol/entity.ts';
import { SCHEMES } from '../src/protocol/encoding-scheme.ts';
import { concatBytes } from '../src/protocol/hex.ts';
import { signatureBackend, verifyWithLibsodium } from '../src/protocol/signature.ts';
import { ip6FromPublicKey, ip6ToString, publicFromPrivate } from '../src/protocol/keys.ts';
import { opsPerSecond, prng, type BenchOptions, type BenchResult } from './harness.ts';

const SPKI = Buffer.from('302a300506032b6570032100', 'hex');

function fcKeys(count: number, rnd: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (out.length < count) {
    const priv = new Uint8Array(32).map(() => Math.floor(rnd() * 256));
    if (ip6FromPublicKey(publicFromPrivate(priv))[0] === 0xfc) out.push(priv);
  }
  return out;
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const rnd = prng(opts.seed);
  const nodes = fcKeys(opts.quick ? 50 : 500, rnd);
  const snode = ip6ToString(ip6FromPublicKey(publicFromPrivate(nodes[0]!)));
  const peers = nodes.map((k) => ip6ToString(ip6FromPublicKey(publicFromPrivate(k))));
  // Realistic messages: Version, EncodingScheme, 4 peers (about 260 bytes).
  const msgs = nodes.map((priv, i) =>
    buildAnnouncement({
      privateKey: priv,
      snodeIp: snode,
      timestamp: 1_700_000_000_000 + i,
      isReset: true,
      entities: concatBytes(
        ...[1, 2, 3, 4].map((j) =>
          serializePeer({
            ipv6: peers[(i + j) % peers.length]!,
            label: 0x13 + j,
            peerNum: j,
            mtu: 1280,
            encodingFormNum: 0,
          }),
        ),
        serializeEncodingSchemeEntity(SCHEMES.v358),
        serializeVersion(22),
      ),
    }),
  );
  const keys = msgs.map((m) =>
    createPublicKey({
      key: Buffer.concat([SPKI, Buffer.from(m.subarray(64, 96))]),
      format: 'der',
      type: 'spki',
    }),
  );
  const minMs = opts.quick ? 300 : 2000;
  let i = 0;
  const bare = opsPerSecond(
    () => {
      const m = msgs[i % msgs.length]!;
      if (!cryptoVerify(null, m.subarray(64), keys[i % msgs.length]!, m.subarray(0, 64)))
        throw new Error('bad signature');
      i++;
    },
    { minMs },
  );
  let b = 0;
  const sodium = opsPerSecond(
    () => {
      const m = msgs[b % msgs.length]!;
      if (!verifyWithLibsodium(m.subarray(64), m.subarray(0, 64), m.subarray(64, 96)))
        throw new Error('bad signature');
      b++;
    },
    { minMs },
  );
  let j = 0;
  const full = opsPerSecond(
    () => {
      parseAnnouncement(msgs[j % msgs.length]!);
      j++;
    },
    { minMs },
  );
  let k = 0;
  const header = opsPerSecond(
    () => {
      checkAnnouncementHeader(msgs[k % msgs.length]!, true);
      k++;
    },
    { minMs },
  );
  const ratio = full / bare;
  return [
    {
      name: "bare libsodium verify/s (1 core): the server's verifier",
      value: sodium,
      unit: 'verify/s',
      baseline: { name: 'bare crypto.verify (pre-imported keys)', value: bare, unit: 'verify/s' },
      ratio: sodium / bare,
      notes: `sodium-native's crypto_sign_verify_detached on the raw 32-byte keys (no import); ${signatureBackend === 'libsodium' ? 'loaded' : 'NOT loaded: the server verifies with OpenSSL'}`,
    },
    {
      name: 'parse+verify announcements/s (1 core)',
      value: full,
      unit: 'ann/s',
      baseline: { name: 'bare crypto.verify (pre-imported keys)', value: bare, unit: 'verify/s' },
      ratio,
      target: '>= 0.8',
      met: ratio >= 0.8,
      notes: `${msgs.length} distinct signers, ~${msgs[0]!.length} bytes each`,
    },
    {
      name: "a verification worker's check (everything before the entities) /s (1 core)",
      value: header,
      unit: 'ann/s',
      baseline: { name: 'bare crypto.verify (pre-imported keys)', value: bare, unit: 'verify/s' },
      ratio: header / bare,
      notes: `length, signature (${signatureBackend}), key conversion (cached), fc prefixes`,
    },
  ];
}
