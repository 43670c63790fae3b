/**
 * Announcement entities (docs/protocol.md §1.6–§1.10): the bytes after the 120-byte header.
 *
 * Framing (JS `cjdnsann.parseEntities`, the authority): at offset x, `len = byte[x]`;
 * `0` → error `0 length entity in message`; `1` → one pad byte; otherwise the entity is
 * `byte[x .. x+len)` (cut short at the end of the message), `type = byte[x+1]`:
 * 0 EncodingScheme, 1 Peer, 2 Version, 3 LinkState; any other type is skipped. After the loop,
 * x ≠ length → `garbage after the last announcement entity`.
 *
 * ```
 * EncodingScheme  | len=2+n | 0x00 | n bytes of serialized scheme |
 * Peer (32 bytes) | 0x20 | 0x01 | encodingFormNum | flags | mtu8 (u16 BE) | peerNum (u16 BE) |
 *                 | unused (u32 BE) | peerIpv6 (16) | label (u32 BE, 0 = withdraw) |
 * Version         | 0x04 | 0x02 | version (u16 BE) |
 * LinkState       | see link-state.ts |
 * ```
 * Every error is an RsError whose message is the JS string.
 */
import { RsError } from '../errors.ts';
import { BytesMemo } from '../lib/bytes-memo.ts';
import type { EncodingScheme, JsEncodingForm } from './encoding-scheme-types.ts';
import { parseSchemeJs, schemeToJs, serializeScheme } from './encoding-scheme.ts';
import type {
  EncodingSchemeEntity,
  Entity,
  LinkStateEntity,
  PeerEntity,
  VersionEntity,
} from './entity-types.ts';
import { ENTITY_TYPE } from './entity-types.ts';
import { ip6FromString, ip6ToString } from './keys.ts';
import {
  LINK_STATE_SLOTS,
  parseLinkState,
  serializeLinkState,
  type LinkStateInput,
  type LinkStateSample,
} from './link-state.ts';
import { bytesToHex } from './hex.ts';

export { parseLinkState, serializeLinkState };

const PEER_SIZE = 32;
const VERSION_SIZE = 4;

// ---- parsing --------------------------------------------------------------------------------

/**
 * Parse the entity region `bytes[start..]`; see the module comment for the exact rules.
 * `packedLinkStates`: LinkState entities as PackedLinkState (same values, samples decoded when applied).
 */
export function parseEntities(
  bytes: Uint8Array,
  start = 0,
  opts: { packedLinkStates?: boolean } = {},
): Entity[] {
  const packed = opts.packedLinkStates === true;
  const n = bytes.length;
  const out: Entity[] = [];
  let x = start;
  while (x < n) {
    const len = bytes[x]!;
    if (len === 0) throw new RsError('RS_ERR_ANN_ZERO_LENGTH_ENTITY', '0 length entity in message');
    if (len === 1) {
      x++;
      continue;
    }
    const type = x + 1 < n ? bytes[x + 1] : undefined;
    const slice = bytes.subarray(x, Math.min(x + len, n));
    if (type === ENTITY_TYPE.Peer) out.push(parsePeer(slice));
    else if (type === ENTITY_TYPE.EncodingScheme) out.push(parseEncodingSchemeEntity(slice));
    else if (type === ENTITY_TYPE.Version) out.push(parseVersion(slice));
    else if (type === ENTITY_TYPE.LinkState) out.push(parseLinkState(slice, packed));
    x += len;
  }
  if (x !== n)
    throw new RsError(
      'RS_ERR_ANN_GARBAGE_AFTER_ENTITIES',
      'garbage after the last announcement entity',
    );
  return out;
}

/** Label strings of Peer entities, shared: a network uses few distinct one-hop labels. */
const peerLabels = new Map<number, string>();
const PEER_LABEL_CACHE_MAX_ENTRIES = 65536;

/** JS `"0000.0000." + bytesToHex(label bytes 0-1) + "." + bytesToHex(bytes 2-3)`, as one flat shared string. */
function peerLabelString(v: number): string {
  let s = peerLabels.get(v);
  if (s === undefined) {
    const h = v.toString(16).padStart(8, '0');
    s = String.fromCharCode(
      ...Buffer.from(`0000.0000.${h.slice(0, 4)}.${h.slice(4, 8)}`, 'latin1'),
    );
    if (peerLabels.size >= PEER_LABEL_CACHE_MAX_ENTRIES) peerLabels.clear();
    peerLabels.set(v, s);
  }
  return s;
}

