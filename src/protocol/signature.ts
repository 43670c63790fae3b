/**
 * ed25519 signatures as cjdns uses them (docs/protocol.md §1.3). The only module that imports an ed25519
 * library (STYLE: "signature.ts — the only importer of @noble/ed25519 (and of any native fast path)").
 *
 * - `verify` is the hot path: libsodium's `crypto_sign_verify_detached` (sodium-native, its
 *   prebuilt addon) — the check the original route server makes, ~1.6× the rate of Node's
 *   OpenSSL `crypto.verify` on the same core and with no key to import first. Where the addon
 *   does not load (a platform it ships no build for), `verifyWithOpenSsl`: Node's native
 *   `crypto.verify` with a bounded LRU cache of imported public KeyObjects, plus the libsodium
 *   checks that OpenSSL lacks (small-order or non-canonical public key, small-order R). Both
 *   accept exactly what libsodium accepts (test/unit/protocol/signature.test.ts checks them
 *   against each other).
 * - `signCjdns` signs like cjdns `crypto/Sign.c`: the clamped curve25519 private key is the
 *   ed25519 scalar itself (no SHA-512 of a seed). Only used to build test/bench announcements.
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { Point } from '@noble/ed25519';
import { RsError } from '../errors.ts';
import { bigIntTo32LeBytes, leBytesToBigInt } from './hex.ts';

/** ed25519 group order L. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** How many imported public keys to keep (one per announcing node; a few MB at most). */
const KEY_CACHE_MAX_ENTRIES = 65536;

/**
 * Encodings of the small-order points (libsodium `ge25519_has_small_order` blacklist), compared on
 * the low 255 bits (the sign bit of x is ignored): y = 0, 1, the two order-8 y values, p−1, and the
 * non-canonical p and p+1.
 */
const SMALL_ORDER_ENCODINGS: readonly Uint8Array[] = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => new Uint8Array(Buffer.from(h, 'hex')));

/** True if the 32 bytes at `off` encode a small-order point (libsodium blacklist). */
export function hasSmallOrderEncoding(bytes: Uint8Array, off = 0): boolean {
  outer: for (const bad of SMALL_ORDER_ENCODINGS) {
    for (let j = 0; j < 31; j++) if (bytes[off + j] !== bad[j]) continue outer;
    if ((bytes[off + 31]! & 0x7f) === bad[31]) return true;
  }
  return false;
}

