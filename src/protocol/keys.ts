/**
 * cjdns keys and addresses (docs/protocol.md §2).
 *
 * - public key string: 52 Base32 chars + ".k" for a 32-byte curve25519 key (§2.2);
 * - IPv6: sha512(sha512(key))[0..16], valid for cjdns iff byte 0 is 0xfc; printed as 8 groups of
 *   4 lowercase hex digits, leading zeros kept, no "::" (§2.3);
 * - conversions private → X25519 public, private → cjdns ed25519 signing key, ed25519 public →
 *   curve25519 public (§2.4);
 * - node names `v<version>.<label 19 chars>.<key>.k` (§2.5).
 */
import { createPrivateKey, createPublicKey, hash } from 'node:crypto';
import { RsError } from '../errors.ts';
import { base32Decode, base32Encode } from './base32.ts';
import {
  clampScalar,
  ed25519BaseMultiply,
  edPointDecodes,
  hasSmallOrderEncoding,
} from './signature.ts';
import { bigIntTo32LeBytes, leBytesToBigInt } from './hex.ts';

const PUBLIC_KEY_RE = /^[0-9a-z]{52}\.k$/;

// ---- public key strings ---------------------------------------------------------------------

/** Strict `.k` string → 32 bytes. RS_ERR_KEY_INVALID unless `^[0-9a-z]{52}\.k$` decoding to 32 bytes. */
export function publicKeyFromString(str: string): Uint8Array {
  if (typeof str !== 'string' || !PUBLIC_KEY_RE.test(str)) {
    throw new RsError('RS_ERR_KEY_INVALID', `key [${String(str)}] does not look valid`);
  }
  let bytes: Uint8Array;
  try {
    bytes = base32Decode(str.slice(0, 52));
  } catch (e) {
    throw new RsError('RS_ERR_KEY_INVALID', `key [${str}] is not valid base32`, { cause: e });
  }
  if (bytes.length !== 32) throw new RsError('RS_ERR_KEY_INVALID', `key [${str}] is not 32 bytes`);
  return bytes;
}

export function publicKeyToString(bytes: Uint8Array): string {
  if (bytes.length !== 32)
    throw new RsError('RS_ERR_KEY_INVALID', `unexpected length [${bytes.length}]`);
  return base32Encode(bytes) + '.k';
}

// ---- IPv6 -----------------------------------------------------------------------------------

/** cjdns address of a curve25519 public key: sha512(sha512(key))[0..16]. */
export function ip6FromPublicKey(key: Uint8Array): Uint8Array {
  const h2 = hash('sha512', hash('sha512', key, 'buffer'), 'buffer');
  return new Uint8Array(h2.subarray(0, 16));
}

export function isValidCjdnsIp6(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes[0] === 0xfc;
}

const HEX_DIGITS = '0123456789abcdef';
const ip6Codes: number[] = new Array<number>(39);

/**
 * 16 bytes → `xxxx:xxxx:…` (39 chars, lowercase, leading zeros kept, no compression). Built from
 * char codes so the result is one flat string (concatenation would leave a tree of cons strings,
 * several times the size, in every record and link that keeps an address).
 */
export function ip6ToString(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RsError('RS_ERR_IP6_INVALID', `bad length ${bytes.length}`);
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i > 0 && (i & 1) === 0) ip6Codes[o++] = 0x3a; // ':'
    const b = bytes[i]!;
    ip6Codes[o++] = HEX_DIGITS.charCodeAt(b >>> 4);
    ip6Codes[o++] = HEX_DIGITS.charCodeAt(b & 15);
  }
  return String.fromCharCode.apply(null, ip6Codes);
}

const GROUP_RE = /^[0-9a-fA-F]{1,4}$/;

/** The value of the hex digit with char code `c` (either case, or lowercase only), else −1. */
function hexValue(c: number, lowercaseOnly: boolean): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = lowercaseOnly ? c : c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/**
 * Whether `str` is the full form `xxxx:xxxx:…` (39 chars, 8 groups of exactly 4 hex digits), read
 * into `out` when given. Reads char codes: no split, regex or substrings (it runs for both
 * addresses of every `/path` query). Anything else is left to the general parser.
 */
function readFullIp6(str: string, lowercaseOnly: boolean, out: Uint8Array | null): boolean {
  if (str.length !== 39) return false;
  for (let g = 0; g < 8; g++) {
    const at = g * 5;
    if (g > 0 && str.charCodeAt(at - 1) !== 0x3a) return false;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const d = hexValue(str.charCodeAt(at + i), lowercaseOnly);
      if (d < 0) return false;
      v = (v << 4) | d;
    }
    if (out !== null) {
      out[2 * g] = v >>> 8;
      out[2 * g + 1] = v & 0xff;
    }
  }
  return true;
}

