/**
 * The replication store (docs/protocol.md §7.4): every announcement this server offers to its
 * replication peers, as an ordered hash list plus hash → bytes. Add, delete, has and get are
 * O(1); iteration is in insertion order, and re-adding an existing hash keeps its position (the
 * original logs "Tried to add hash … multiple times" and changes nothing). Deletions are never
 * announced to peers.
 *
 * The bytes live in the announcement arena (ann-arena.ts) the fast engine's node records share:
 * an announcement a record keeps is stored once, whoever names it. The index is two typed arrays:
 * an open-addressing table of arena ids keyed by the hash's first bytes (sha512: uniform), and
 * the insertion order as ids with a sequence number each, deleted entries left as holes until a
 * compaction. Iterators follow the rules of a JS Map's: an entry added while one runs is
 * visited, a deleted one is not, whatever compactions happen in between.
 */
import type { Announcement } from '../protocol/announcement-types.ts';
import { AnnArena } from './ann-arena.ts';
import { isArenaAnnouncement } from './stored-announcement.ts';

export interface StoredAnnouncement {
  readonly hash: Uint8Array;
  readonly binary: Uint8Array;
}

const EMPTY = 0;
const TOMBSTONE = -1;

export class ReplicationStore {
  /** the bytes of every stored announcement (and of the fast engine's records) */
  readonly arena: AnnArena;
  /** open addressing: 0 empty, -1 deleted, else id + 1 */
  private table = new Int32Array(1024);
  private tableUsed = 0;
  /** insertion order: ids (-1 = deleted) and their sequence numbers, ascending */
  private orderIds = new Int32Array(1024);
  private orderSeq = new Float64Array(1024);
  private orderLen = 0;
  /** position in the order of each stored id */
  private posOf = new Int32Array(1024);
  private seq = 0;
  private count = 0;
  /** bumped by every compaction of the order (iterators then find their place again) */
  private epoch = 0;

  constructor(arena: AnnArena = new AnnArena()) {
    this.arena = arena;
  }

  /**
   * Add `ann` (its bytes under its hash); false (and no change) if the hash is already stored.
   * An announcement of this store's arena is referenced, any other is copied in.
   */
  add(ann: Announcement): boolean;
  add(hash: Uint8Array, binary: Uint8Array): boolean;
  add(a: Announcement | Uint8Array, binary?: Uint8Array): boolean {
    const hash = a instanceof Uint8Array ? a : a.hash;
    if (this.find(hash) >= 0) return false;
    let id: number;
    if (
      !(a instanceof Uint8Array) &&
      isArenaAnnouncement(a, this.arena) &&
      this.arena.holds(a.id) &&
      this.arena.hashEquals(a.id, hash)
    ) {
      id = a.id;
      this.arena.ref(id);
    } else {
      id = this.arena.add(hash, a instanceof Uint8Array ? binary! : a.binary);
      this.arena.ref(id);
    }
    this.insert(id);
    return true;
  }

  /** Remove a hash; false if it was not stored. */
  delete(hash: Uint8Array): boolean {
    const slot = this.slotOf(hash);
    if (slot < 0) return false;
    const id = this.table[slot]! - 1;
    this.unslot(slot);
    const pos = this.posOf[id]!;
    this.orderIds[pos] = -1;
    this.count--;
    this.arena.unref(id);
    if (this.orderLen > 1024 && this.count < this.orderLen / 2) this.compactOrder();
    return true;
  }

  has(hash: Uint8Array): boolean {
    return this.find(hash) >= 0;
  }

  get(hash: Uint8Array): Uint8Array | undefined {
    const id = this.find(hash);
    return id < 0 ? undefined : this.arena.bytes(id);
  }

  /** The arena id of a stored hash, or -1. */
  find(hash: Uint8Array): number {
    const slot = this.slotOf(hash);
    return slot < 0 ? -1 : this.table[slot]! - 1;
  }

  /** Number of stored announcements. */
  get size(): number {
    return this.count;
  }

  /**
   * The two counts the original reports on `/` and `/ni` (`announcements` = hash list length,
   * `annByHashLen` = map size); one structure here, so always equal.
   */
  sizes(): { announcements: number; annByHashLen: number } {
    return { announcements: this.count, annByHashLen: this.count };
  }

  /** Hashes in store order (the order INV advertises them). */
  *hashes(): IterableIterator<Uint8Array> {
    for (const id of this.ids()) yield this.arena.hash(id);
  }

