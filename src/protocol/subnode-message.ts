import { RsError } from '../errors.ts';
import { type BDict, type BValue, bstr, isBDict, utf8Bytes } from './bencode.ts';
import { writeU64BE } from './byte-reader.ts';
import { parsePcQuery, type PcQuery } from './seeder-message.ts';

/**
 * Subnode queries (cjdns node → route server) and the route server's replies, as bencoded
 * dictionaries (docs/protocol.md §5). Pure: no clock (callers pass `recvTime`), no I/O.
 *
 * Queries carry `sq` (`ann`, `gr`, `pn`; `pc` is the peering seeder's, seeder-message.ts), `txid` (echoed byte for byte), `p` (sender's
 * protocol version) and usually `es`/`ei`. A dictionary without `sq` is ordinary DHT traffic that
 * the handler also sees; it is classified as `dht` and must be ignored.
 *
 * Replies reproduce the original JS route server byte for byte once bencoded:
 * - `gr` and `pn` echo the request dictionary minus `sq`/`src`/`tar` plus new keys;
 * - `ann` is a new dictionary `{error, p, recvTime, stateHash, txid}`.
 */

/** Length of a route entry in a `gr` reply's `n`: 32-byte key ‖ 8-byte big-endian label. */
export const ROUTE_ENTRY_BYTES = 40;
export const STATE_HASH_BYTES = 64;
const IP6_BYTES = 16;
const KEY_BYTES = 32;

interface QueryBase {
  /** the whole request dictionary, as decoded */
  readonly raw: BDict;
}

export interface AnnQuery extends QueryBase {
  readonly kind: 'ann';
  readonly txid: Uint8Array;
  /** the announcement bytes; undefined when the key is missing (JS: no reply) */
  readonly ann: Uint8Array | undefined;
  readonly p?: number;
}

export interface GrQuery extends QueryBase {
  readonly kind: 'gr';
  readonly txid: Uint8Array;
  /** 16-byte fc… address; undefined when missing (JS: no reply) */
  readonly src?: Uint8Array;
  readonly tar?: Uint8Array;
  readonly p?: number;
}

export interface PnQuery extends QueryBase {
  readonly kind: 'pn';
  readonly txid: Uint8Array;
  readonly p?: number;
}

/** An `sq` the route server does not implement: no reply. */
export interface OtherQuery extends QueryBase {
  readonly kind: 'other';
  readonly sq: string;
}

/** No `sq` key: ordinary DHT traffic the handler also receives; ignore. */
export interface DhtMessage extends QueryBase {
  readonly kind: 'dht';
}

export type { PcQuery } from './seeder-message.ts';

export type SubnodeQuery = AnnQuery | GrQuery | PnQuery | PcQuery | OtherQuery | DhtMessage;

function invalid(message: string): RsError {
  return new RsError('RS_ERR_SUBNODE_INVALID', `invalid subnode message: ${message}`);
}

function optionalBytes(dict: BDict, key: string): Uint8Array | undefined {
  const v = dict[key];
  if (v === undefined) return undefined;
  if (!(v instanceof Uint8Array)) throw invalid(`${key} is not a byte string`);
  return v;
}

function requireTxid(dict: BDict): Uint8Array {
  const txid = optionalBytes(dict, 'txid');
  if (txid === undefined) throw invalid('missing txid');
  return txid;
}

function optionalP(dict: BDict): number | undefined {
  const v = dict.p;
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw invalid('p is not an integer');
  return v;
}

/** `src`/`tar` must be 16-byte cjdns (fc00::/8) addresses; JS throws (no reply) otherwise. */
function optionalIp6(dict: BDict, key: 'src' | 'tar'): Uint8Array | undefined {
  const v = optionalBytes(dict, key);
  if (v === undefined) return undefined;
  if (v.length !== IP6_BYTES || v[0] !== 0xfc)
    throw invalid(`${key} is not a 16-byte fc00::/8 address`);
  return v;
}

/**
 * Classify and validate a decoded CJDHT dictionary. Throws RsError RS_ERR_SUBNODE_INVALID when the
 * value is not a dictionary, `sq` is not a byte string, or a known query has a field of the wrong
 * type (missing/non-bytes `txid`, non-integer `p`, non-bytes `ann`, bad `src`/`tar`). Missing
 * `ann`/`src`/`tar` are not errors: the JS server simply does not reply, and neither should we.
 */
