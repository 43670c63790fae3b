import { RsError } from '../errors.ts';
import { ByteReader, writeU16BE, writeU32BE } from './byte-reader.ts';
import { bytesEqual, bytesToHex, concatBytes } from './hex.ts';
import { ip6FromPublicKey, ip6ToString, publicKeyToString } from './keys.ts';

/**
 * cjdns wire headers as a content-type handler sees them (docs/protocol.md §6.2), parsed and
 * re-serialised with the rules of the JS library cjdnshdr 0.3.1, because the bytes of our replies
 * must equal the JS route server's.
 *
 * Handler frame: RouteHeader (68) ‖ DataHeader (4, absent for CTRL frames) ‖ content.
 *
 * RouteHeader (`wire/RouteHeader.h`):
 *
 *     0                   32          44        48    49      52              68
 *     +-------------------+-----------+---------+-----+-------+---------------+
 *     | publicKey (32)    | switch    | version | flg | unused| ip6 (16)      |
 *     |                   | header(12)| u32 BE  |     | (3)   |               |
 *     +-------------------+-----------+---------+-----+-------+---------------+
 *     flags: bit 0 INCOMING, bit 1 CTRLMSG, bit 2 PATHFINDER
 *
 * SwitchHeader: label u64 BE ‖ congestion<<1|suppressErrors ‖ version<<6|labelShift ‖ penalty u16 BE.
 * DataHeader:   version<<4 ‖ unused ‖ contentType u16 BE (`10000100` = version 1, CJDHT).
 *
 * cjdnshdr parse rules kept here: a zero key reads as null; a non-CTRL frame needs a non-zero ip6
 * and a CTRL frame must have a zero one; when a key is present on a non-CTRL frame the ip6 is
 * replaced by the address derived from the key (cjdnshdr warns and does that); version is read as a
 * *signed* int32.
 * Serialisation rules (they show in our bytes): the flags byte is rebuilt from INCOMING and CTRLMSG
 * only, the three unused bytes are zero, switch-header version 0 is written as 1 and any other
 * version but 1 is refused, as are labelShift > 63 and penalty > 65535.
 * Every failure is an RsError with code RS_ERR_HEADER_INVALID.
 */

export const SWITCH_HEADER_BYTES = 12;
export const ROUTE_HEADER_BYTES = 68;
export const DATA_HEADER_BYTES = 4;
export const SWITCH_HEADER_CURRENT_VERSION = 1;
export const DATA_HEADER_CURRENT_VERSION = 1;
export const CONTENT_TYPE_CJDHT = 256;

const F_INCOMING = 1;
const F_CTRL = 2;
const ZERO_KEY = new Uint8Array(32);
const ZERO_IP6 = new Uint8Array(16);
const LABEL_RE = /^([a-f0-9]{4}\.){3}[a-f0-9]{4}$/;

export interface SwitchHeader {
  /** `xxxx.xxxx.xxxx.xxxx` */
  readonly label: string;
  readonly congestion: number;
  readonly suppressErrors: boolean;
  readonly version: number;
  readonly labelShift: number;
  readonly penalty: number;
}

export interface RouteHeader {
  /** `.k` string, null when the key bytes are all zero */
  readonly publicKey: string | null;
  /** remote node's protocol version, 0 = unknown (signed int32 as JS reads it) */
  readonly version: number;
  /** 39-char IPv6, null on CTRL frames */
  readonly ip: string | null;
  readonly switchHeader: SwitchHeader;
  readonly isIncoming: boolean;
  readonly isCtrl: boolean;
  /** the 32 key bytes, null when zero */
  readonly keyBytes: Uint8Array | null;
  /** the 16 bytes of `ip` (derived from the key when one is present), null on CTRL frames */
  readonly ip6Bytes: Uint8Array | null;
}

export interface DataHeader {
  readonly version: number;
  /** cjdns name (`CJDHT`, `IP6_UDP`, …) or undefined when the number has none */
  readonly contentType: string | undefined;
  readonly contentTypeNumber: number;
}

export interface HandlerFrame {
  readonly routeHeader: RouteHeader;
  /** absent on CTRL frames */
  readonly dataHeader?: DataHeader;
  readonly content: Uint8Array;
}

