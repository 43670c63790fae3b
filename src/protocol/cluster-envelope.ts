/**
 * The cluster bus wire formats (docs/cluster.md): what one route-server process tells the others
 * of the same cluster through Redis. Binary, parsed with the bounds-checked reader and explicit
 * limits — even our own processes' messages are validated (STYLE: OpenBGPD B3). Every failure is
 * RsError RS_ERR_CLUSTER_ENVELOPE.
 *
 * Envelope (the value of a stream entry's `e` field, of a per-node snapshot key, and the tail of
 * a pub/sub frame):
 *
 * ```
 *  0      2   magic "CB" (0x43 0x42)
 *  2      1   format version (1)
 *  3      1   kind: 1 = ANN (one accepted announcement), 2 = SNAPSHOT (a node's resetMsg, then its
 *             kept announcements oldest first), 3 = DELTA (one accepted announcement and the record
 *             delta its origin computed from it: cluster-delta.ts)
 *  4      1   origin length L, 1..64
 *  5      L   origin: the process that accepted it, ASCII [0-9A-Za-z._:@-]
 *  5+L    8   seq, u64 BE: per-origin sequence number, 1..2^53-1
 *  13+L   8   acceptedAtMs, u64 BE: the origin's clock when it accepted (replication-lag figure)
 *  21+L  16   nodeIp: the announcing node (fc00::/8)
 *  37+L   2   count N of announcements: ANN exactly 1, SNAPSHOT 1..MAX_SNAPSHOT_ANNS
 *  39+L   …   N × (u32 BE length, 120..MAX_ANN_BYTES, then the announcement's raw bytes)
 * ```
 * DELTA: then u32 BE length D (1..MAX_DELTA_BYTES) and the delta's D bytes. Nothing else may follow
 * the last announcement; the whole envelope is at most MAX_ENVELOPE_BYTES.
 *
 * Around it, two ASCII-prefixed forms carry Redis stream ids (`<ms>-<seq>`):
 *  - pub/sub frame: `<id> SP <prevId> SP <envelope>` — `prevId` is the id of the stream entry
 *    before this one, so a subscriber detects any missed frame (a broken chain);
 *  - snapshot record: `<id> SP <envelope>` — the stream id the snapshot is current with.
 */
import { RsError } from '../errors.ts';
import { BytesMemo } from '../lib/bytes-memo.ts';
import { ByteReader, writeU16BE, writeU32BE, writeU64BE } from './byte-reader.ts';
import { ip6FromString, ip6ToString } from './keys.ts';

export const CLUSTER_ENVELOPE_MAGIC = Uint8Array.of(0x43, 0x42);
export const CLUSTER_ENVELOPE_VERSION = 1;
/** an announcement is at least its 120-byte header */
export const MIN_ANN_BYTES = 120;
/** far above any real announcement (cjdns sends them in one UDP datagram) */
export const MAX_ANN_BYTES = 64 * 1024;
/** kept announcements of one node are a handful; the bound only stops garbage */
export const MAX_SNAPSHOT_ANNS = 4096;
export const MAX_ENVELOPE_BYTES = 4 * 1024 * 1024;
export const MAX_ORIGIN_LENGTH = 64;
/** a delta carries a node's links: far below this for any real node */
export const MAX_DELTA_BYTES = 2 * 1024 * 1024;
const ORIGIN_RE = /^[0-9A-Za-z._:@-]{1,64}$/;
const MAX_STREAM_ID_LENGTH = 41;

export type ClusterEnvelope =
  | {
      readonly kind: 'ann';
      readonly origin: string;
      readonly seq: number;
      readonly acceptedAtMs: number;
      /** 39-char IPv6 */
      readonly nodeIp: string;
      readonly ann: Uint8Array;
    }
  | {
      readonly kind: 'delta';
      readonly origin: string;
      readonly seq: number;
      readonly acceptedAtMs: number;
      readonly nodeIp: string;
      readonly ann: Uint8Array;
      /** the encoded record delta (cluster-delta.ts; decoded by whoever applies it) */
      readonly delta: Uint8Array;
    }
  | {
      readonly kind: 'snapshot';
      readonly origin: string;
      readonly seq: number;
      readonly acceptedAtMs: number;
      readonly nodeIp: string;
      readonly resetMsg: Uint8Array;
      /** kept announcements, oldest first (may start with resetMsg itself) */
      readonly keptOldestFirst: readonly Uint8Array[];
    };

