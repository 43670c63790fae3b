/**
 * A node's routing-relevant state as one flat, structured-clone-friendly value: what a subnode
 * actor sends to the tree replicas after every accepted announcement (and on expiry), and what
 * the coordinator replays into a replica that missed it.
 *
 * It carries everything the reverse graph and label construction read from a record (docs/protocol.md
 * §4.8): the inward links per peer IPv6 in `inwardLinksByIp` key order, each peer's link array in
 * its current order with label, form and value; the encoding scheme and version. Applying an
 * update REPLACES the node's state in a replica, so updates are idempotent and only the newest
 * one per node matters — which is what makes replaying missed updates, and a full reload, simple.
 *
 * Packed layout of `links` (one array of doubles per node: few heap objects for 100k nodes;
 * every id is an integer < 2^31, exact in a double). Made on the main thread, it is a plain
 * array — one per accepted announcement, living until the next swap, where a Float64Array's
 * separate backing store cost several times more to allocate and collect; a replica worker
 * receives Float64Arrays (unpackUpdates):
 * ```
 *  [0]                     P = number of peers
 *  [1 .. 1+P)              peer node ids, in inwardLinksByIp order
 *  [1+P .. 2+2P)           link offsets: the links of peer i are [off[i], off[i+1])
 *  [2+2P + 3k .. +3)       link k: labelId, encodingFormNum, value
 * ```
 */
import { CompactNodeRecord } from '../graph/compact-record.ts';
import type { GraphTables } from '../graph/id-tables.ts';
import type { Link, NodeRecordView } from '../graph/node-record.ts';

export interface NodeUpdate {
  /** position in the update stream (assigned by the replica coordinator; 0 = unassigned) */
  seq: number;
  readonly id: number;
  /** false: the node has no record anymore (expired); `links` is empty */
  readonly present: boolean;
  readonly version: number;
  readonly schemeId: number;
  readonly links: PackedLinks;
}

/** The packed `links` of an update (layout above). */
export type PackedLinks = Float64Array | number[];

/** Field accessors of the packed layout. */
export const packed = {
  peerCount: (d: PackedLinks): number => d[0]!,
  peer: (d: PackedLinks, i: number): number => d[1 + i]!,
  /** first link index of peer i (i = P gives the end) */
  linkOffset: (d: PackedLinks, i: number): number => d[1 + d[0]! + i]!,
  /** index in `d` of link k's triple */
  linkBase: (d: PackedLinks, k: number): number => 2 + 2 * d[0]! + 3 * k,
};

const EMPTY_LINKS = new Float64Array([0, 0]);

/** The update describing `record` now. Interns the IPv6s, labels and the scheme it mentions. */
export function nodeUpdateOf(record: NodeRecordView, tables: GraphTables): NodeUpdate {
  if (record instanceof CompactNodeRecord && record.store.tables === tables)
    return compactUpdateOf(record);
  const byIp = record.inwardLinksByIp as ReadonlyMap<string, readonly Link[]>;
  const p = byIp.size;
  let linkCount = 0;
  for (const links of byIp.values()) linkCount += links.length;
  const d = new Array<number>(2 + 2 * p + 3 * linkCount).fill(0);
  d[0] = p;
  let i = 0;
  let k = 0;
  let base = 2 + 2 * p;
  for (const [ip, links] of byIp) {
    // the peer's id is cached on the first link from it (all links of the array share the peer)
    const first = links[0];
    if (first && first.peerTable === tables.ids.serial && first.peerId !== undefined)
      d[1 + i] = first.peerId;
    else {
      const pid = tables.ids.intern(ip);
      d[1 + i] = pid;
      if (first) {
        first.peerId = pid;
        first.peerTable = tables.ids.serial;
      }
    }
    d[1 + p + i] = k;
    i++;
    for (const link of links) {
      // the label's id is cached on the link (looking the string up again for every update of
      // the node was a large part of building the update)
      if (link.labelTable !== tables.labels.serial || link.labelId === undefined) {
        link.labelId = tables.labels.intern(link.label);
        link.labelTable = tables.labels.serial;
      }
      d[base] = link.labelId;
      d[base + 1] = link.encodingFormNum;
      d[base + 2] = link.value;
      base += 3;
      k++;
    }
  }
  d[1 + p + i] = k;
  const id = tables.ids.intern(record.ipv6);
  tables.ids.setKey(id, record.keyBytes);
  return {
    seq: 0,
    id,
    present: true,
    version: record.version,
    schemeId: tables.schemes.intern(record.encodingScheme),
    links: d,
  };
}

