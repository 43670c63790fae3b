/**
 * The record delta of the cluster bus (docs/cluster.md, "Deltas"): what the process that accepted
 * a node's announcement computed from it, so that the other processes of the cluster apply it
 * without parsing the announcement's entities, re-running the keep rules or re-folding the
 * stateHash. It travels beside the announcement's raw bytes in a DELTA envelope
 * (cluster-envelope.ts). Binary, parsed with explicit limits; garbage is RS_ERR_CLUSTER_ENVELOPE.
 *
 * ```
 *  0    1  flags: bit 0 = the announcement is a reset; bit 1 = link updates (below) instead of
 *          every link
 *  1   64  stateHash of the node after the announcement
 *  65  64  the announcement's hash (sha512 of its bytes)
 *  129  4  version of the node's record, u32 BE
 *  133  1  F: forms of the record's encoding scheme, 1..MAX_FORMS; then F × (bitCount u8,
 *          prefixLen u8, prefix u32 BE)
 *  …    1  K: kept announcements after the new one (0..255); then K × the first 8 bytes of their
 *          hashes, newest first — the record's kept list is [the announcement, these]
 *  …    2  P: peers with inward links, u16 BE (record order); then per peer: its IPv6 (16), u16 L,
 *          and L × link: label (8, big endian), encodingFormNum u8, peerNum i32, mtu u32, flags u32,
 *          value f64, time f64, createTime f64, mostRecentLsSlot f64
 *  or, with flags bit 1 (the announcement changed fields of existing links only):
 *  …    2  T: the record's link count, u16 BE; 2  U: updated links, u16 BE; then U × update
 *          (ascending positions, each once): position in the record's link order u16, peerNum i32, mtu u32, flags u8, time f64,
 *          mostRecentLsSlot f64, value f64
 * ```
 * Nothing may follow the last link.
 */
import { RsError } from '../errors.ts';
import { BytesMemo } from '../lib/bytes-memo.ts';
import type { EncodingScheme } from './encoding-scheme-types.ts';
import { bytesToHex } from './hex.ts';
import { ip6FromString, ip6ToString } from './keys.ts';

export const DELTA_HASH_PREFIX_BYTES = 8;
export const MAX_DELTA_FORMS = 31;
export const MAX_DELTA_KEPT = 255;
export const MAX_DELTA_PEERS = 8192;
export const MAX_DELTA_LINKS_PER_PEER = 4096;
const LINK_BYTES = 8 + 1 + 4 + 4 + 4 + 8 * 4;
const UPDATE_BYTES = 2 + 4 + 4 + 1 + 8 * 3;
export const MAX_DELTA_LINKS = 0xffff;

export interface ClusterDeltaLink {
  /** `0000.0000.0000.0013` */
  readonly label: string;
  readonly encodingFormNum: number;
  readonly peerNum: number;
  readonly mtu: number;
  readonly flags: number;
  readonly value: number;
  readonly time: number;
  readonly createTime: number;
  readonly mostRecentLsSlot: number;
}

export interface ClusterDeltaPeer {
  readonly ipv6: string;
  readonly links: readonly ClusterDeltaLink[];
}

/** A link whose fields changed, named by its position in the record's link order. */
export interface ClusterDeltaLinkUpdate {
  readonly pos: number;
  readonly peerNum: number;
  readonly mtu: number;
  readonly flags: number;
  readonly time: number;
  readonly mostRecentLsSlot: number;
  readonly value: number;
}

/** Every link of the record, or the few whose fields changed (the structure did not). */
export type ClusterDeltaLinks =
  | { readonly kind: 'all'; readonly peers: readonly ClusterDeltaPeer[] }
  | {
      readonly kind: 'updates';
      readonly total: number;
      readonly updates: readonly ClusterDeltaLinkUpdate[];
    };

export interface ClusterDelta {
  readonly isReset: boolean;
  readonly stateHash: Uint8Array;
  readonly annHash: Uint8Array;
  readonly version: number;
  readonly scheme: EncodingScheme;
  /** the first DELTA_HASH_PREFIX_BYTES of each kept announcement's hash after the new one, newest first */
  readonly keptAfter: readonly Uint8Array[];
  readonly links: ClusterDeltaLinks;
}

function bad(why: string): RsError {
  return new RsError('RS_ERR_CLUSTER_ENVELOPE', `invalid cluster delta: ${why}`);
}

const LABEL_RE = /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/;

