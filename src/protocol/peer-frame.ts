import { decode as msgpackDecode, Encoder } from '@msgpack/msgpack';
import { RsError, isRsError } from '../errors.ts';
import { readPullFrame } from './peer-frame-pull.ts';

/**
 * Replication frames between route servers (docs/protocol.md §7.2): one msgpack array
 * `[seq, TYPE, ...args]` per WebSocket binary message.
 *
 * | frame                          | message                                   |
 * | ------------------------------ | ----------------------------------------- |
 * | `[seq, "HELLO", version]`      | accepting side's greeting                 |
 * | `[seq, "OLLEH", version]`      | connecting side's greeting                |
 * | `[seq, "INV", 0, [hash, …]]`   | hashes (64-byte bin); 3rd element a dummy |
 * | `[seq, "GET_DATA", hash]`      | request one announcement                  |
 * | `[seq, "DATA", bin \| nil]`    | the announcement, nil if unknown          |
 * | `[seq, "PING"]`, `[seq, "ACK"]`| keep-alive; ACK echoes the PING's seq     |
 *
 * Encoding is byte-identical to msgpack5 3.6 (the JS encoder). @msgpack/msgpack agrees with it for
 * strings (fixstr/str8/16/32), bin8/16/32, nil, arrays and every safe integer except one range:
 * msgpack5 compares negatives with `obj > -214748365` (a digit short of -2^31), so integers in
 * [-2^31, -214748365] come out as int64 (0xd3) there and int32 (0xd2) here. `encodeMsgpack5Int`
 * writes that range by hand. Sequence numbers are ms timestamps (uint64, 0xcf) in practice.
 *
 * Decoding follows the JS peer: a non-array, a `seq` that is not a number or a type that is not a
 * string is an error; unknown types decode to UNKNOWN (ignored). Stricter than JS, to keep the
 * types honest: `seq` and `version` must be safe integers, INV needs a list of hashes, GET_DATA a
 * hash, DATA bin or nil (a missing DATA payload reads as nil, which JS skips too), hashes must have
 * the configured length, and the frame size and INV length are bounded. Every failure is an
 * RsError with code RS_ERR_PEER_FRAME_INVALID.
 */

/** A frame bigger than this is refused before decoding (announcements are < 1 KiB). */
export const PEER_FRAME_MAX_BYTES = 1024 * 1024;
/** JS sends at most 128 hashes per INV; anything near this limit is abuse. */
export const PEER_INV_MAX_HASHES = 4096;
/** sha512 of the announcement. */
export const PEER_HASH_BYTES = 64;

export type PeerMessage =
  | { readonly type: 'HELLO' | 'OLLEH'; readonly seq: number; readonly version: number }
  | { readonly type: 'INV'; readonly seq: number; readonly hashes: readonly Uint8Array[] }
  | { readonly type: 'GET_DATA'; readonly seq: number; readonly hash: Uint8Array }
  | { readonly type: 'DATA'; readonly seq: number; readonly data: Uint8Array | null }
  | { readonly type: 'PING' | 'ACK'; readonly seq: number }
  | { readonly type: 'UNKNOWN'; readonly seq: number; readonly name: string };

export interface PeerFrameLimits {
  /** default PEER_FRAME_MAX_BYTES */
  readonly maxFrameBytes?: number;
  /** default PEER_INV_MAX_HASHES */
  readonly maxInvHashes?: number;
  /**
   * Required hash length in INV and GET_DATA; default PEER_HASH_BYTES. `null` accepts any
   * non-empty length (the Rust test vectors use 4-byte dummy hashes).
   */
  readonly hashBytes?: number | null;
}

function invalid(message: string, cause?: unknown): RsError {
  return new RsError(
    'RS_ERR_PEER_FRAME_INVALID',
    `invalid peer frame: ${message}`,
    cause !== undefined ? { cause } : undefined,
  );
}

// ---- encoding --------------------------------------------------------------------------------

