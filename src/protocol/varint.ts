/**
 * cjdns VarInt (C `util/VarInt.h`, docs/protocol.md §1.10) — big endian, unlike Bitcoin's:
 *
 *   value < 0xfd          1 byte:  the value
 *   value ≤ 0xffff        fd + 2 bytes BE
 *   value ≤ 0xffffffff    fe + 4 bytes BE
 *   otherwise             ff + 8 bytes BE
 *
 * Readers accept non-shortest forms (as C and JS do). A marker without enough following bytes is
 * a truncation error (JS: `runt`).
 */
import { RsError, type ErrorCode } from '../errors.ts';
import type { ByteReader } from './byte-reader.ts';

const MAX_U64 = (1n << 64n) - 1n;

/** Number of payload bytes that follow a first byte `b` (0, 2, 4 or 8). */
export function varIntPayloadLength(firstByte: number): number {
  return firstByte < 0xfd ? 0 : firstByte === 0xfd ? 2 : firstByte === 0xfe ? 4 : 8;
}

/** Encoded size of `value` in the shortest form. */
export function varIntSize(value: bigint | number): number {
  const v = BigInt(value);
  return v < 0xfdn ? 1 : v <= 0xffffn ? 3 : v <= 0xffffffffn ? 5 : 9;
}

/** Shortest encoding of `value` (0 ≤ value < 2^64, else RS_ERR_INPUT_INVALID). */
export function writeVarInt(value: bigint | number): Uint8Array {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RsError('RS_ERR_INPUT_INVALID', `varint value ${value} is not a safe integer`);
  }
  const v = BigInt(value);
  if (v < 0n || v > MAX_U64)
    throw new RsError('RS_ERR_INPUT_INVALID', `varint value ${v} out of range`);
  const size = varIntSize(v);
  const out = new Uint8Array(size);
  if (size === 1) {
    out[0] = Number(v);
    return out;
  }
  out[0] = size === 3 ? 0xfd : size === 5 ? 0xfe : 0xff;
  let x = v;
  for (let i = size - 1; i >= 1; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** Concatenated shortest encodings of `values`. */
export function writeVarInts(values: ReadonlyArray<bigint | number>): Uint8Array {
  const parts = values.map(writeVarInt);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Read one varint exactly (as bigint). Truncation throws the reader's RsError. */
export function readVarInt(reader: ByteReader): bigint {
  const first = reader.u8('varint');
  const n = varIntPayloadLength(first);
  if (n === 0) return BigInt(first);
  if (n === 2) return BigInt(reader.u16('varint'));
  if (n === 4) return BigInt(reader.u32('varint'));
  return reader.u64('varint');
}

/**
 * Read one varint as a double exactly as JS `cjdnsann` does (`out = out * 256 + byte`, so values
 * above 2^53 are rounded step by step). Reads `bytes` from `offset`; returns the value and the
 * next offset, or throws RsError(`code`, `message`) if the encoding runs past `bytes.length`.
 */
export function readVarIntDouble(
  bytes: Uint8Array,
  offset: number,
  code: ErrorCode = 'RS_ERR_INPUT_TRUNCATED',
  message = 'runt',
): { value: number; next: number } {
  if (offset >= bytes.length) throw new RsError(code, message);
  const first = bytes[offset]!;
  const n = varIntPayloadLength(first);
  if (n === 0) return { value: first, next: offset + 1 };
  if (bytes.length - offset - 1 < n) throw new RsError(code, message);
  let out = 0;
  for (let i = 1; i <= n; i++) out = out * 256 + bytes[offset + i]!;
  return { value: out, next: offset + 1 + n };
}