/**
 * Any textual IPv6 (full or `::`-compressed, hex case-insensitive, groups of 1–4 digits) → 16
 * bytes. No embedded IPv4, no zone. RS_ERR_IP6_INVALID otherwise. The full form is read
 * directly; every other text (compressed, short groups, or malformed) goes through the general
 * parser, which decides its error.
 */
export function ip6FromString(str: string): Uint8Array {
  if (typeof str === 'string' && str.length === 39) {
    const out = new Uint8Array(16);
    if (readFullIp6(str, false, out)) return out;
  }
  return parseIp6Text(str);
}

/**
 * The general IPv6 text parser behind {@link ip6FromString} (split into groups, every accepted
 * form, and the error of each malformed text); the full form's char-code reader must agree
 * with it (tested).
 */
export function parseIp6Text(str: string): Uint8Array {
  const bad = (why: string): RsError =>
    new RsError('RS_ERR_IP6_INVALID', `invalid IPv6 [${String(str)}]: ${why}`);
  if (typeof str !== 'string' || str.length === 0 || str.length > 39) throw bad('length');
  const dbl = str.indexOf('::');
  let head: string[];
  let tail: string[] = [];
  if (dbl < 0) {
    head = str.split(':');
    if (head.length !== 8) throw bad('expected 8 groups');
  } else {
    if (str.indexOf('::', dbl + 1) >= 0) throw bad('more than one ::');
    const h = str.slice(0, dbl);
    const t = str.slice(dbl + 2);
    head = h === '' ? [] : h.split(':');
    tail = t === '' ? [] : t.split(':');
    if (head.length + tail.length > 7) throw bad('too many groups');
  }
  const out = new Uint8Array(16);
  const put = (g: string, i: number): void => {
    if (!GROUP_RE.test(g)) throw bad(`bad group [${g}]`);
    const v = parseInt(g, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  };
  head.forEach((g, i) => put(g, i));
  tail.forEach((g, i) => put(g, 8 - tail.length + i));
  return out;
}

/**
 * Any accepted IPv6 text → the canonical 39-char form used as map key everywhere. Text already
 * in that form is returned as it is (no parse, no copy).
 */
export function normalizeIp6(str: string): string {
  if (typeof str === 'string' && readFullIp6(str, true, null)) return str;
  return ip6ToString(ip6FromString(str));
}

const JS_IP6_RE = /^fc[0-9a-f]{2}:[0-9a-f:]+$/;

/**
 * `cjdnskeys.validate` on an IPv6 string (lenient JS regex: lowercase, starts with `fcXX:`, then
 * any of `[0-9a-f:]`). For strict checking use `ip6FromString` + `isValidCjdnsIp6`.
 */
export function validateIp6(str: string): boolean {
  return JS_IP6_RE.test(str);
}

// ---- key conversions ------------------------------------------------------------------------

const P = 2n ** 255n - 19n;

/** Modular inverse by the extended Euclidean algorithm (0 < a < m, m prime). */
function invert(a: bigint, m: bigint): bigint {
  let r0 = m;
  let r1 = a;
  let t0 = 0n;
  let t1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    const r2 = r0 - q * r1;
    r0 = r1;
    r1 = r2;
    const t2 = t0 - q * t1;
    t0 = t1;
    t1 = t2;
  }
  return t0 < 0n ? t0 + m : t0;
}

export interface EdToCurveOptions {
  /**
   * Skip the (slow, ~0.1 ms) check that the bytes decode to a curve point. Only for keys that
   * a successful `verify` already decoded (OpenSSL refuses undecodable keys).
   */
  readonly skipPointCheck?: boolean;
}

/**
 * ed25519 public key → curve25519 public key, u = (1 + y) / (1 − y) mod p
 * (libsodium `crypto_sign_ed25519_pk_to_curve25519`). Refuses small-order and undecodable points
 * like libsodium (RS_ERR_KEY_CONVERSION, message `invalid key`); unlike libsodium it does not test
 * main-subgroup membership (a full scalar multiplication).
 */
export function edToCurve(ed: Uint8Array, opts: EdToCurveOptions = {}): Uint8Array {
  if (!(ed instanceof Uint8Array) || ed.length !== 32) {
    throw new RsError('RS_ERR_KEY_CONVERSION', 'ed25519 public key must be 32 bytes');
  }
  if (hasSmallOrderEncoding(ed) || (opts.skipPointCheck !== true && !edPointDecodes(ed))) {
    throw new RsError('RS_ERR_KEY_CONVERSION', 'invalid key');
  }
  const raw = new Uint8Array(ed);
  raw[31] = raw[31]! & 0x7f;
  const y = leBytesToBigInt(raw) % P;
  const den = (1n - y + P) % P;
  if (den === 0n) throw new RsError('RS_ERR_KEY_CONVERSION', 'invalid key');
  const u = (((1n + y) % P) * invert(den, P)) % P;
  return bigIntTo32LeBytes(u);
}