/** Peer entity slice → PeerEntity (`runt`, `invalid length <n>`, `does not begin with fc`). */
export function parsePeer(b: Uint8Array): PeerEntity {
  if (b.length < PEER_SIZE) throw new RsError('RS_ERR_ENTITY_RUNT', 'runt');
  if (b[0] !== PEER_SIZE) throw new RsError('RS_ERR_ENTITY_BAD_LENGTH', `invalid length ${b[0]}`);
  if (b[1] !== ENTITY_TYPE.Peer) throw new RsError('RS_ERR_ENTITY_INVALID', 'invalid type');
  if (b[12] !== 0xfc) throw new RsError('RS_ERR_ENTITY_INVALID', 'does not begin with fc');
  return {
    type: 'Peer',
    ipv6: ip6ToString(b.subarray(12, 28)),
    label: peerLabelString(((b[28]! << 24) >>> 0) + ((b[29]! << 16) | (b[30]! << 8) | b[31]!)),
    mtu: ((b[4]! << 8) | b[5]!) * 8,
    peerNum: (b[6]! << 8) | b[7]!,
    unused: ((b[8]! << 24) >>> 0) + ((b[9]! << 16) | (b[10]! << 8) | b[11]!),
    encodingFormNum: b[2]!,
    flags: b[3]!,
  };
}

/** Version entity slice (`runt`, `invalid length`). */
export function parseVersion(b: Uint8Array): VersionEntity {
  if (b.length < VERSION_SIZE) throw new RsError('RS_ERR_ENTITY_RUNT', 'runt');
  if (b[0] !== VERSION_SIZE) throw new RsError('RS_ERR_ENTITY_BAD_LENGTH', 'invalid length');
  if (b[1] !== ENTITY_TYPE.Version) throw new RsError('RS_ERR_ENTITY_INVALID', 'invalid type');
  return { type: 'Version', version: (b[2]! << 8) | b[3]! };
}

/**
 * Scheme entities by their bytes: a network uses one or two schemes, and every announcement
 * carries one, so each is decoded once and the same frozen entity is handed out again.
 */
const schemeEntities = new BytesMemo<EncodingSchemeEntity>(16, (schemeBytes) =>
  Object.freeze({
    type: 'EncodingScheme',
    hex: bytesToHex(schemeBytes),
    scheme: Object.freeze(parseSchemeJs(schemeBytes)),
  }),
);

/** EncodingScheme entity slice; the scheme is decoded leniently (cjdnsencode 0.0.3). */
export function parseEncodingSchemeEntity(b: Uint8Array): EncodingSchemeEntity {
  if (b.length < 2) throw new RsError('RS_ERR_ENTITY_RUNT', 'runt');
  if (b[0]! < 2) throw new RsError('RS_ERR_ENTITY_BAD_LENGTH', 'invalid length');
  if (b[1] !== ENTITY_TYPE.EncodingScheme)
    throw new RsError('RS_ERR_ENTITY_INVALID', 'invalid type');
  return schemeEntities.get(b.subarray(2, b[0]));
}

// ---- serializing ----------------------------------------------------------------------------

function invalid(msg: string): RsError {
  return new RsError('RS_ERR_INPUT_INVALID', msg);
}

function checkUint(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw invalid(`${name} ${v} out of range 0..${max}`);
  return v;
}

/** `count` pad bytes (0x01). */
export function serializePad(count = 1): Uint8Array {
  return new Uint8Array(checkUint('pad count', count, 0xffff)).fill(1);
}

/** `04 02 vv vv`. */
export function serializeVersion(version: number): Uint8Array {
  checkUint('version', version, 0xffff);
  return Uint8Array.of(VERSION_SIZE, ENTITY_TYPE.Version, version >>> 8, version & 0xff);
}

/**
 * EncodingScheme entity from a scheme (serialized with `serializeScheme`) or raw scheme bytes.
 * With `pad` (default true) a `01` pad byte comes first, as cjdns sends it (4-byte alignment).
 */
export function serializeEncodingSchemeEntity(
  scheme: EncodingScheme | Uint8Array,
  opts: { pad?: boolean } = {},
): Uint8Array {
  const body = scheme instanceof Uint8Array ? scheme : serializeScheme(scheme);
  if (body.length + 2 > 255) throw invalid('encoding scheme entity too long');
  const pad = (opts.pad ?? true) ? 1 : 0;
  const out = new Uint8Array(pad + 2 + body.length);
  if (pad) out[0] = 1;
  out[pad] = body.length + 2;
  out[pad + 1] = ENTITY_TYPE.EncodingScheme;
  out.set(body, pad + 2);
  return out;
}

/** What a Peer entity needs; defaults as cjdns writes them. */
export interface PeerInput {
  /** any IPv6 text; must be in fc00::/8 */
  readonly ipv6: string;
  /** `0000.0000.xxxx.xxxx` or a 32-bit number; 0 = withdraw the link */
  readonly label: string | number;
  /** bytes; sent as mtu / 8 (default 0 = unknown) */
  readonly mtu?: number;
  /** default 0xffff (unknown) */
  readonly peerNum?: number;
  /** default 0xffffffff */
  readonly unused?: number;
  readonly encodingFormNum?: number;
  readonly flags?: number;
}

const LABEL_RE = /^0000\.0000\.([0-9a-f]{4})\.([0-9a-f]{4})$/;