export function parseSubnodeQuery(value: BValue): SubnodeQuery {
  if (!isBDict(value)) throw invalid('content is not a dictionary');
  const raw = value;
  if (raw.sq === undefined) return { kind: 'dht', raw };
  const sq = bstr(raw.sq);
  if (sq === undefined) throw invalid('sq is not a byte string');
  switch (sq) {
    case 'ann': {
      const q: AnnQuery = {
        kind: 'ann',
        txid: requireTxid(raw),
        ann: optionalBytes(raw, 'ann'),
        raw,
      };
      return withP(q, optionalP(raw));
    }
    case 'gr': {
      const txid = requireTxid(raw);
      const p = optionalP(raw);
      const src = optionalIp6(raw, 'src');
      const tar = optionalIp6(raw, 'tar');
      const q: GrQuery = {
        kind: 'gr',
        txid,
        ...(src !== undefined ? { src } : {}),
        ...(tar !== undefined ? { tar } : {}),
        raw,
      };
      return withP(q, p);
    }
    case 'pn': {
      const q: PnQuery = { kind: 'pn', txid: requireTxid(raw), raw };
      return withP(q, optionalP(raw));
    }
    case 'pc':
      // the peering seeder (docs/seeder.md)
      return parsePcQuery(raw);
    default:
      return { kind: 'other', sq, raw };
  }
}

function withP<Q extends AnnQuery | GrQuery | PnQuery>(q: Q, p: number | undefined): Q {
  return p === undefined ? q : { ...q, p };
}

// ---- replies ---------------------------------------------------------------------------------

function checkLength(bytes: Uint8Array, len: number, what: string): void {
  if (bytes.length !== len) throw invalid(`${what} must be ${len} bytes, got ${bytes.length}`);
}

/** JS builds every reply from the request minus these keys. */
function echoRequest(request: BDict): BDict {
  const out: BDict = {};
  for (const k of Object.keys(request)) {
    if (k === 'sq' || k === 'src' || k === 'tar') continue;
    Object.defineProperty(out, k, {
      value: request[k],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** `ann` reply: a new dictionary `{error, p, recvTime, stateHash, txid}` (docs/protocol.md §5.3). */
export function buildAnnReply(args: {
  txid: Uint8Array;
  error: string;
  p: number;
  recvTime: number;
  stateHash: Uint8Array;
}): BDict {
  checkLength(args.stateHash, STATE_HASH_BYTES, 'stateHash');
  return {
    error: utf8Bytes(args.error),
    p: args.p,
    recvTime: args.recvTime,
    stateHash: args.stateHash,
    txid: args.txid,
  };
}

/**
 * `gr` reply: the request dictionary without `sq`/`src`/`tar`, plus `recvTime`, and `n`/`np` when
 * a route was found. Every other request key (txid, the requester's own `p`, `es`, `ei`, …) is
 * echoed, exactly as JS does.
 */
export function buildGrReply(
  request: BDict,
  route: { recvTime: number; n?: Uint8Array; np?: Uint8Array },
): BDict {
  const out = echoRequest(request);
  out.recvTime = route.recvTime;
  if (route.n !== undefined) {
    if (route.n.length === 0 || route.n.length % ROUTE_ENTRY_BYTES !== 0) {
      throw invalid(`n must be a non-zero multiple of ${ROUTE_ENTRY_BYTES} bytes`);
    }
    out.n = route.n;
  }
  if (route.np !== undefined) out.np = route.np;
  return out;
}

/** `pn` reply: the request without `sq`/`src`/`tar`, plus `recvTime` and the node's `stateHash`. */
export function buildPnReply(
  request: BDict,
  args: { recvTime: number; stateHash: Uint8Array },
): BDict {
  checkLength(args.stateHash, STATE_HASH_BYTES, 'stateHash');
  const out = echoRequest(request);
  out.recvTime = args.recvTime;
  out.stateHash = args.stateHash;
  return out;
}

/** `n` of a `gr` reply: 32-byte key ‖ 8-byte big-endian label. */
export function encodeRouteN(key: Uint8Array, label: bigint): Uint8Array {
  checkLength(key, KEY_BYTES, 'key');
  if (label < 0n || label > 0xffff_ffff_ffff_ffffn) throw invalid('label does not fit in 64 bits');
  const out = new Uint8Array(ROUTE_ENTRY_BYTES);
  out.set(key, 0);
  out.set(writeU64BE(label), KEY_BYTES);
  return out;
}

/** `np` of a `gr` reply: width 1, then the version byte (JS `new Buffer([1, tar.version])`). */
export function encodeRouteNp(version: number): Uint8Array {
  return Uint8Array.of(1, version & 0xff);
}