/**
 * The update of a record of the fast engine's compact table, read straight from the link arena:
 * its links are a list with each peer's links together, peers in first-insertion order (the
 * order of `inwardLinksByIp`), and peer and label ids are already interned in `tables`.
 */
function compactUpdateOf(rec: CompactNodeRecord): NodeUpdate {
  const a = rec.store.links;
  const next = a.next;
  let p = 0;
  let linkCount = 0;
  let prevPeer = -1;
  const first = rec.dead ? -1 : rec.firstLink;
  for (let l = first; l >= 0; l = next[l]!) {
    linkCount++;
    if (a.peer[l] !== prevPeer || linkCount === 1) p++;
    prevPeer = a.peer[l]!;
  }
  const d = new Array<number>(2 + 2 * p + 3 * linkCount).fill(0);
  d[0] = p;
  let i = -1;
  let k = 0;
  let base = 2 + 2 * p;
  prevPeer = -1;
  for (let l = first; l >= 0; l = next[l]!) {
    if (a.peer[l] !== prevPeer || k === 0) {
      i++;
      prevPeer = a.peer[l]!;
      d[1 + i] = prevPeer;
      d[1 + p + i] = k;
    }
    d[base] = a.label[l]!;
    d[base + 1] = a.form[l]!;
    d[base + 2] = a.value[l]!;
    base += 3;
    k++;
  }
  d[1 + p + p] = k;
  return {
    seq: 0,
    id: rec.id,
    present: true,
    version: rec.version,
    schemeId: rec.schemeId,
    links: d,
  };
}

/** The update saying "node `id` has no record anymore". */
export function nodeRemovedUpdate(id: number): NodeUpdate {
  return { seq: 0, id, present: false, version: 0, schemeId: -1, links: EMPTY_LINKS };
}

/**
 * Many updates as two arrays, for crossing to a worker thread in one transfer (a structured
 * clone of one object and one typed array per update cost the main thread ~2 µs an update).
 * meta: per update [seq, id, present, version, schemeId, start, length] into `links`.
 */
export interface PackedUpdates {
  readonly meta: Float64Array;
  readonly links: Float64Array;
}

const META_FIELDS = 7;

/** Updates as objects, or already packed (tree-replicas.ts sends its waiting updates packed). */
export type UpdateBatch = readonly NodeUpdate[] | PackedUpdates;

/** The batch packed (as it is when it came packed). */
export function packedOf(batch: UpdateBatch): PackedUpdates {
  return 'meta' in batch ? batch : packUpdates(batch);
}

/** The batch's updates (views of its arrays when it came packed). */
export function updatesOf(batch: UpdateBatch): readonly NodeUpdate[] {
  return 'meta' in batch ? unpackUpdates(batch) : batch;
}

export function packUpdates(updates: readonly NodeUpdate[]): PackedUpdates {
  let total = 0;
  for (const u of updates) total += u.links.length;
  const meta = new Float64Array(updates.length * META_FIELDS);
  const links = new Float64Array(total);
  let off = 0;
  for (let i = 0; i < updates.length; i++) {
    const u = updates[i]!;
    const m = i * META_FIELDS;
    meta[m] = u.seq;
    meta[m + 1] = u.id;
    meta[m + 2] = u.present ? 1 : 0;
    meta[m + 3] = u.version;
    meta[m + 4] = u.schemeId;
    meta[m + 5] = off;
    meta[m + 6] = u.links.length;
    links.set(u.links, off);
    off += u.links.length;
  }
  return { meta, links };
}

/**
 * The updates of a packed batch; their links are views of the batch's array (a replica model
 * copies what it keeps into its own chunks, replica-links.ts, so no batch stays alive).
 */
export function unpackUpdates(p: PackedUpdates): NodeUpdate[] {
  const n = p.meta.length / META_FIELDS;
  const out: NodeUpdate[] = new Array<NodeUpdate>(n);
  for (let i = 0; i < n; i++) {
    const m = i * META_FIELDS;
    const start = p.meta[m + 5]!;
    out[i] = {
      seq: p.meta[m]!,
      id: p.meta[m + 1]!,
      present: p.meta[m + 2] === 1,
      version: p.meta[m + 3]!,
      schemeId: p.meta[m + 4]!,
      links: p.links.subarray(start, start + p.meta[m + 6]!),
    };
  }
  return out;
}