/** `ContentType.h` names (cjdnshdr ContentType.js). */
const CONTENT_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'IP6_IP'],
  [1, 'IP6_ICMP'],
  [2, 'IP6_IGMP'],
  [4, 'IP6_IPIP'],
  [6, 'IP6_TCP'],
  [8, 'IP6_EGP'],
  [12, 'IP6_PUP'],
  [17, 'IP6_UDP'],
  [22, 'IP6_IDP'],
  [29, 'IP6_TP'],
  [33, 'IP6_DCCP'],
  [41, 'IP6_IPV6'],
  [46, 'IP6_RSVP'],
  [47, 'IP6_GRE'],
  [50, 'IP6_ESP'],
  [51, 'IP6_AH'],
  [92, 'IP6_MTP'],
  [94, 'IP6_BEETPH'],
  [98, 'IP6_ENCAP'],
  [103, 'IP6_PIM'],
  [108, 'IP6_COMP'],
  [132, 'IP6_SCTP'],
  [136, 'IP6_UDPLITE'],
  [255, 'IP6_RAW'],
  [256, 'CJDHT'],
  [257, 'IPTUN'],
  [258, 'RESERVED'],
  [0x7fff, 'RESERVED_MAX'],
  [0x8000, 'AVAILABLE'],
]);

function invalid(message: string): RsError {
  return new RsError('RS_ERR_HEADER_INVALID', `invalid wire header: ${message}`);
}

function reader(bytes: Uint8Array, size: number, what: string): ByteReader {
  if (bytes.length < size) throw invalid(`${what} runt: ${bytes.length} < ${size} bytes`);
  return new ByteReader(bytes, 'RS_ERR_HEADER_INVALID');
}

function formatLabel(bytes: Uint8Array): string {
  const hex = bytesToHex(bytes);
  return `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8, 12)}.${hex.slice(12, 16)}`;
}

// ---- SwitchHeader ----------------------------------------------------------------------------

/** Parse the first 12 bytes (extra bytes are ignored, as in cjdnshdr). Version 0/2/3 are kept. */
export function parseSwitchHeader(bytes: Uint8Array): SwitchHeader {
  const r = reader(bytes, SWITCH_HEADER_BYTES, 'SwitchHeader');
  const label = formatLabel(r.take(8));
  const congestAndSuppressErrors = r.u8();
  const versionAndLabelShift = r.u8();
  const penalty = r.u16();
  return {
    label,
    congestion: congestAndSuppressErrors >> 1,
    suppressErrors: (congestAndSuppressErrors & 1) === 1,
    version: versionAndLabelShift >> 6,
    labelShift: versionAndLabelShift & 0x3f,
    penalty,
  };
}

function checkInt(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw invalid(`${what} ${v} out of range [${min}, ${max}]`);
}

export function serializeSwitchHeader(sh: SwitchHeader): Uint8Array {
  if (!LABEL_RE.test(sh.label)) throw invalid(`missing or malformed label [${sh.label}]`);
  const version = sh.version === 0 ? SWITCH_HEADER_CURRENT_VERSION : sh.version;
  if (version !== SWITCH_HEADER_CURRENT_VERSION)
    throw invalid(`switch header version ${sh.version}`);
  checkInt(sh.labelShift, 0, 63, 'labelShift');
  checkInt(sh.penalty, 0, 0xffff, 'penalty');
  checkInt(sh.congestion, 0, 127, 'congestion');
  const out = new Uint8Array(SWITCH_HEADER_BYTES);
  out.set(Buffer.from(sh.label.replace(/\./g, ''), 'hex'), 0);
  out[8] = (sh.congestion << 1) | (sh.suppressErrors ? 1 : 0);
  out[9] = (version << 6) | sh.labelShift;
  out.set(writeU16BE(sh.penalty), 10);
  return out;
}

// ---- RouteHeader -----------------------------------------------------------------------------

export function parseRouteHeader(bytes: Uint8Array): RouteHeader {
  const r = reader(bytes, ROUTE_HEADER_BYTES, 'RouteHeader');
  const key = r.take(32);
  const switchHeader = parseSwitchHeader(r.take(SWITCH_HEADER_BYTES));
  const version = r.u32() | 0; // readInt32BE
  const flags = r.u8();
  r.take(3); // unused
  const ip6 = r.take(16);
  const isCtrl = (flags & F_CTRL) !== 0;
  const zeroIp = bytesEqual(ip6, ZERO_IP6);
  if (!isCtrl && zeroIp) throw invalid('IP6 is not defined');
  if (isCtrl && !zeroIp) throw invalid('IP6 is defined for CTRL frame');

  const keyBytes = bytesEqual(key, ZERO_KEY) ? null : key.slice();
  let ip6Bytes: Uint8Array | null = isCtrl ? null : ip6.slice();
  if (keyBytes !== null && ip6Bytes !== null) {
    // cjdnshdr: "WARNING: RouteHeader key does not match IP6" and uses the derived address.
    // (cjdnshdr also gives a CTRL frame with a key a derived ip, which it then cannot re-parse;
    // we leave CTRL frames without ip. We never reply to them.)
    const derived = ip6FromPublicKey(keyBytes);
    if (!bytesEqual(derived, ip6Bytes)) ip6Bytes = derived;
  }
  return {
    publicKey: keyBytes === null ? null : publicKeyToString(keyBytes),
    version,
    ip: ip6Bytes === null ? null : ip6ToString(ip6Bytes),
    switchHeader,
    isIncoming: (flags & F_INCOMING) !== 0,
    isCtrl,
    keyBytes,
    ip6Bytes,
  };
}

