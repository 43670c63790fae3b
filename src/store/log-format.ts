/**
 * The announcement log's bytes (docs/store.md, "File format"): a 16-byte header, then records,
 * each one checksummed so that a torn or damaged tail is recognised and cut off on reload.
 *
 * ```
 * header  "SNODEANN" | u32 BE format version (1) | u32 BE crc32 of the 12 bytes before
 * record  u32 BE body length L | u32 BE crc32(length bytes ‖ body) | body (L bytes)
 * body    kind 1 = PUT: u8 1 | hash (64) | announcement (120 .. MAX_ANNOUNCEMENT_BYTES) | node key (32)
 *         kind 2 = DEL: u8 2 | hash (64)
 * ```
 * `hash` is the announcement's identity (sha512 of its bytes, docs/protocol.md §7.4); a DEL
 * names a PUT written earlier. The node key is the announcer's curve25519 key, derived from the
 * signing key when the announcement was accepted: a restart reads it back instead of converting
 * every node's key again (an ed25519 → curve25519 conversion costs ~100 µs in JavaScript).
 * Integers are big endian. Announcements stay the bytes that were accepted.
 */
import { crc32 } from 'node:zlib';

export const LOG_MAGIC = Buffer.from('SNODEANN', 'latin1');
export const LOG_FORMAT_VERSION = 1;
export const LOG_HEADER_BYTES = 16;
export const RECORD_PREFIX_BYTES = 8;
export const HASH_BYTES = 64;
export const NODE_KEY_BYTES = 32;
/** an announcement is at least its signed header (docs/protocol.md §1) */
export const MIN_ANNOUNCEMENT_BYTES = 120;
/** the largest announcement the log stores (a replication frame's bound; cjdns sends < 1500) */
export const MAX_ANNOUNCEMENT_BYTES = 1024 * 1024;
const PUT = 1;
const DEL = 2;
const DEL_BODY_BYTES = 1 + HASH_BYTES;
const MIN_PUT_BODY_BYTES = 1 + HASH_BYTES + MIN_ANNOUNCEMENT_BYTES + NODE_KEY_BYTES;
const MAX_BODY_BYTES = 1 + HASH_BYTES + MAX_ANNOUNCEMENT_BYTES + NODE_KEY_BYTES;

export type LogRecord =
  | {
      readonly kind: 'put';
      readonly hash: Uint8Array;
      readonly announcement: Uint8Array;
      readonly nodeKey: Uint8Array;
    }
  | { readonly kind: 'del'; readonly hash: Uint8Array };

/** The 16 bytes every log file starts with. */
export function encodeLogHeader(): Uint8Array {
  const out = Buffer.alloc(LOG_HEADER_BYTES);
  LOG_MAGIC.copy(out, 0);
  out.writeUInt32BE(LOG_FORMAT_VERSION, 8);
  out.writeUInt32BE(crc32(out.subarray(0, 12)), 12);
  return out;
}

export type HeaderCheck = 'ok' | 'short' | 'foreign' | 'unsupported_version';

/** Whether `bytes` start with a valid header (`short`: fewer than 16 bytes). */
export function checkLogHeader(bytes: Uint8Array): HeaderCheck {
  if (bytes.length < LOG_HEADER_BYTES) return 'short';
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, LOG_HEADER_BYTES);
  if (!b.subarray(0, 8).equals(LOG_MAGIC) || b.readUInt32BE(12) !== crc32(b.subarray(0, 12)))
    return 'foreign';
  return b.readUInt32BE(8) === LOG_FORMAT_VERSION ? 'ok' : 'unsupported_version';
}

/** True when `announcement` fits a PUT record. */
export function storableAnnouncement(announcement: Uint8Array): boolean {
  return (
    announcement.length >= MIN_ANNOUNCEMENT_BYTES && announcement.length <= MAX_ANNOUNCEMENT_BYTES
  );
}