/**
 * `edToCurve(key, { skipPointCheck: true })` for many keys at once, with one field inversion
 * for the whole batch instead of one per key (Montgomery's trick: the product of the
 * denominators is inverted once, each inverse recovered by two multiplications). For keys a
 * successful signature check decoded: each result is exactly what `edToCurve` returns, or its
 * RsError.
 */
export function edToCurveBatch(keys: readonly Uint8Array[]): Array<Uint8Array | RsError> {
  const out: Array<Uint8Array | RsError> = new Array<Uint8Array | RsError>(keys.length);
  const ys: bigint[] = [];
  const dens: bigint[] = [];
  const at: number[] = [];
  keys.forEach((ed, i) => {
    if (!(ed instanceof Uint8Array) || ed.length !== 32) {
      out[i] = new RsError('RS_ERR_KEY_CONVERSION', 'ed25519 public key must be 32 bytes');
      return;
    }
    if (hasSmallOrderEncoding(ed)) {
      out[i] = new RsError('RS_ERR_KEY_CONVERSION', 'invalid key');
      return;
    }
    const raw = new Uint8Array(ed);
    raw[31] = raw[31]! & 0x7f;
    const y = leBytesToBigInt(raw) % P;
    const den = (1n - y + P) % P;
    if (den === 0n) {
      out[i] = new RsError('RS_ERR_KEY_CONVERSION', 'invalid key');
      return;
    }
    ys.push(y);
    dens.push(den);
    at.push(i);
  });
  if (dens.length === 0) return out;
  // prefix[k] = den[0] · … · den[k]
  const prefix: bigint[] = new Array<bigint>(dens.length);
  let acc = 1n;
  for (let k = 0; k < dens.length; k++) {
    acc = (acc * dens[k]!) % P;
    prefix[k] = acc;
  }
  let inv = invert(acc, P); // 1 / (den[0] · … · den[last])
  for (let k = dens.length - 1; k >= 0; k--) {
    const invDen = k === 0 ? inv : (inv * prefix[k - 1]!) % P;
    inv = (inv * dens[k]!) % P; // now 1 / (den[0] · … · den[k-1])
    const u = (((1n + ys[k]!) % P) * invDen) % P;
    out[at[k]!] = bigIntTo32LeBytes(u);
  }
  return out;
}

/** DER PKCS#8 prefix for a raw 32-byte X25519 private key (RFC 8410). */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** curve25519 private key → X25519 public key (`crypto_scalarmult_base`, clamps internally). */
export function publicFromPrivate(priv: Uint8Array): Uint8Array {
  const checked = clampScalar(priv); // validates the length; X25519 clamps the same way
  const key = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, checked]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

/** cjdns signing key: ed25519 point clamp(priv)·B, no SHA-512 of a seed (docs/protocol.md §1.3). */
export function signingKeyFromPrivate(priv: Uint8Array): Uint8Array {
  return ed25519BaseMultiply(clampScalar(priv));
}

/** Strict 64-hex-digit private key string → 32 bytes (RS_ERR_KEY_PRIVATE_INVALID). */
export function privateKeyFromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new RsError('RS_ERR_KEY_PRIVATE_INVALID', 'private key must be 64 hex digits');
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

// ---- node names -----------------------------------------------------------------------------

export interface NodeName {
  /** protocol version */
  readonly v: number;
  /** 19-char label, e.g. `0000.0000.0000.0863` */
  readonly path: string;
  /** key string including `.k` (not validated, as in JS) */
  readonly key: string;
}

/** JS `cjdnskeys.parseNodeName` regex, lenient about the key exactly as the original. */
const NODE_NAME_RE = /^v([0-9]+)\.([0-9a-f.]{19})\.([^.]{52}).k$/;

/** `v<version>.<label>.<key>.k` → parts; error message as JS: `failed to parse node name [<name>]`. */
export function parseNodeName(name: string): NodeName {
  const m = typeof name === 'string' ? NODE_NAME_RE.exec(name) : null;
  if (m === null)
    throw new RsError('RS_ERR_NODE_NAME_INVALID', `failed to parse node name [${String(name)}]`);
  return { v: Number(m[1]), path: m[2]!, key: m[3]! + '.k' };
}

/** (version, 19-char label, `.k` key string) → `v<version>.<label>.<key>`. */
export function formatNodeName(version: number, path: string, key: string): string {
  return `v${version}.${path}.${key}`;
}
