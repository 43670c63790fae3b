/**
 * A node's record in the fast engine's compact table (compact-table.ts): one small object per
 * node holding integers — its id, version, scheme id, timestamp, the head of its link list in
 * the link arena, its kept announcements as arena ids — while its links, samples, announcement
 * bytes, key and stateHash live in the shared arenas (`CompactStore`).
 *
 * Readers see it as a NodeRecordView: the collections (`inwardLinksByIp`, `announcements`) and
 * strings (`key`, `timestampHex`) are made when asked for, from the arenas, so a reader reads
 * them when they are handed out and does not keep them. A record whose node was forgotten
 * (expiry) or replaced (a reset, a rebuild) is `dead`: it reads as a node without links or
 * announcements.
 */
import { publicKeyToString } from '../protocol/keys.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import type { EncodingScheme } from '../protocol/encoding-scheme-types.ts';
import { parseTimestampField } from '../protocol/announcement.ts';
import { IntBlocks } from '../lib/int-blocks.ts';
import type { AnnArena } from './ann-arena.ts';
import type { GraphTables } from './id-tables.ts';
import type { LinkArena } from './link-arena.ts';
import type { LinkStateSample, LinkView, NodeRecordView } from './node-record.ts';
import { ArenaAnnouncement } from './stored-announcement.ts';
import { STATE_HASH_BYTES } from './constants.ts';

/** kept lists: 2, 4, 8, … announcements */
const KEPT_CLASSES = [2, 4, 8, 16];

/** The arenas every compact record reads from. */
export class CompactStore {
  /** 64 bytes per node id: the node's stateHash */
  private hashes = new Uint8Array(STATE_HASH_BYTES * 1024);
  /** every node's kept announcements (arena ids, newest first), one block per node */
  readonly kept = new IntBlocks(KEPT_CLASSES, 1 << 14);

  constructor(
    readonly tables: GraphTables,
    readonly anns: AnnArena,
    readonly links: LinkArena,
  ) {}

  /** The node's stateHash as a fresh copy (it changes in place). */
  stateHashOf(id: number): Uint8Array {
    return this.hashes.slice(STATE_HASH_BYTES * id, STATE_HASH_BYTES * (id + 1));
  }

  /** The node's stateHash in place (the apply folds into it): valid until the next call. */
  stateHashSlot(id: number): Uint8Array {
    const need = STATE_HASH_BYTES * (id + 1);
    if (need > this.hashes.length) {
      let n = this.hashes.length * 2;
      while (n < need) n *= 2;
      const h = new Uint8Array(n);
      h.set(this.hashes);
      this.hashes = h;
    }
    return this.hashes.subarray(STATE_HASH_BYTES * id, need);
  }
}

const NO_LIST: readonly number[] = [];

/** 15 hex digits of an integer timestamp (a record without announcements left: never read in practice). */
function hex15(t: number): string {
  return '0' + Math.max(0, Math.floor(t)).toString(16).padStart(15, '0').slice(-15);
}

export class CompactNodeRecord implements NodeRecordView {
  version = 0;
  schemeId = -1;
  timestamp = 0;
  /** first link in the link arena (-1: none) */
  firstLink = -1;
  /** kept announcements, newest first: arena ids in an IntBlocks block (see CompactNodeTable) */
  keptOff = -1;
  keptClass = 0;
  keptCount = 0;
  /** the reset that created the record (arena id) */
  resetAnn = -1;
  /** forgotten or replaced: reads as empty */
  dead = false;

  constructor(
    readonly store: CompactStore,
    /** node id (GraphTables.ids) */
    readonly id: number,
    readonly ipv6: string,
  ) {}

  get key(): string {
    return publicKeyToString(this.keyBytes);
  }

  get keyBytes(): Uint8Array {
    return this.store.tables.ids.keyOf(this.id) ?? new Uint8Array(32);
  }

  get encodingScheme(): EncodingScheme {
    return this.store.tables.schemes.get(this.schemeId);
  }

