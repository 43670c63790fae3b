/**
 * The two frames of a pull — `[seq, "GET_DATA", hash]` and `[seq, "DATA", bin | nil]` — read
 * directly when they come in msgpack5's own form (a fixarray of 3, an unsigned integer seq, the
 * type as a fixstr, bin8/16/32 or nil, nothing after it). Every announcement pulled or served
 * passes through one of them; the general decoder (@msgpack/msgpack) builds a Decoder, an array,
 * the type string and a view per frame, about 1 KB of garbage each (issue 17).
 *
 * Anything else — another type, another encoding of the same values, a hash of the wrong length,
 * bytes after the frame — is `undefined`, and the general decoder decides (peer-frame.ts): this
 * reader never accepts what the general one refuses, and returns what it would (both tested on
 * random and mutated frames).
 */
import type { PeerMessage } from './peer-frame.ts';

const DATA = Uint8Array.of(0xa4, 0x44, 0x41, 0x54, 0x41);
const GET_DATA = Uint8Array.of(0xa8, 0x47, 0x45, 0x54, 0x5f, 0x44, 0x41, 0x54, 0x41);
const copy = Uint8Array.prototype.slice;

/** Where the last `uintAt` / `binLengthAt` ended (reading is synchronous: no one else runs meanwhile). */
let next = 0;

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/**
 * The big-endian unsigned integer after a marker `base` (1 byte), `base + 1` (2) or `base + 2`
 * (4) at `at` — msgpack's uint8/16/32 from 0xcc, bin8/16/32 lengths from 0xc4 — or −1.
 */
function sizedAt(b: Uint8Array, at: number, base: number): number {
  const k = b[at]! - base;
  if (!(k >= 0 && k <= 2)) return -1;
  const bytes = 1 << k;
  if (at + bytes >= b.length) return -1;
  next = at + 1 + bytes;
  if (bytes === 1) return b[at + 1]!;
  if (bytes === 2) return (b[at + 1]! << 8) | b[at + 2]!;
  return u32(b, at + 1);
}

/** A msgpack unsigned integer up to 2^53 − 1 at `at`, or −1. */
function uintAt(b: Uint8Array, at: number): number {
  const m = b[at];
  if (m === undefined) return -1;
  if (m <= 0x7f) {
    next = at + 1;
    return m;
  }
  if (m === 0xcf && at + 8 < b.length) {
    const hi = u32(b, at + 1);
    if (hi > 0x1fffff) return -1; // beyond a safe integer: the general decoder refuses it
    next = at + 9;
    return hi * 2 ** 32 + u32(b, at + 5);
  }
  return sizedAt(b, at, 0xcc);
}

/** The length of a bin8/16/32 at `at` (its bytes start at `next`), or −1. */
function binLengthAt(b: Uint8Array, at: number): number {
  return sizedAt(b, at, 0xc4);
}

function startsWith(b: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > b.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * GET_DATA or DATA in msgpack5's form, or undefined (the general decoder decides). `hashBytes`:
 * the hash length GET_DATA must have, null for any non-empty length.
 */
export function readPullFrame(b: Uint8Array, hashBytes: number | null): PeerMessage | undefined {
  if (b[0] !== 0x93) return undefined;
  const seq = uintAt(b, 1);
  if (seq < 0) return undefined;
  const at = next;
  if (startsWith(b, at, DATA)) {
    const p = at + DATA.length;
    if (b[p] === 0xc0) return p + 1 === b.length ? { type: 'DATA', seq, data: null } : undefined;
    const len = binLengthAt(b, p);
    if (len < 0 || next + len !== b.length) return undefined;
    return { type: 'DATA', seq, data: copy.call(b, next, b.length) };
  }
  if (startsWith(b, at, GET_DATA)) {
    const len = binLengthAt(b, at + GET_DATA.length);
    if (len <= 0 || next + len !== b.length) return undefined;
    if (hashBytes !== null && len !== hashBytes) return undefined;
    return { type: 'GET_DATA', seq, hash: copy.call(b, next, b.length) };
  }
  return undefined;
}