function label32(label: string | number): number {
  if (typeof label === 'number') return checkUint('label', label, 0xffffffff);
  const m = LABEL_RE.exec(label);
  if (m === null) throw invalid(`peer label [${label}] is not 0000.0000.xxxx.xxxx`);
  return parseInt(m[1]! + m[2]!, 16);
}

/** 32-byte Peer entity. */
export function serializePeer(p: PeerInput): Uint8Array {
  const ip = ip6FromString(p.ipv6);
  if (ip[0] !== 0xfc) throw invalid(`peer ipv6 [${p.ipv6}] does not begin with fc`);
  const mtu8 = Math.floor(checkUint('mtu', p.mtu ?? 0, 0xffff * 8) / 8);
  const b = Buffer.alloc(PEER_SIZE);
  b[0] = PEER_SIZE;
  b[1] = ENTITY_TYPE.Peer;
  b[2] = checkUint('encodingFormNum', p.encodingFormNum ?? 0, 0xff);
  b[3] = checkUint('flags', p.flags ?? 0, 0xff);
  b.writeUInt16BE(mtu8, 4);
  b.writeUInt16BE(checkUint('peerNum', p.peerNum ?? 0xffff, 0xffff), 6);
  b.writeUInt32BE(checkUint('unused', p.unused ?? 0xffffffff, 0xffffffff), 8);
  b.set(ip, 12);
  b.writeUInt32BE(label32(p.label), 28);
  return new Uint8Array(b);
}

/** Samples of a parsed LinkState in wire order (slot startingPoint % 18 onward, while present). */
export function linkStateSamples(e: LinkStateEntity): LinkStateSample[] {
  const out: LinkStateSample[] = [];
  const sp = e.startingPoint;
  // JS drops nothing; a first sample at index >= 18 is not kept by parseLinkState (see there)
  let i = sp < LINK_STATE_SLOTS ? sp : (sp + 1) % LINK_STATE_SLOTS;
  for (let k = 0; k < LINK_STATE_SLOTS; k++, i = (i + 1) % LINK_STATE_SLOTS) {
    const lag = e.lagSlots[i];
    const drops = e.dropSlots[i];
    const kbRecv = e.kbRecvSlots[i];
    if (lag == null || drops == null || kbRecv == null) break;
    out.push({ lag, drops, kbRecv });
  }
  return out;
}

/** Anything `serializeEntity` can write: a parsed Entity, a builder input, or pad bytes. */
export type EntityInput =
  | Entity
  | { readonly type: 'EncodingScheme'; readonly scheme: EncodingScheme; readonly hex?: string }
  | ({ readonly type: 'Peer' } & PeerInput)
  | ({ readonly type: 'LinkState' } & LinkStateInput)
  | { readonly type: 'Pad'; readonly count?: number };

/** One entity to bytes. A parsed EncodingScheme is written from its `hex` (exact bytes), no pad. */
export function serializeEntity(e: EntityInput): Uint8Array {
  switch (e.type) {
    case 'Pad':
      return serializePad(e.count ?? 1);
    case 'Version':
      return serializeVersion(e.version);
    case 'EncodingScheme':
      return serializeEncodingSchemeEntity(
        e.hex !== undefined ? new Uint8Array(Buffer.from(e.hex, 'hex')) : e.scheme,
        { pad: false },
      );
    case 'Peer':
      return serializePeer(e);
    case 'LinkState':
      if ('samples' in e) return serializeLinkState(e);
      return serializeLinkState({
        nodeId: e.nodeId,
        startingPoint: e.startingPoint,
        samples: linkStateSamples(e),
      });
  }
}

export function serializeEntities(entities: readonly EntityInput[]): Uint8Array {
  return new Uint8Array(Buffer.concat(entities.map(serializeEntity)));
}

// ---- JSON (the shape JS cjdnsann prints) ------------------------------------------------------

export type EntityJson =
  | { type: 'EncodingScheme'; hex: string; scheme: JsEncodingForm[] }
  | PeerEntity
  | VersionEntity
  | LinkStateEntity;

/** Entity in the JS key order; the EncodingScheme `scheme` in cjdnsencode form. */
export function entityToJson(e: Entity): EntityJson {
  switch (e.type) {
    case 'EncodingScheme':
      return { type: e.type, hex: e.hex, scheme: schemeToJs(e.scheme) };
    case 'Peer':
      return {
        type: e.type,
        ipv6: e.ipv6,
        label: e.label,
        mtu: e.mtu,
        peerNum: e.peerNum,
        unused: e.unused,
        encodingFormNum: e.encodingFormNum,
        flags: e.flags,
      };
    case 'Version':
      return { type: e.type, version: e.version };
    case 'LinkState':
      return {
        type: e.type,
        nodeId: e.nodeId,
        startingPoint: e.startingPoint,
        lagSlots: [...e.lagSlots],
        dropSlots: [...e.dropSlots],
        kbRecvSlots: [...e.kbRecvSlots],
      };
  }
}