/** One PUT record (the caller checks `storableAnnouncement` first). */
export function encodePut(
  hash: Uint8Array,
  announcement: Uint8Array,
  nodeKey: Uint8Array,
): Uint8Array {
  if (
    hash.length !== HASH_BYTES ||
    nodeKey.length !== NODE_KEY_BYTES ||
    !storableAnnouncement(announcement)
  ) {
    throw new RangeError('not a storable announcement');
  }
  const body = 1 + HASH_BYTES + announcement.length + NODE_KEY_BYTES;
  const out = Buffer.allocUnsafe(RECORD_PREFIX_BYTES + body);
  out[8] = PUT;
  out.set(hash, 9);
  out.set(announcement, 9 + HASH_BYTES);
  out.set(nodeKey, 9 + HASH_BYTES + announcement.length);
  return seal(out, body);
}

/** One DEL record. */
export function encodeDel(hash: Uint8Array): Uint8Array {
  if (hash.length !== HASH_BYTES) throw new RangeError('a hash has 64 bytes');
  const out = Buffer.allocUnsafe(RECORD_PREFIX_BYTES + DEL_BODY_BYTES);
  out[8] = DEL;
  out.set(hash, 9);
  return seal(out, DEL_BODY_BYTES);
}

function seal(out: Buffer, body: number): Uint8Array {
  out.writeUInt32BE(body, 0);
  out.writeUInt32BE(crc32(out.subarray(8), crc32(out.subarray(0, 4))), 4);
  return out;
}

/** What the decoder found at an offset. */
export type DecodeStep =
  | { readonly ok: true; readonly record: LogRecord; readonly size: number }
  /** more bytes are needed to tell (the end of the input: a torn record) */
  | { readonly ok: false; readonly reason: 'incomplete' }
  | { readonly ok: false; readonly reason: 'bad_length' | 'bad_checksum' | 'bad_kind' };

/**
 * Decode the record at `bytes[offset..]`. Every field is checked before it is trusted: the
 * length against the kind's bounds, the checksum over length and body, the kind. The
 * announcement and the node key are views into one copy (they outlive the read buffer); the
 * hash is a view into `bytes`: copy it to keep it.
 */
export function decodeRecord(bytes: Uint8Array, offset: number): DecodeStep {
  const avail = bytes.length - offset;
  if (avail < RECORD_PREFIX_BYTES) return { ok: false, reason: 'incomplete' };
  const body = u32(bytes, offset);
  if (
    body < DEL_BODY_BYTES ||
    body > MAX_BODY_BYTES ||
    (body > DEL_BODY_BYTES && body < MIN_PUT_BODY_BYTES)
  ) {
    return { ok: false, reason: 'bad_length' };
  }
  if (avail < RECORD_PREFIX_BYTES + body) return { ok: false, reason: 'incomplete' };
  const start = offset + RECORD_PREFIX_BYTES;
  const content = bytes.subarray(start, start + body);
  if (u32(bytes, offset + 4) !== crc32(content, crc32(bytes.subarray(offset, offset + 4))))
    return { ok: false, reason: 'bad_checksum' };
  const kind = content[0];
  const size = RECORD_PREFIX_BYTES + body;
  if (kind === DEL && body === DEL_BODY_BYTES)
    return { ok: true, record: { kind: 'del', hash: content.subarray(1, 1 + HASH_BYTES) }, size };
  if (kind === PUT && body > DEL_BODY_BYTES) {
    const tail = copy(content, 1 + HASH_BYTES, body);
    const annEnd = tail.length - NODE_KEY_BYTES;
    return {
      ok: true,
      record: {
        kind: 'put',
        hash: content.subarray(1, 1 + HASH_BYTES),
        announcement: tail.subarray(0, annEnd),
        nodeKey: tail.subarray(annEnd),
      },
      size,
    };
  }
  return { ok: false, reason: 'bad_kind' };
}

/** A copy with its own buffer (a Buffer's `slice` would be a view). */
function copy(b: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(b.subarray(from, to));
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}
