import { RsError } from '../errors.ts';

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Strict hex → bytes: even length, hex digits only. */
export function hexToBytes(hex: string): Uint8Array {
  if (!HEX_RE.test(hex))
    throw new RsError('RS_ERR_HEX_INVALID', `not a valid hex string: ${hex.slice(0, 40)}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Little-endian bytes → unsigned integer (ed25519/curve25519 field elements and scalars). */
export function leBytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** Unsigned integer → 32 little-endian bytes (the value must be below 2^256). */
export function bigIntTo32LeBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}