  /** Hash and bytes in store order. */
  *entries(): IterableIterator<StoredAnnouncement> {
    for (const id of this.ids()) yield { hash: this.arena.hash(id), binary: this.arena.bytes(id) };
  }

  /** Arena ids in store order, with a JS Map iterator's rules (see the file comment). */
  *ids(): IterableIterator<number> {
    let epoch = this.epoch;
    let i = 0;
    let lastSeq = -1;
    for (;;) {
      if (epoch !== this.epoch) {
        // the order was compacted: continue after the last entry visited
        epoch = this.epoch;
        i = this.firstAfter(lastSeq);
      }
      if (i >= this.orderLen) return;
      const id = this.orderIds[i]!;
      lastSeq = this.orderSeq[i]!;
      i++;
      if (id >= 0) yield id;
    }
  }

  // ---- index -----------------------------------------------------------------------------------

  private static prefix(hash: Uint8Array): number {
    return (hash[0]! | (hash[1]! << 8) | (hash[2]! << 16) | (hash[3]! << 24)) >>> 0;
  }

  /** The table slot holding `hash`, or -1. */
  private slotOf(hash: Uint8Array): number {
    if (hash.length !== 64) return -1;
    const mask = this.table.length - 1;
    let s = ReplicationStore.prefix(hash) & mask;
    for (;;) {
      const v = this.table[s]!;
      if (v === EMPTY) return -1;
      if (v > 0 && this.arena.hashEquals(v - 1, hash)) return s;
      s = (s + 1) & mask;
    }
  }

  /**
   * Free a table slot. Linear probing needs a tombstone there only when a probe can pass it:
   * when the next slot is empty none can, so it becomes empty — and so do the tombstones right
   * before it. Entries replacing others (a node's next announcement for its previous one) then
   * leave few tombstones, and the table is rehashed far less often.
   */
  private unslot(slot: number): void {
    const mask = this.table.length - 1;
    if (this.table[(slot + 1) & mask] !== EMPTY) {
      this.table[slot] = TOMBSTONE;
      return;
    }
    let s = slot;
    do {
      this.table[s] = EMPTY;
      this.tableUsed--;
      s = (s - 1) & mask;
    } while (this.table[s] === TOMBSTONE);
  }

  private insert(id: number): void {
    if ((this.tableUsed + 1) * 2 > this.table.length) this.rehash(this.count + 1);
    const mask = this.table.length - 1;
    let s = this.arena.hashPrefix(id) & mask;
    while (this.table[s]! > 0) s = (s + 1) & mask;
    if (this.table[s] === EMPTY) this.tableUsed++;
    this.table[s] = id + 1;
    if (this.orderLen === this.orderIds.length) this.growOrder();
    if (id >= this.posOf.length) {
      let n = this.posOf.length * 2;
      while (n <= id) n *= 2;
      const p = new Int32Array(n);
      p.set(this.posOf);
      this.posOf = p;
    }
    this.posOf[id] = this.orderLen;
    this.orderIds[this.orderLen] = id;
    this.orderSeq[this.orderLen] = this.seq++;
    this.orderLen++;
    this.count++;
  }

  /** A table of twice the live entries' needs, without tombstones. */
  private rehash(live: number): void {
    let size = 1024;
    while (size < live * 4) size *= 2;
    const old = this.table;
    this.table = new Int32Array(size);
    this.tableUsed = 0;
    const mask = size - 1;
    for (const v of old) {
      if (v <= 0) continue;
      let s = this.arena.hashPrefix(v - 1) & mask;
      while (this.table[s] !== EMPTY) s = (s + 1) & mask;
      this.table[s] = v;
      this.tableUsed++;
    }
  }

  private growOrder(): void {
    const ids = new Int32Array(this.orderIds.length * 2);
    ids.set(this.orderIds);
    const seq = new Float64Array(this.orderSeq.length * 2);
    seq.set(this.orderSeq);
    this.orderIds = ids;
    this.orderSeq = seq;
  }

  private compactOrder(): void {
    let w = 0;
    for (let r = 0; r < this.orderLen; r++) {
      const id = this.orderIds[r]!;
      if (id < 0) continue;
      this.orderIds[w] = id;
      this.orderSeq[w] = this.orderSeq[r]!;
      this.posOf[id] = w;
      w++;
    }
    this.orderLen = w;
    this.epoch++;
  }

  /** The first position whose sequence number is above `seq`. */
  private firstAfter(seq: number): number {
    let lo = 0;
    let hi = this.orderLen;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.orderSeq[mid]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