/**
 * One msgpack encoder for this thread. The library's `encode()` builds a new Encoder, with a
 * 2 KiB buffer, on every call: three per frame made ~6 KB of garbage for every announcement
 * pulled or served (issue 17). `encodeSharedRef` returns a view into the encoder's buffer that
 * the next call overwrites, so each piece is copied into the frame at once.
 */
const encoder = new Encoder();
/** The frame being built (encodePeerFrame runs to completion: nothing else writes it meanwhile). */
const SCRATCH_BYTES = 4096;
let scratch = new Uint8Array(SCRATCH_BYTES);
let used = 0;
/** fixarray headers by length */
const FIXARRAY = [0, 1, 2, 3, 4].map((n) => Uint8Array.of(0x90 | n));

function put(bytes: Uint8Array): void {
  if (used + bytes.length > scratch.length) {
    const bigger = new Uint8Array(Math.max(scratch.length * 2, used + bytes.length));
    bigger.set(scratch.subarray(0, used));
    scratch = bigger;
  }
  scratch.set(bytes, used);
  used += bytes.length;
}

function putValue(value: unknown): void {
  put(encoder.encodeSharedRef(value));
}

/** msgpack5's integer encoding of `n` (see the file comment) into the frame. */
function putMsgpack5Int(n: number): void {
  if (!Number.isSafeInteger(n)) throw invalid(`cannot encode ${n}: not a safe integer`);
  if (n >= -2147483648 && n <= -214748365) {
    const out = new Uint8Array(9);
    out[0] = 0xd3;
    new DataView(out.buffer).setBigInt64(1, BigInt(n));
    put(out);
    return;
  }
  putValue(n);
}

/** msgpack5's integer encoding (see the file comment). */
export function encodeMsgpack5Int(n: number): Uint8Array {
  used = 0;
  putMsgpack5Int(n);
  return scratch.slice(0, used);
}

/** Encode a message as msgpack5 3.6 would encode the JS array. */
export function encodePeerFrame(msg: PeerMessage): Uint8Array {
  used = 0;
  // frames have 2..4 elements: always a fixarray
  const header = (n: number): void => put(FIXARRAY[n]!);
  switch (msg.type) {
    case 'HELLO':
    case 'OLLEH':
      header(3);
      putMsgpack5Int(msg.seq);
      putValue(msg.type);
      putMsgpack5Int(msg.version);
      break;
    case 'INV':
      header(4);
      putMsgpack5Int(msg.seq);
      putValue('INV');
      putMsgpack5Int(0);
      putValue(msg.hashes);
      break;
    case 'GET_DATA':
      header(3);
      putMsgpack5Int(msg.seq);
      putValue('GET_DATA');
      putValue(msg.hash);
      break;
    case 'DATA':
      header(3);
      putMsgpack5Int(msg.seq);
      putValue('DATA');
      putValue(msg.data);
      break;
    case 'PING':
    case 'ACK':
      header(2);
      putMsgpack5Int(msg.seq);
      putValue(msg.type);
      break;
    case 'UNKNOWN':
      header(2);
      putMsgpack5Int(msg.seq);
      putValue(msg.name);
      break;
  }
  // a pooled Buffer for the frame (one small allocation, no ArrayBuffer of its own)
  const frame = Buffer.allocUnsafe(used);
  frame.set(scratch.subarray(0, used));
  if (scratch.length > SCRATCH_BYTES * 16) scratch = new Uint8Array(SCRATCH_BYTES); // a big INV or DATA
  return new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
}

// ---- decoding --------------------------------------------------------------------------------

function checkHash(v: unknown, hashBytes: number | null, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalid(`${what} is not bin`);
  if (v.length === 0) throw invalid(`${what} is empty`);
  if (hashBytes !== null && v.length !== hashBytes) {
    throw invalid(`${what} is ${v.length} bytes, expected ${hashBytes}`);
  }
  return v.slice(); // own copy: the decoder hands out views into the frame buffer
}

