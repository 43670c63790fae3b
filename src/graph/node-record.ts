/**
 * One announcing node as the route server keeps it (docs/protocol.md §4.1), and its inward links.
 *
 * A record is created by a reset announcement and replaced by the next one; in between,
 * announcements of the same node update `announcements`, `timestamp` and the links in place.
 * Only `apply-announcement.ts` and the modules it calls mutate records; everyone else reads them.
 */
import type { Announcement } from '../protocol/announcement-types.ts';
import type { EncodingScheme } from '../protocol/encoding-scheme-types.ts';
import type { PeerEntity } from '../protocol/entity-types.ts';
import { TIMESLOT_MS } from './constants.ts';
import { LinkStateTable } from './link-state-table.ts';

/** One link-state sample as stored per timeslot (JS key order: drops, lag, kbRecv). */
export interface LinkStateSample {
  readonly drops: number;
  readonly lag: number;
  readonly kbRecv: number;
}

/**
 * A link's samples by timeslot: what a JS Map offers, in insertion order (a record uses the
 * compact LinkStateTable; a plain Map fits too).
 */
export interface LinkStateSamples extends Iterable<[number, LinkStateSample]> {
  readonly size: number;
  get(slot: number): LinkStateSample | undefined;
  set(slot: number, sample: LinkStateSample): unknown;
  delete(slot: number): boolean;
  keys(): IterableIterator<number>;
  entries(): IterableIterator<[number, LinkStateSample]>;
}

/**
 * A link "the peer can reach this node with `label`" (docs/protocol.md §1.8, §4.1). The label is in the
 * PEER's encoding scheme; `encodingFormNum` is the form of this node's label back to the peer,
 * in this node's scheme; `peerNum` identifies the link and is what LinkState `nodeId` refers to.
 */
export interface Link {
  /** JS string form `0000.0000.xxxx.xxxx` */
  readonly label: string;
  readonly encodingFormNum: number;
  readonly peerNum: number;
  /** timeslot → sample, in insertion order as the original's Map (see node-json.ts) */
  readonly linkState: LinkStateSamples;
  /** timestamp (ms) of the announcement that created the link */
  readonly createTime: number;
  /** timeslot of the newest announcement whose link state was applied */
  mostRecentLsSlot: number;
  /** timestamp (ms) of the newest announcement that (re)announced the link */
  time: number;
  mtu: number;
  flags: number;
  /** link quality, grows with link state; 0 until link state arrives (cost = 1/value) */
  value: number;
  /** fast engine cache (not state): the label's id in LabelTable number `labelTable` */
  labelId?: number;
  labelTable?: number;
  /** fast engine cache (not state): the peer's node id in NodeIds number `peerTable` */
  peerId?: number;
  peerTable?: number;
}

export interface NodeRecord {
  /** from the Version entity of the creating reset (or inherited); later Versions do not change it */
  readonly version: number;
  /** curve25519 key as a `.k` string */
  readonly key: string;
  /** the same key, 32 bytes (for `gr` replies) */
  readonly keyBytes: Uint8Array;
  readonly ipv6: string;
  readonly encodingScheme: EncodingScheme;
  /** peer IPv6 → links from that peer, in announcement order until a graph rebuild sorts them */
  readonly inwardLinksByIp: Map<string, Link[]>;
  /** timestamp of the newest accepted announcement, ms as a double (JS `Number('0x' + hex)`) */
  timestamp: number;
  /** the same timestamp as the original keeps it: 16 lowercase hex digits */
  timestampHex: string;
  /** kept announcements, newest first (docs/protocol.md §4.3) */
  announcements: Announcement[];
  /** the reset that created the record; kept for replication even once it is no longer hashed */
  readonly resetMsg: Announcement;
  /** the last stateHash computed for this record (docs/protocol.md §4.5) */
  stateHash: Uint8Array;
}

/**
 * What readers see of a link, whichever storage holds it (a Link object here, or a short-lived
 * view of the fast engine's link arena): read it when it is handed out, do not keep it.
 */
export interface LinkView {
  readonly label: string;
  readonly encodingFormNum: number;
  readonly peerNum: number;
  readonly linkState: Iterable<[number, LinkStateSample]> & {
    readonly size: number;
    get(slot: number): LinkStateSample | undefined;
  };
  readonly createTime: number;
  readonly mostRecentLsSlot: number;
  readonly time: number;
  readonly mtu: number;
  readonly flags: number;
  readonly value: number;
}

/**
 * What readers (the read API, node updates, the seeder, the map page, the cluster, the store)
 * see of a node's record, whichever storage holds it: a NodeRecord object (the reference engine)
 * or a record of the fast engine's compact table (compact-table.ts), whose collections are made
 * when asked for — read them when they are handed out.
 */
export interface NodeRecordView {
  readonly version: number;
  readonly key: string;
  readonly keyBytes: Uint8Array;
  readonly ipv6: string;
  readonly encodingScheme: EncodingScheme;
  readonly inwardLinksByIp: ReadonlyMap<string, readonly LinkView[]>;
  readonly timestamp: number;
  readonly timestampHex: string;
  readonly announcements: readonly Announcement[];
  readonly resetMsg: Announcement;
  readonly stateHash: Uint8Array;
  /**
   * Whether `resetMsg` is among `announcements`, for stores whose announcement views are made
   * when asked (identity then says nothing); record objects leave it out (node-directory.ts).
   */
  readonly keepsResetMsg?: boolean;
}

/** JS `mkLink(peer, ann)`: a fresh link with value 0 and no link state (docs/protocol.md §4.1). */
export function mkLink(peer: PeerEntity, ann: Announcement): Link {
  return {
    label: peer.label,
    encodingFormNum: peer.encodingFormNum,
    peerNum: peer.peerNum,
    linkState: new LinkStateTable(),
    createTime: ann.timestamp,
    mostRecentLsSlot: timeslotOf(ann.timestamp),
    time: ann.timestamp,
    mtu: peer.mtu,
    flags: peer.flags,
    value: 0,
  };
}

/** The 10-second timeslot of a timestamp in ms. */
export function timeslotOf(timestampMs: number): number {
  return Math.floor(timestampMs / TIMESLOT_MS);
}

/** A record as created by a reset announcement (docs/protocol.md §4.2 step 9); stateHash is filled by the caller. */
export function newNodeRecord(
  ann: Announcement,
  encodingScheme: EncodingScheme,
  version: number,
  stateHash: Uint8Array,
): NodeRecord {
  return {
    version,
    key: ann.nodePubKey,
    keyBytes: ann.nodeKey,
    ipv6: ann.nodeIp,
    encodingScheme,
    inwardLinksByIp: new Map(),
    timestamp: ann.timestamp,
    timestampHex: ann.timestampHex,
    announcements: [ann],
    resetMsg: ann,
    stateHash,
  };
}

/** Every link of a record, in map order then array order. */
export function* allLinks<L extends LinkView>(record: {
  readonly inwardLinksByIp: ReadonlyMap<string, readonly L[]>;
}): IterableIterator<L> {
  for (const links of record.inwardLinksByIp.values()) yield* links;
}