const KIND_ANN = 1;
const KIND_SNAPSHOT = 2;
const KIND_DELTA = 3;

function bad(why: string): RsError {
  return new RsError('RS_ERR_CLUSTER_ENVELOPE', `invalid cluster envelope: ${why}`);
}

export function isValidOrigin(origin: string): boolean {
  return ORIGIN_RE.test(origin);
}

export function encodeClusterEnvelope(env: ClusterEnvelope): Uint8Array {
  if (!isValidOrigin(env.origin)) throw bad(`origin ${JSON.stringify(env.origin.slice(0, 80))}`);
  if (!Number.isSafeInteger(env.seq) || env.seq < 1) throw bad(`seq ${env.seq}`);
  if (!Number.isSafeInteger(env.acceptedAtMs) || env.acceptedAtMs < 0)
    throw bad(`acceptedAtMs ${env.acceptedAtMs}`);
  let nodeIp: Uint8Array;
  try {
    nodeIp = ip6FromString(env.nodeIp);
  } catch (e) {
    throw new RsError('RS_ERR_CLUSTER_ENVELOPE', `invalid cluster envelope: nodeIp ${env.nodeIp}`, {
      cause: e,
    });
  }
  if (nodeIp[0] !== 0xfc) throw bad(`nodeIp ${env.nodeIp} is not fc00::/8`);
  const anns = env.kind === 'snapshot' ? [env.resetMsg, ...env.keptOldestFirst] : [env.ann];
  if (anns.length > MAX_SNAPSHOT_ANNS)
    throw bad(`${anns.length} announcements > ${MAX_SNAPSHOT_ANNS}`);
  const origin = Buffer.from(env.origin, 'latin1');
  const parts: Uint8Array[] = [
    CLUSTER_ENVELOPE_MAGIC,
    Uint8Array.of(
      CLUSTER_ENVELOPE_VERSION,
      env.kind === 'ann' ? KIND_ANN : env.kind === 'delta' ? KIND_DELTA : KIND_SNAPSHOT,
      origin.length,
    ),
    origin,
    writeU64BE(BigInt(env.seq)),
    writeU64BE(BigInt(env.acceptedAtMs)),
    nodeIp,
    writeU16BE(anns.length),
  ];
  let size = 0;
  for (const a of anns) {
    if (a.length < MIN_ANN_BYTES || a.length > MAX_ANN_BYTES)
      throw bad(`announcement of ${a.length} bytes`);
    parts.push(writeU32BE(a.length), a);
    size += 4 + a.length;
  }
  if (env.kind === 'delta') {
    if (env.delta.length < 1 || env.delta.length > MAX_DELTA_BYTES)
      throw bad(`delta of ${env.delta.length} bytes`);
    parts.push(writeU32BE(env.delta.length), env.delta);
    size += 4 + env.delta.length;
  }
  if (size > MAX_ENVELOPE_BYTES) throw bad(`envelope larger than ${MAX_ENVELOPE_BYTES} bytes`);
  return new Uint8Array(Buffer.concat(parts));
}

/** A u64 that must fit a double exactly (read as two u32: no BigInt per envelope). */
function safeU64(r: ByteReader, what: string): number {
  const hi = r.u32(what);
  const lo = r.u32(what);
  if (hi > 0x1fffff) throw bad(`${what} ${(BigInt(hi) << 32n) | BigInt(lo)} exceeds 2^53-1`);
  return hi * 0x1_0000_0000 + lo;
}

/** The origins decoded lately (a cluster has a handful of processes), by their bytes. */
const origins = new BytesMemo(64, (bytes: Uint8Array): string => {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (!isValidOrigin(text)) throw bad('origin has characters outside [0-9A-Za-z._:@-]');
  return text;
});

/** The next announcement (u32 length, then its bytes: a view). */
function annAt(r: ByteReader, i: number): Uint8Array {
  const len = r.u32('announcement length');
  if (len < MIN_ANN_BYTES || len > MAX_ANN_BYTES) throw bad(`announcement ${i} of ${len} bytes`);
  return r.take(len, `announcement ${i}`);
}