function safeInt(v: unknown, what: string): number {
  if (typeof v !== 'number') throw invalid(`${what} is not a number`);
  if (!Number.isSafeInteger(v)) throw invalid(`${what} ${v} is not a safe integer`);
  return v;
}

/**
 * Decode one frame. Throws RsError RS_ERR_PEER_FRAME_INVALID, never anything else. GET_DATA and
 * DATA in msgpack5's form are read directly (peer-frame-pull.ts); every other frame, and any
 * other form of those, goes through `decodePeerFrameInFull`, with the same result.
 */
export function decodePeerFrame(bytes: Uint8Array, limits: PeerFrameLimits = {}): PeerMessage {
  checkFrameSize(bytes, limits);
  return readPullFrame(bytes, hashBytesOf(limits)) ?? decodeSized(bytes, limits);
}

function hashBytesOf(limits: PeerFrameLimits): number | null {
  return limits.hashBytes === undefined ? PEER_HASH_BYTES : limits.hashBytes;
}

function checkFrameSize(bytes: Uint8Array, limits: PeerFrameLimits): void {
  const maxFrameBytes = limits.maxFrameBytes ?? PEER_FRAME_MAX_BYTES;
  if (bytes.length === 0) throw invalid('empty frame');
  if (bytes.length > maxFrameBytes)
    throw invalid(`frame of ${bytes.length} bytes exceeds ${maxFrameBytes}`);
}

/** Decode one frame with the general msgpack decoder (what `decodePeerFrame` does for all but the pull's two frames). */
export function decodePeerFrameInFull(
  bytes: Uint8Array,
  limits: PeerFrameLimits = {},
): PeerMessage {
  checkFrameSize(bytes, limits);
  return decodeSized(bytes, limits);
}

/** The general decoder, for a frame whose size was checked. */
function decodeSized(bytes: Uint8Array, limits: PeerFrameLimits): PeerMessage {
  const maxInvHashes = limits.maxInvHashes ?? PEER_INV_MAX_HASHES;
  const hashBytes = hashBytesOf(limits);

  let frame: unknown;
  try {
    // every element takes at least one byte, so the input length bounds every declared length
    const n = bytes.length;
    frame = msgpackDecode(bytes, {
      maxStrLength: n,
      maxBinLength: n,
      maxArrayLength: n,
      maxMapLength: n,
      maxExtLength: n,
    });
  } catch (e) {
    if (isRsError(e)) throw e;
    throw invalid(`undecodable msgpack (${e instanceof Error ? e.message : String(e)})`, e);
  }

  if (!Array.isArray(frame)) throw invalid('not an array');
  const [rawSeq, type] = frame as unknown[];
  const seq = safeInt(rawSeq, 'seq');
  if (typeof type !== 'string') throw invalid('type is not a string');
  const args = frame.slice(2) as unknown[];

  switch (type) {
    case 'HELLO':
    case 'OLLEH':
      return { type, seq, version: safeInt(args[0], `${type} version`) };
    case 'INV': {
      const list = args[1];
      if (!Array.isArray(list)) throw invalid('INV without a hash list');
      if (list.length > maxInvHashes)
        throw invalid(`INV with ${list.length} hashes exceeds ${maxInvHashes}`);
      return { type, seq, hashes: list.map((h, i) => checkHash(h, hashBytes, `INV hash ${i}`)) };
    }
    case 'GET_DATA':
      return { type, seq, hash: checkHash(args[0], hashBytes, 'GET_DATA hash') };
    case 'DATA': {
      const data = args[0];
      if (data === undefined || data === null) return { type, seq, data: null };
      if (!(data instanceof Uint8Array)) throw invalid('DATA payload is neither bin nor nil');
      return { type, seq, data: data.slice() };
    }
    case 'PING':
    case 'ACK':
      return { type, seq };
    default:
      return { type: 'UNKNOWN', seq, name: type };
  }
}