  /** The newest accepted announcement's timestamp as the original keeps it (it is kept first). */
  get timestampHex(): string {
    if (this.dead || this.keptCount === 0) return hex15(this.timestamp);
    const id = this.store.kept.data[this.keptOff]!;
    const given = this.store.anns.givenOf(id);
    return given
      ? given.timestampHex
      : parseTimestampField(this.store.anns.bytes(id), 112).timestampHex;
  }

  get stateHash(): Uint8Array {
    return this.store.stateHashOf(this.id);
  }

  /** Arena ids of the kept announcements, newest first. */
  keptList(): readonly number[] {
    if (this.dead || this.keptCount === 0) return NO_LIST;
    const d = this.store.kept.data;
    const out = new Array<number>(this.keptCount);
    for (let i = 0; i < this.keptCount; i++) out[i] = d[this.keptOff + i]!;
    return out;
  }

  get announcements(): readonly Announcement[] {
    return this.keptList().map((id) => new ArenaAnnouncement(this.store.anns, id, this));
  }

  get resetMsg(): Announcement {
    return new ArenaAnnouncement(this.store.anns, this.resetAnn, this);
  }

  /** The reset is still among the kept announcements (`/ni`'s `rst` is its negation). */
  get keepsResetMsg(): boolean {
    if (this.dead) return false;
    const d = this.store.kept.data;
    for (let i = 0; i < this.keptCount; i++) if (d[this.keptOff + i] === this.resetAnn) return true;
    return false;
  }

  get inwardLinksByIp(): ReadonlyMap<string, readonly LinkView[]> {
    const out = new Map<string, LinkView[]>();
    if (this.dead) return out;
    const a = this.store.links;
    const ids = this.store.tables.ids;
    for (let l = this.firstLink; l >= 0; l = a.next[l]!) {
      const ip = ids.ipOf(a.peer[l]!);
      let list = out.get(ip);
      if (!list) out.set(ip, (list = []));
      list.push(new ArenaLinkView(this.store, l));
    }
    return out;
  }

  /** Links of the record (diagnostics, metrics). */
  get linkCount(): number {
    let n = 0;
    if (this.dead) return 0;
    const next = this.store.links.next;
    for (let l = this.firstLink; l >= 0; l = next[l]!) n++;
    return n;
  }
}

/** A link of the arena as a LinkView: read when handed out (the slot is reused once freed). */
export class ArenaLinkView implements LinkView {
  readonly label: string;
  readonly encodingFormNum: number;
  readonly peerNum: number;
  readonly createTime: number;
  readonly mostRecentLsSlot: number;
  readonly time: number;
  readonly mtu: number;
  readonly flags: number;
  readonly value: number;
  readonly linkState: ArenaSamplesView;

  constructor(store: CompactStore, id: number) {
    const a = store.links;
    this.label = store.tables.labels.textOf(a.label[id]!);
    this.encodingFormNum = a.form[id]!;
    this.peerNum = a.peerNum[id]!;
    this.createTime = a.createTime[id]!;
    this.mostRecentLsSlot = a.lsSlot[id]!;
    this.time = a.time[id]!;
    this.mtu = a.mtu[id]!;
    this.flags = a.flags[id]!;
    this.value = a.value[id]!;
    this.linkState = new ArenaSamplesView(a, id);
  }
}

/** A link's samples as the Map-like view readers iterate (made from the arena when read). */
export class ArenaSamplesView implements Iterable<[number, LinkStateSample]> {
  constructor(
    private readonly a: LinkArena,
    private readonly id: number,
  ) {}

  get size(): number {
    return this.a.sampleCount(this.id);
  }

  get(slot: number): LinkStateSample | undefined {
    return this.a.sampleAt(this.id, slot);
  }

  [Symbol.iterator](): IterableIterator<[number, LinkStateSample]> {
    return this.a.sampleEntries(this.id);
  }
}