/** Writes `keyBytes`/`ip6Bytes` (the string fields are for display and are not re-read). */
export function serializeRouteHeader(rh: RouteHeader): Uint8Array {
  if (rh.ip6Bytes === null && !rh.isCtrl) throw invalid('IP6 required');
  const key = rh.keyBytes ?? ZERO_KEY;
  const ip6 = rh.ip6Bytes ?? ZERO_IP6;
  if (key.length !== 32) throw invalid(`key of ${key.length} bytes`);
  if (ip6.length !== 16) throw invalid(`ip6 of ${ip6.length} bytes`);
  checkInt(rh.version, 0, 0xffffffff, 'version'); // writeUInt32BE
  const flags = (rh.isIncoming ? F_INCOMING : 0) | (rh.isCtrl ? F_CTRL : 0);
  return concatBytes(
    key,
    serializeSwitchHeader(rh.switchHeader),
    writeU32BE(rh.version),
    Uint8Array.of(flags, 0, 0, 0),
    ip6,
  );
}

/**
 * The route header of a reply, as the JS route server builds it from the request's: same key, ip6,
 * label, congestion, penalty, INCOMING/CTRL flags and version, except that a version of 0 is
 * replaced by `version` (the query's `p`), and labelShift is 0 (switches add to it).
 */
export function buildReplyRouteHeader(
  request: RouteHeader,
  opts: { version?: number } = {},
): RouteHeader {
  return {
    ...request,
    version: request.version === 0 && opts.version !== undefined ? opts.version : request.version,
    switchHeader: { ...request.switchHeader, labelShift: 0 },
  };
}

// ---- DataHeader ------------------------------------------------------------------------------

export function parseDataHeader(bytes: Uint8Array): DataHeader {
  const r = reader(bytes, DATA_HEADER_BYTES, 'DataHeader');
  const versionAndFlags = r.u8();
  r.u8(); // unused
  const contentTypeNumber = r.u16();
  return {
    version: versionAndFlags >> 4,
    contentType: CONTENT_TYPE_NAMES.get(contentTypeNumber),
    contentTypeNumber,
  };
}

/** Version 0 is written as 1 (cjdnshdr); versions above 15 are unrepresentable. */
export function serializeDataHeader(dh: {
  contentTypeNumber: number;
  version?: number;
}): Uint8Array {
  const version =
    dh.version === undefined || dh.version === 0 ? DATA_HEADER_CURRENT_VERSION : dh.version;
  checkInt(version, 0, 15, 'DataHeader version');
  checkInt(dh.contentTypeNumber, 0, 0xffff, 'contentType');
  return Uint8Array.of(version << 4, 0, ...writeU16BE(dh.contentTypeNumber));
}

// ---- handler frames --------------------------------------------------------------------------

/** RouteHeader ‖ DataHeader (unless CTRL) ‖ content. The content is a copy. */
export function parseHandlerFrame(bytes: Uint8Array): HandlerFrame {
  const routeHeader = parseRouteHeader(bytes);
  if (routeHeader.isCtrl) return { routeHeader, content: bytes.slice(ROUTE_HEADER_BYTES) };
  const dataHeader = parseDataHeader(bytes.subarray(ROUTE_HEADER_BYTES));
  return { routeHeader, dataHeader, content: bytes.slice(ROUTE_HEADER_BYTES + DATA_HEADER_BYTES) };
}

/**
 * Serialise a frame. Without `dataHeader`, a non-CTRL frame gets `10000100` (version 1, CJDHT)
 * and a CTRL frame gets none.
 */
export function buildHandlerFrame(frame: {
  routeHeader: RouteHeader;
  dataHeader?: { contentTypeNumber: number; version?: number };
  content: Uint8Array;
}): Uint8Array {
  const rh = serializeRouteHeader(frame.routeHeader);
  const dh =
    frame.dataHeader !== undefined
      ? serializeDataHeader(frame.dataHeader)
      : frame.routeHeader.isCtrl
        ? new Uint8Array(0)
        : serializeDataHeader({
            contentTypeNumber: CONTENT_TYPE_CJDHT,
            version: DATA_HEADER_CURRENT_VERSION,
          });
  return concatBytes(rh, dh, frame.content);
}