/**
 * Parse an envelope; RsError RS_ERR_CLUSTER_ENVELOPE on anything unexpected. The announcements
 * and the delta are views of `bytes`, not copies: pass bytes the caller owns (the buses copy
 * what they read off a connection once, cluster/bus.ts), and copy what outlives them.
 */
export function decodeClusterEnvelope(bytes: Uint8Array): ClusterEnvelope {
  if (!(bytes instanceof Uint8Array)) throw bad('not bytes');
  if (bytes.length > MAX_ENVELOPE_BYTES) throw bad(`${bytes.length} bytes > ${MAX_ENVELOPE_BYTES}`);
  const r = new ByteReader(bytes, 'RS_ERR_CLUSTER_ENVELOPE');
  const magic = r.take(2, 'magic');
  if (magic[0] !== CLUSTER_ENVELOPE_MAGIC[0] || magic[1] !== CLUSTER_ENVELOPE_MAGIC[1])
    throw bad('bad magic');
  const version = r.u8('version');
  if (version !== CLUSTER_ENVELOPE_VERSION) throw bad(`unsupported format version ${version}`);
  const kind = r.u8('kind');
  if (kind !== KIND_ANN && kind !== KIND_SNAPSHOT && kind !== KIND_DELTA)
    throw bad(`unknown kind ${kind}`);
  const originLength = r.u8('origin length');
  if (originLength < 1 || originLength > MAX_ORIGIN_LENGTH)
    throw bad(`origin length ${originLength}`);
  const origin = origins.get(r.take(originLength, 'origin'));
  const seq = safeU64(r, 'seq');
  if (seq < 1) throw bad('seq 0');
  const acceptedAtMs = safeU64(r, 'acceptedAtMs');
  const ipBytes = r.take(16, 'nodeIp');
  if (ipBytes[0] !== 0xfc) throw bad('nodeIp is not fc00::/8');
  const nodeIp = ip6ToString(ipBytes);
  const count = r.u16('count');
  if (kind !== KIND_SNAPSHOT && count !== 1)
    throw bad(
      `an ${kind === KIND_ANN ? 'ANN' : 'DELTA'} envelope carries exactly 1 announcement, not ${count}`,
    );
  if (count < 1 || count > MAX_SNAPSHOT_ANNS) throw bad(`announcement count ${count}`);
  if (kind === KIND_DELTA) {
    const ann = annAt(r, 0);
    const len = r.u32('delta length');
    if (len < 1 || len > MAX_DELTA_BYTES) throw bad(`delta of ${len} bytes`);
    const delta = r.take(len, 'delta');
    if (!r.atEnd()) throw bad(`${r.remaining} byte(s) of garbage after the delta`);
    return { kind: 'delta', origin, seq, acceptedAtMs, nodeIp, ann, delta };
  }
  const anns: Uint8Array[] = [];
  for (let i = 0; i < count; i++) anns.push(annAt(r, i));
  if (!r.atEnd()) throw bad(`${r.remaining} byte(s) of garbage after the last announcement`);
  if (kind === KIND_ANN) return { kind: 'ann', origin, seq, acceptedAtMs, nodeIp, ann: anns[0]! };
  return {
    kind: 'snapshot',
    origin,
    seq,
    acceptedAtMs,
    nodeIp,
    resetMsg: anns[0]!,
    keptOldestFirst: anns.slice(1),
  };
}

// ---- stream ids ----------------------------------------------------------------------------

/** The id before every entry: "nothing applied yet". */
export const STREAM_ID_ZERO = '0-0';

/** Position of the `-` of a stream id (`\d{1,20}-\d{1,20}`), or -1 when `id` is not one. */
function dashOf(id: string): number {
  const n = id.length;
  if (n < 3 || n > MAX_STREAM_ID_LENGTH) return -1;
  let dash = -1;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c === 0x2d) {
      if (dash >= 0) return -1;
      dash = i;
    } else if (c < 0x30 || c > 0x39) return -1;
  }
  return dash >= 1 && dash <= 20 && n - dash - 1 >= 1 && n - dash - 1 <= 20 ? dash : -1;
}

