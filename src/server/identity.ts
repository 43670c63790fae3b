/**
 * The route server's own cjdns identity (key, IPv6, version). Until the server is attached to
 * a cjdns node it comes from config (a private key, or only the public key of a cjdns node whose
 * private key stays with cjdroute), or is generated once and persisted to a file (0600).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { RsError } from '../errors.ts';
import { bytesToHex, hexToBytes } from '../protocol/hex.ts';
import {
  ip6FromPublicKey,
  ip6ToString,
  publicFromPrivate,
  publicKeyFromString,
  publicKeyToString,
} from '../protocol/keys.ts';

export interface SelfIdentity {
  /** curve25519 private key (absent when the identity comes from an attached cjdns node) */
  readonly privateKey: Uint8Array | undefined;
  readonly publicKey: Uint8Array;
  /** `.k` string */
  readonly key: string;
  /** 39-char IPv6 */
  readonly ipv6: string;
  /** protocol version put in `p` of `ann` replies */
  readonly version: number;
}

export function identityFromPrivateKey(privateKey: Uint8Array, version: number): SelfIdentity {
  const publicKey = publicFromPrivate(privateKey);
  const ip = ip6FromPublicKey(publicKey);
  if (ip[0] !== 0xfc) {
    throw new RsError(
      'RS_ERR_KEY_NOT_CJDNS',
      `private key gives ${ip6ToString(ip)}, not an fc00::/8 cjdns address`,
    );
  }
  return {
    privateKey,
    publicKey,
    key: publicKeyToString(publicKey),
    ipv6: ip6ToString(ip),
    version,
  };
}

/**
 * The identity of a cjdns node known by its public key only: the route server never signs
 * anything, it only needs the key and IPv6 that announcements are addressed to.
 */
export function identityFromPublicKey(key: string, version: number): SelfIdentity {
  const publicKey = publicKeyFromString(key);
  const ip = ip6FromPublicKey(publicKey);
  if (ip[0] !== 0xfc) {
    throw new RsError(
      'RS_ERR_KEY_NOT_CJDNS',
      `public key ${key} gives ${ip6ToString(ip)}, not an fc00::/8 cjdns address`,
    );
  }
  return {
    privateKey: undefined,
    publicKey,
    key: publicKeyToString(publicKey),
    ipv6: ip6ToString(ip),
    version,
  };
}

/** Draw random keys until one gives an fc… address (1 in 256 on average). */
export function generateIdentity(
  version: number,
  random: (n: number) => Uint8Array = randomBytes,
): SelfIdentity {
  for (;;) {
    const priv = new Uint8Array(random(32));
    const ip = ip6FromPublicKey(publicFromPrivate(priv));
    if (ip[0] === 0xfc) return identityFromPrivateKey(priv, version);
  }
}

/** What the identity file holds (and `snode keygen` prints). */
export function identityFileBody(identity: SelfIdentity): {
  privateKey: string;
  publicKey: string;
  ipv6: string;
} {
  if (!identity.privateKey)
    throw new RsError(
      'RS_ERR_INTERNAL',
      'an identity without its private key has no identity file',
    );
  return {
    privateKey: bytesToHex(identity.privateKey),
    publicKey: identity.key,
    ipv6: identity.ipv6,
  };
}

const identityFileSchema = z
  .object({ privateKey: z.string().regex(/^[0-9a-f]{64}$/i) })
  .passthrough();

/** Load the identity from `file`, or create and persist a new one. */
export function loadOrCreateIdentity(
  file: string,
  version: number,
): { identity: SelfIdentity; created: boolean } {
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new RsError(
        'RS_ERR_CONFIG_INVALID',
        `identity file ${file} is not JSON: ${(e as Error).message}`,
      );
    }
    const r = identityFileSchema.safeParse(parsed);
    if (!r.success)
      throw new RsError(
        'RS_ERR_CONFIG_INVALID',
        `identity file ${file}: expected {"privateKey": "<64 hex>"}`,
      );
    try {
      return {
        identity: identityFromPrivateKey(hexToBytes(r.data.privateKey.toLowerCase()), version),
        created: false,
      };
    } catch (e) {
      throw new RsError('RS_ERR_CONFIG_INVALID', `identity file ${file}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  const identity = generateIdentity(version);
  mkdirSync(dirname(file), { recursive: true });
  const body = identityFileBody(identity);
  // Atomic create: several processes of one cluster may start together on a shared volume;
  // link() fails if another one won the race, and then everybody uses the winner's identity.
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return loadOrCreateIdentity(file, version);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { identity, created: true };
}
