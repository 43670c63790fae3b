/**
 * A node record as the original's `/ni/<ip>` prints it (`{"node": <this>}`, docs/protocol.md §8): the JS
 * node object passed through JSON.stringify, keys in the original's order. Checked field by field
 * against a capture of the original (`captures/ni-B.json`).
 *
 * Shape: `{type: "Node", version, key, ipv6, encodingScheme, inwardLinksByIp: {ip: [link]},
 * mut: {timestamp, announcements, stateHash, resetMsg}}`; a link is `{label, encodingFormNum,
 * peerNum, linkState: {timeslot: {drops, lag, kbRecv}}, createTime, mut: {mostRecentLsSlot,
 * time, mtu, value, flags}}`; an announcement is the cjdnsann parse result with `binary` as a
 * Node Buffer's JSON (`{"type": "Buffer", "data": [...]}`) and `hash`, `signature`,
 * `pubSigningKey` as hex.
 *
 * Known limit: for a LinkState entity with `startingPoint` ≥ 18 the original's slot arrays are
 * longer than 18 (it writes the first sample at index `startingPoint`); we keep 18 slots, so the
 * JSON of such an entity differs (it never happens with cjdns, which sends startingPoint < 18).
 */
import { announcementToJson, type AnnouncementJson } from '../protocol/announcement.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import type { JsEncodingForm } from '../protocol/encoding-scheme-types.ts';
import { schemeToJs } from '../protocol/encoding-scheme.ts';
import type { LinkStateSample, LinkView, NodeRecordView } from './node-record.ts';

export interface BufferJson {
  type: 'Buffer';
  data: number[];
}

export type AnnouncementRecordJson = Omit<AnnouncementJson, 'hash'> & {
  binary: BufferJson;
  hash: string;
};

export interface LinkJson {
  label: string;
  encodingFormNum: number;
  peerNum: number;
  linkState: Record<string, LinkStateSample>;
  createTime: number;
  mut: { mostRecentLsSlot: number; time: number; mtu: number; value: number; flags: number };
}

export interface NodeJson {
  type: 'Node';
  version: number;
  key: string;
  ipv6: string;
  encodingScheme: JsEncodingForm[];
  inwardLinksByIp: Record<string, LinkJson[]>;
  mut: {
    timestamp: string;
    announcements: AnnouncementRecordJson[];
    stateHash: BufferJson;
    resetMsg: AnnouncementRecordJson;
  };
}

export function nodeRecordToJson(record: NodeRecordView): NodeJson {
  const inwardLinksByIp: Record<string, LinkJson[]> = {};
  for (const [ip, links] of record.inwardLinksByIp) inwardLinksByIp[ip] = links.map(linkToJson);
  return {
    type: 'Node',
    version: record.version,
    key: record.key,
    ipv6: record.ipv6,
    encodingScheme: schemeToJs(record.encodingScheme),
    inwardLinksByIp,
    mut: {
      timestamp: record.timestampHex,
      announcements: record.announcements.map(announcementRecordToJson),
      stateHash: bufferJson(record.stateHash),
      resetMsg: announcementRecordToJson(record.resetMsg),
    },
  };
}

export function linkToJson(link: LinkView): LinkJson {
  return {
    label: link.label,
    encodingFormNum: link.encodingFormNum,
    peerNum: link.peerNum,
    linkState: linkStateToJson(link.linkState),
    createTime: link.createTime,
    mut: {
      mostRecentLsSlot: link.mostRecentLsSlot,
      time: link.time,
      mtu: link.mtu,
      value: link.value,
      flags: link.flags,
    },
  };
}

/**
 * The link-state map as the JS object it is in the original: integer-like keys (array indices,
 * 0 … 2^32−2) come first in ascending order, then the other keys in insertion order. Building a
 * JS object reproduces exactly that, since we are on the same kind of engine.
 */
export function linkStateToJson(
  linkState: Iterable<[number, LinkStateSample]>,
): Record<string, LinkStateSample> {
  const out: Record<string, LinkStateSample> = {};
  for (const [slot, s] of linkState)
    out[String(slot)] = { drops: s.drops, lag: s.lag, kbRecv: s.kbRecv };
  return out;
}

export function announcementRecordToJson(ann: Announcement): AnnouncementRecordJson {
  const { hash, ...rest } = announcementToJson(ann);
  return { ...rest, binary: bufferJson(ann.binary), hash };
}

/** Node's `Buffer.prototype.toJSON`. */
export function bufferJson(bytes: Uint8Array): BufferJson {
  return { type: 'Buffer', data: Array.from(bytes) };
}