export function isStreamId(id: string): boolean {
  return dashOf(id) >= 0;
}

/** Order of the decimal numbers a[af, at) and b[bf, bt) (digits only): exact at any length. */
function compareDecimals(
  a: string,
  af: number,
  at: number,
  b: string,
  bf: number,
  bt: number,
): number {
  while (af < at - 1 && a.charCodeAt(af) === 0x30) af++;
  while (bf < bt - 1 && b.charCodeAt(bf) === 0x30) bf++;
  if (at - af !== bt - bf) return at - af - (bt - bf);
  for (; af < at; af++, bf++) {
    const d = a.charCodeAt(af) - b.charCodeAt(bf);
    if (d !== 0) return d;
  }
  return 0;
}

function dashOrThrow(id: string): number {
  const dash = dashOf(id);
  if (dash < 0) throw bad(`stream id ${JSON.stringify(id.slice(0, 50))}`);
  return dash;
}

/** Order of two Redis stream ids: negative, 0, positive (their numbers compared as decimals, no
 *  BigInt: this runs several times for every record entry). */
export function compareStreamIds(a: string, b: string): number {
  if (a === b) return 0;
  const da = dashOrThrow(a);
  const db = dashOrThrow(b);
  const ms = compareDecimals(a, 0, da, b, 0, db);
  if (ms !== 0) return ms < 0 ? -1 : 1;
  const seq = compareDecimals(a, da + 1, a.length, b, db + 1, b.length);
  return seq < 0 ? -1 : seq > 0 ? 1 : 0;
}

// ---- frames and snapshot records -------------------------------------------------------------

export interface ClusterFrame {
  /** stream id of this entry */
  readonly id: string;
  /** stream id of the entry before it (STREAM_ID_ZERO for the first one ever) */
  readonly prevId: string;
  /** the encoded envelope (decode with decodeClusterEnvelope) */
  readonly envelope: Uint8Array;
}

const SP = 0x20;

/** Split `<ascii id> SP` off the front of `bytes`; returns the id and the offset after the space. */
function takeId(bytes: Uint8Array, from: number, what: string): [string, number] {
  const limit = Math.min(bytes.length, from + MAX_STREAM_ID_LENGTH + 1);
  for (let i = from; i < limit; i++) {
    if (bytes[i] === SP) {
      const id = Buffer.from(bytes.subarray(from, i)).toString('latin1');
      if (!isStreamId(id)) throw bad(`${what} ${JSON.stringify(id)} is not a stream id`);
      return [id, i + 1];
    }
  }
  throw bad(`no ${what} prefix`);
}

export function encodeClusterFrame(frame: ClusterFrame): Uint8Array {
  if (!isStreamId(frame.id) || !isStreamId(frame.prevId)) throw bad('frame ids');
  return new Uint8Array(
    Buffer.concat([Buffer.from(`${frame.id} ${frame.prevId} `, 'latin1'), frame.envelope]),
  );
}

/** Parse a pub/sub frame (the envelope itself is decoded separately). */
export function decodeClusterFrame(bytes: Uint8Array): ClusterFrame {
  if (bytes.length > MAX_ENVELOPE_BYTES + 2 * (MAX_STREAM_ID_LENGTH + 1))
    throw bad('frame too large');
  const [id, afterId] = takeId(bytes, 0, 'id');
  const [prevId, afterPrev] = takeId(bytes, afterId, 'prevId');
  return { id, prevId, envelope: bytes.subarray(afterPrev) };
}

export interface SnapshotRecord {
  /** the stream id the snapshot is current with */
  readonly id: string;
  readonly envelope: Uint8Array;
}

export function encodeSnapshotRecord(rec: SnapshotRecord): Uint8Array {
  if (!isStreamId(rec.id)) throw bad('snapshot id');
  return new Uint8Array(Buffer.concat([Buffer.from(`${rec.id} `, 'latin1'), rec.envelope]));
}

export function decodeSnapshotRecord(bytes: Uint8Array): SnapshotRecord {
  const [id, after] = takeId(bytes, 0, 'id');
  return { id, envelope: bytes.subarray(after) };
}