export function encodeClusterDelta(d: ClusterDelta): Uint8Array {
  if (d.stateHash.length !== 64 || d.annHash.length !== 64) throw bad('hash length');
  if (d.scheme.length < 1 || d.scheme.length > MAX_DELTA_FORMS)
    throw bad(`${d.scheme.length} forms`);
  if (d.keptAfter.length > MAX_DELTA_KEPT) throw bad(`${d.keptAfter.length} kept announcements`);
  const links = d.links;
  let size =
    1 + 64 + 64 + 4 + 1 + 6 * d.scheme.length + 1 + DELTA_HASH_PREFIX_BYTES * d.keptAfter.length;
  if (links.kind === 'all') {
    if (links.peers.length > MAX_DELTA_PEERS) throw bad(`${links.peers.length} peers`);
    size += 2;
    for (const p of links.peers) {
      if (p.links.length > MAX_DELTA_LINKS_PER_PEER) throw bad(`${p.links.length} links`);
      size += 16 + 2 + LINK_BYTES * p.links.length;
    }
  } else {
    if (links.total > MAX_DELTA_LINKS || links.updates.length > links.total)
      throw bad(`${links.updates.length} of ${links.total} links`);
    size += 4 + UPDATE_BYTES * links.updates.length;
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  out[o++] = (d.isReset ? 1 : 0) | (links.kind === 'updates' ? 2 : 0);
  out.set(d.stateHash, o);
  o += 64;
  out.set(d.annHash, o);
  o += 64;
  o = out.writeUInt32BE(d.version >>> 0, o);
  out[o++] = d.scheme.length;
  for (const f of d.scheme) {
    out[o++] = f.bitCount;
    out[o++] = f.prefixLen;
    o = out.writeUInt32BE(f.prefix >>> 0, o);
  }
  out[o++] = d.keptAfter.length;
  for (const h of d.keptAfter) {
    if (h.length < DELTA_HASH_PREFIX_BYTES) throw bad('kept hash prefix length');
    out.set(h.subarray(0, DELTA_HASH_PREFIX_BYTES), o);
    o += DELTA_HASH_PREFIX_BYTES;
  }
  if (links.kind === 'updates') {
    o = out.writeUInt16BE(links.total, o);
    o = out.writeUInt16BE(links.updates.length, o);
    let last = -1;
    for (const u of links.updates) {
      if (u.pos >= links.total) throw bad(`link position ${u.pos} of ${links.total}`);
      if (u.pos <= last) throw bad(`link position ${u.pos} after ${last}`);
      last = u.pos;
      o = out.writeUInt16BE(u.pos, o);
      o = out.writeInt32BE(u.peerNum | 0, o);
      o = out.writeUInt32BE(u.mtu >>> 0, o);
      out[o++] = u.flags & 0xff;
      o = out.writeDoubleBE(u.time, o);
      o = out.writeDoubleBE(u.mostRecentLsSlot, o);
      o = out.writeDoubleBE(u.value, o);
    }
    return new Uint8Array(out.buffer, out.byteOffset, o);
  }
  o = out.writeUInt16BE(links.peers.length, o);
  for (const p of links.peers) {
    out.set(ip6FromString(p.ipv6), o);
    o += 16;
    o = out.writeUInt16BE(p.links.length, o);
    for (const l of p.links) {
      if (!LABEL_RE.test(l.label)) throw bad(`label ${JSON.stringify(l.label)}`);
      o += out.write(l.label.replaceAll('.', ''), o, 8, 'hex');
      out[o++] = l.encodingFormNum;
      o = out.writeInt32BE(l.peerNum | 0, o);
      o = out.writeUInt32BE(l.mtu >>> 0, o);
      o = out.writeUInt32BE(l.flags >>> 0, o);
      o = out.writeDoubleBE(l.value, o);
      o = out.writeDoubleBE(l.time, o);
      o = out.writeDoubleBE(l.createTime, o);
      o = out.writeDoubleBE(l.mostRecentLsSlot, o);
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, o);
}

/** F × (bitCount u8, prefixLen u8, prefix u32 BE) → the forms (one shared, read-only array per scheme). */
function decodeScheme(bytes: Uint8Array): EncodingScheme {
  const forms: { bitCount: number; prefixLen: number; prefix: number }[] = [];
  for (let o = 0; o < bytes.length; o += 6)
    forms.push({
      bitCount: bytes[o]!,
      prefixLen: bytes[o + 1]!,
      prefix:
        ((bytes[o + 2]! << 24) >>> 0) +
        (bytes[o + 3]! << 16) +
        (bytes[o + 4]! << 8) +
        bytes[o + 5]!,
    });
  return Object.freeze(forms.map((f) => Object.freeze(f)));
}

/** The schemes decoded lately, by their bytes (a network uses one or two: every delta names one). */
const schemes = new BytesMemo(16, decodeScheme);

function need(b: Uint8Array, o: number, n: number, what: string): void {
  if (o + n > b.length) throw bad(`truncated in ${what}`);
}

/**
 * Parse a delta; RsError RS_ERR_CLUSTER_ENVELOPE on anything unexpected. The hashes and kept
 * prefixes are views of `bytes` (every reader copies what it keeps): one entry of the cluster
 * bus decodes one delta, so nothing here allocates more than the delta's own values.
 */
export function decodeClusterDelta(bytes: Uint8Array): ClusterDelta {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  need(b, o, 1 + 64 + 64 + 4 + 1, 'header');
  const flags = b[o++]!;
  if (flags > 3) throw bad(`flags ${flags}`);
  const stateHash = bytes.subarray(o, o + 64);
  o += 64;
  const annHash = bytes.subarray(o, o + 64);
  o += 64;
  const version = b.readUInt32BE(o);
  o += 4;
  const forms = b[o++]!;
  if (forms < 1 || forms > MAX_DELTA_FORMS) throw bad(`${forms} forms`);
  need(b, o, 6 * forms + 1, 'scheme');
  const scheme = schemes.get(bytes.subarray(o, o + 6 * forms));
  o += 6 * forms;
  const kept = b[o++]!;
  need(b, o, DELTA_HASH_PREFIX_BYTES * kept + (flags & 2 ? 4 : 2), 'kept list');
  const keptAfter: Uint8Array[] = [];
  for (let i = 0; i < kept; i++) {
    keptAfter.push(bytes.subarray(o, o + DELTA_HASH_PREFIX_BYTES));
    o += DELTA_HASH_PREFIX_BYTES;
  }
  const isReset = (flags & 1) === 1;
  if (flags & 2) {
    const total = b.readUInt16BE(o);
    const count = b.readUInt16BE(o + 2);
    o += 4;
    if (count > total) throw bad(`${count} updates of ${total} links`);
    need(b, o, UPDATE_BYTES * count, 'link updates');
    const updates: ClusterDeltaLinkUpdate[] = [];
    let last = -1;
    for (let i = 0; i < count; i++) {
      const pos = b.readUInt16BE(o);
      if (pos >= total) throw bad(`link position ${pos} of ${total}`);
      // in the record's link order, each link once (the receiver applies them in one pass)
      if (pos <= last) throw bad(`link position ${pos} after ${last}`);
      last = pos;
      updates.push({
        pos,
        peerNum: b.readInt32BE(o + 2),
        mtu: b.readUInt32BE(o + 6),
        flags: b[o + 10]!,
        time: b.readDoubleBE(o + 11),
        mostRecentLsSlot: b.readDoubleBE(o + 19),
        value: b.readDoubleBE(o + 27),
      });
      o += UPDATE_BYTES;
    }
    if (o !== b.length) throw bad(`${b.length - o} byte(s) of garbage after the last link update`);
    const links: ClusterDeltaLinks = { kind: 'updates', total, updates };
    return { isReset, stateHash, annHash, version, scheme, keptAfter, links };
  }
  const peerCount = b.readUInt16BE(o);
  o += 2;
  if (peerCount > MAX_DELTA_PEERS) throw bad(`${peerCount} peers`);
  const peers: ClusterDeltaPeer[] = [];
  for (let i = 0; i < peerCount; i++) {
    need(b, o, 18, 'peer');
    const ip = b.subarray(o, o + 16);
    if (ip[0] !== 0xfc) throw bad('peer IPv6 is not fc00::/8');
    const ipv6 = ip6ToString(ip);
    o += 16;
    const count = b.readUInt16BE(o);
    o += 2;
    if (count > MAX_DELTA_LINKS_PER_PEER) throw bad(`${count} links`);
    need(b, o, LINK_BYTES * count, 'links');
    const links: ClusterDeltaLink[] = [];
    for (let k = 0; k < count; k++) {
      const h = bytesToHex(b.subarray(o, o + 8));
      o += 8;
      const label = `${h.slice(0, 4)}.${h.slice(4, 8)}.${h.slice(8, 12)}.${h.slice(12, 16)}`;
      const encodingFormNum = b[o++]!;
      const peerNum = b.readInt32BE(o);
      const mtu = b.readUInt32BE(o + 4);
      const fl = b.readUInt32BE(o + 8);
      const value = b.readDoubleBE(o + 12);
      const time = b.readDoubleBE(o + 20);
      const createTime = b.readDoubleBE(o + 28);
      const mostRecentLsSlot = b.readDoubleBE(o + 36);
      o += 44;
      links.push({
        label,
        encodingFormNum,
        peerNum,
        mtu,
        flags: fl,
        value,
        time,
        createTime,
        mostRecentLsSlot,
      });
    }
    peers.push({ ipv6, links });
  }
  if (o !== b.length) throw bad(`${b.length - o} byte(s) of garbage after the last link`);
  const links: ClusterDeltaLinks = { kind: 'all', peers };
  return { isReset, stateHash, annHash, version, scheme, keptAfter, links };
}