/** libsodium `ge25519_is_canonical`: the 255-bit y (sign bit ignored) is below p. */
export function isCanonicalEncoding(bytes: Uint8Array): boolean {
  if ((bytes[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i > 0; i--) if (bytes[i] !== 0xff) return true;
  return bytes[0]! < 0xed;
}

/** Exact check by point arithmetic (slow): the bytes decode to a point of order dividing 8. */
export function isSmallOrderPoint(bytes: Uint8Array): boolean {
  try {
    return Point.fromBytes(bytes, true).isSmallOrder();
  } catch {
    return false;
  }
}

/** True if the 32 bytes decode to a curve point (y, with x recoverable; y taken mod p). */
export function edPointDecodes(bytes: Uint8Array): boolean {
  if (bytes.length !== 32) return false;
  try {
    Point.fromBytes(bytes, true);
    return true;
  } catch {
    return false;
  }
}

// ---- verification --------------------------------------------------------------------------

/** The OpenSSL path's Map-based LRU: key hex → KeyObject, or null for a key libsodium would refuse. */
const keyCache = new Map<string, KeyObject | null>();

function importKey(pub: Uint8Array): KeyObject | null {
  const id = Buffer.from(pub.buffer, pub.byteOffset, 32).toString('hex');
  const hit = keyCache.get(id);
  if (hit !== undefined) {
    keyCache.delete(id);
    keyCache.set(id, hit);
    return hit;
  }
  let key: KeyObject | null = null;
  if (isCanonicalEncoding(pub) && !hasSmallOrderEncoding(pub)) {
    try {
      // as a JWK (RFC 8037 OKP): the same key as its DER SubjectPublicKeyInfo, imported several
      // times faster (an initial sync imports one key per node)
      const x = Buffer.from(pub.buffer, pub.byteOffset, 32).toString('base64url');
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    } catch {
      key = null;
    }
  }
  if (keyCache.size >= KEY_CACHE_MAX_ENTRIES) {
    const oldest = keyCache.keys().next().value;
    if (oldest !== undefined) keyCache.delete(oldest);
  }
  keyCache.set(id, key);
  return key;
}

/** The one libsodium function verification needs (sodium-native's binding). */
interface LibsodiumVerify {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, key: Uint8Array): boolean;
}

/** sodium-native, or undefined where its addon does not load (then OpenSSL verifies). */
function loadLibsodium(): LibsodiumVerify | undefined {
  try {
    const sodium = createRequire(import.meta.url)('sodium-native') as Partial<LibsodiumVerify>;
    return typeof sodium.crypto_sign_verify_detached === 'function'
      ? (sodium as LibsodiumVerify)
      : undefined;
  } catch {
    return undefined;
  }
}

const libsodium = loadLibsodium();

/** Which implementation `verify` runs in this thread: libsodium, or the OpenSSL fallback. */
export const signatureBackend: 'libsodium' | 'openssl' =
  libsodium === undefined ? 'openssl' : 'libsodium';

/** The arguments are a message, a 64-byte signature and a 32-byte key. */
function wellFormed(message: unknown, signature: unknown, publicKey: unknown): boolean {
  return (
    message instanceof Uint8Array &&
    signature instanceof Uint8Array &&
    publicKey instanceof Uint8Array &&
    signature.length === 64 &&
    publicKey.length === 32
  );
}

/**
 * Verify a detached ed25519 signature (R ‖ S, 64 bytes) of `message` by the 32-byte `publicKey`,
 * by libsodium's rules (`signatureBackend` says with which library). Never throws: wrong
 * lengths, garbage keys and anything else give `false`.
 */
export const verify: (
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
) => boolean = libsodium === undefined ? verifyWithOpenSsl : verifyWithLibsodium;

/** `verify` by libsodium itself; false (as for a bad signature) where its addon did not load. */
export function verifyWithLibsodium(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (libsodium === undefined || !wellFormed(message, signature, publicKey)) return false;
  try {
    return libsodium.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}

/** `verify` by Node's OpenSSL, with libsodium's extra checks in front (the fallback). */
export function verifyWithOpenSsl(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    if (!wellFormed(message, signature, publicKey)) return false;
    const key = importKey(publicKey);
    if (key === null) return false;
    if (hasSmallOrderEncoding(signature, 0)) return false; // libsodium rejects a small-order R
    return cryptoVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** Number of KeyObjects the OpenSSL path has cached (for tests and metrics). */
export function verifyKeyCacheSize(): number {
  return keyCache.size;
}

// ---- cjdns-style signing ---------------------------------------------------------------------

function sha512(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

function checkPrivate(priv: Uint8Array): void {
  if (!(priv instanceof Uint8Array) || priv.length !== 32) {
    throw new RsError('RS_ERR_KEY_PRIVATE_INVALID', 'private key must be 32 bytes');
  }
}

/** curve25519 clamping (`k[0] &= 248; k[31] &= 63; k[31] |= 64`), on a copy. */
export function clampScalar(priv: Uint8Array): Uint8Array {
  checkPrivate(priv);
  const k = new Uint8Array(priv);
  k[0] = k[0]! & 248;
  k[31] = (k[31]! & 63) | 64;
  return k;
}

/** ed25519 point `scalar · B` for a 32-byte little-endian scalar (reduced mod L), encoded. */
export function ed25519BaseMultiply(scalarLe: Uint8Array): Uint8Array {
  const a = leBytesToBigInt(scalarLe) % L;
  if (a === 0n) throw new RsError('RS_ERR_KEY_PRIVATE_INVALID', 'scalar is 0 mod L');
  return Point.BASE.multiply(a).toBytes();
}

/**
 * Sign like cjdns (`crypto/Sign.c`): a = clamp(priv) used directly as the scalar,
 * A = a·B, r = sha512(prefix ‖ M) mod L with the deterministic prefix sha512(a)[32..64]
 * (cjdns mixes in random bytes instead), R = r·B, k = sha512(R ‖ A ‖ M) mod L,
 * S = (r + k·a) mod L. Returns R ‖ S (64 bytes), verifiable with any ed25519 verifier.
 */
export function signCjdns(curvePrivate: Uint8Array, message: Uint8Array): Uint8Array {
  const clamped = clampScalar(curvePrivate);
  const a = leBytesToBigInt(clamped) % L;
  const pubA = Point.BASE.multiply(a).toBytes();
  const prefix = sha512(clamped).subarray(32, 64);
  const r = leBytesToBigInt(sha512(prefix, message)) % L;
  const R = Point.BASE.multiply(r === 0n ? 1n : r).toBytes();
  const k = leBytesToBigInt(sha512(R, pubA, message)) % L;
  const s = ((r === 0n ? 1n : r) + k * a) % L;
  const sig = new Uint8Array(64);
  sig.set(R, 0);
  sig.set(bigIntTo32LeBytes(s), 32);
  return sig;
}
