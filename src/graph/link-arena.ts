/**
 * Every inward link of the fast engine's node records, and their link-state samples, in typed
 * columns indexed by a link id (issue 17: no object, Map or ArrayBuffer per link). What a Link
 * object holds (node-record.ts) is one slot of each column:
 *
 *   next      the node's next link (a node's links are a list: peers in first-insertion order,
 *             each peer's links together in announcement order; -1 ends it)
 *   peer      the peer's node id (NodeIds), label its LabelTable id, peerNum, form, flags, mtu
 *   createTime, time, value, mostRecentLsSlot   doubles, exactly as the record keeps them
 *   samples   a block of `IntBlocks`, 2 ints (8 bytes) a sample: lag << 16 | drops, and
 *             kbRecv << 8 | the slot's offset above the link's `sBase` (the lowest slot it
 *             holds, moved when a sample below it comes; a link keeps at most 121 slots, since
 *             older ones are forgotten before new ones are set, so offsets fit a byte); in
 *             insertion order with a Map's semantics (link-state-table.ts). A link whose sample
 *             does not fit (lag or drops ≥ 2^16, kbRecv ≥ 2^24 KB a slot, slots more than 255
 *             apart: never from cjdns) keeps a LinkStateTable in `wide` instead
 *
 * Freed ids are reused. `target(id)` gives the link to the link-state arithmetic
 * (link-state.ts); `view(id)` a short-lived Link for readers.
 */
import { IntBlocks } from '../lib/int-blocks.ts';
import { LinkStateTable } from './link-state-table.ts';
import type { LinkStateTarget } from './link-state.ts';
import type { LinkStateSample } from './node-record.ts';

/** ints per sample */
const S = 2;
/** sample blocks: 6, 12, 18, 36, 72, 144 samples (then doubling) */
const SAMPLE_CLASSES = [6 * S, 12 * S, 18 * S, 36 * S, 72 * S, 144 * S];
const NO_BLOCK = -1;
/** the largest offset of a slot above the link's base */
const MAX_OFFSET = 0xff;

/** The sample's values fit the packed form (the slot is checked against the link's base). */
function fitsNarrow(slot: number, drops: number, lag: number, kbRecv: number): boolean {
  return (
    Number.isInteger(slot) &&
    slot >= 0 &&
    slot <= 0xffffffff &&
    Number.isInteger(lag) &&
    lag >= 0 &&
    lag <= 0xffff &&
    Number.isInteger(drops) &&
    drops >= 0 &&
    drops <= 0xffff &&
    Number.isInteger(kbRecv) &&
    kbRecv >= 0 &&
    kbRecv <= 0xffffff
  );
}

export class LinkArena {
  next = new Int32Array(1024);
  peer = new Int32Array(1024);
  label = new Int32Array(1024);
  peerNum = new Int32Array(1024);
  form = new Uint8Array(1024);
  flags = new Uint8Array(1024);
  mtu = new Uint32Array(1024);
  createTime = new Float64Array(1024);
  time = new Float64Array(1024);
  value = new Float64Array(1024);
  lsSlot = new Float64Array(1024);
  private sOff = new Int32Array(1024);
  /** the slot that offset 0 of the link's samples stands for */
  private sBase = new Float64Array(1024);
  private sCount = new Uint16Array(1024);
  private sClass = new Uint8Array(1024);
  private readonly samples = new IntBlocks(SAMPLE_CLASSES, 1 << 16);
  private readonly wide = new Map<number, LinkStateTable>();
  private readonly freeIds: number[] = [];
  private top = 0;
  private liveCount = 0;
  private readonly cursor = new ArenaLinkTarget(this);

  /** Links held. */
  get size(): number {
    return this.liveCount;
  }

  /** A fresh link (no samples, value 0); its other fields are the caller's to set. */
  alloc(): number {
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.top++;
    if (id >= this.next.length) this.grow(id + 1);
    this.next[id] = -1;
    this.value[id] = 0;
    this.sOff[id] = NO_BLOCK;
    this.sCount[id] = 0;
    this.liveCount++;
    return id;
  }

  free(id: number): void {
    this.clearSamples(id);
    this.liveCount--;
    this.freeIds.push(id);
  }

  /** Forget every sample of the link. */
  clearSamples(id: number): void {
    if (this.sOff[id] !== NO_BLOCK) this.samples.free(this.sOff[id]!, this.sClass[id]!);
    this.sOff[id] = NO_BLOCK;
    this.sCount[id] = 0;
    this.wide.delete(id);
  }

  /** The link as link-state.ts applies to it (one shared cursor: use it before asking again). */
  target(id: number): LinkStateTarget {
    this.cursor.id = id;
    return this.cursor;
  }

  // ---- samples (the semantics of LinkStateTable) ------------------------------------------------

  sampleCount(id: number): number {
    const w = this.wide.get(id);
    return w ? w.size : this.sCount[id]!;
  }

  setSample(id: number, slot: number, drops: number, lag: number, kbRecv: number): void {
    let w = this.wide.get(id);
    if (!w && (!fitsNarrow(slot, drops, lag, kbRecv) || !this.reaches(id, slot)))
      w = this.widen(id);
    if (w) {
      w.set(slot, { drops, lag, kbRecv });
      return;
    }
    const off = this.sOff[id]!;
    const n = this.sCount[id]!;
    const rel = slot - this.sBase[id]!;
    const d0 = this.samples.data;
    // newest samples are appended last and looked up most: search from the end
    for (let i = n - 1; i >= 0; i--) {
      const o = off + S * i;
      if ((d0[o + 1]! & MAX_OFFSET) === rel) {
        d0[o] = (lag << 16) | drops;
        d0[o + 1] = (kbRecv << 8) | rel;
        return;
      }
    }
    const o = this.room(id, n + 1) + S * n;
    const d = this.samples.data;
    d[o] = (lag << 16) | drops;
    d[o + 1] = (kbRecv << 8) | rel;
    this.sCount[id] = n + 1;
  }

  /**
   * Whether `slot` can be held beside the link's samples: its offset above the base fits a
   * byte, moving the base down (and the held offsets up) if the slot is below it.
   */
  private reaches(id: number, slot: number): boolean {
    const n = this.sCount[id]!;
    if (n === 0) {
      this.sBase[id] = slot;
      return true;
    }
    const base = this.sBase[id]!;
    if (slot >= base) return slot - base <= MAX_OFFSET;
    const d = this.samples.data;
    const off = this.sOff[id]!;
    const shift = base - slot;
    for (let i = 0; i < n; i++)
      if ((d[off + S * i + 1]! & MAX_OFFSET) + shift > MAX_OFFSET) return false;
    for (let i = 0; i < n; i++) d[off + S * i + 1] = d[off + S * i + 1]! + shift;
    this.sBase[id] = slot;
    return true;
  }

  deleteSamplesBelow(id: number, minSlot: number): void {
    const w = this.wide.get(id);
    if (w) {
      w.deleteBelow(minSlot);
      return;
    }
    const n = this.sCount[id]!;
    if (n === 0) return;
    const d = this.samples.data;
    const off = this.sOff[id]!;
    const base = this.sBase[id]!;
    let k = 0;
    for (let r = 0; r < n; r++) {
      const o = off + S * r;
      if (base + (d[o + 1]! & MAX_OFFSET) < minSlot) continue;
      if (k !== r) {
        const t = off + S * k;
        d[t] = d[o]!;
        d[t + 1] = d[o + 1]!;
      }
      k++;
    }
    this.sCount[id] = k;
  }

  /** The link's samples, slot → sample, in insertion order. */
  *sampleEntries(id: number): IterableIterator<[number, LinkStateSample]> {
    const w = this.wide.get(id);
    if (w) {
      yield* w.entries();
      return;
    }
    for (let i = 0; i < this.sCount[id]!; i++) {
      const d = this.samples.data;
      const o = this.sOff[id]! + S * i;
      yield [this.sBase[id]! + (d[o + 1]! & MAX_OFFSET), unpack(d[o]!, d[o + 1]!)];
    }
  }

  /** The sample of `slot`, if any. */
  sampleAt(id: number, slot: number): LinkStateSample | undefined {
    const w = this.wide.get(id);
    if (w) return w.get(slot);
    const rel = slot - this.sBase[id]!;
    if (!(rel >= 0 && rel <= MAX_OFFSET)) return undefined;
    const d = this.samples.data;
    const off = this.sOff[id]!;
    for (let i = this.sCount[id]! - 1; i >= 0; i--) {
      const o = off + S * i;
      if ((d[o + 1]! & MAX_OFFSET) === rel) return unpack(d[o]!, d[o + 1]!);
    }
    return undefined;
  }

  /** Ints of sample storage in use and allocated (diagnostics). */
  get sampleInts(): { live: number; used: number } {
    return { live: this.samples.live, used: this.samples.used };
  }

  /** A block for at least `n` samples, keeping the first sCount ones; returns its offset. */
  private room(id: number, n: number): number {
    const off = this.sOff[id]!;
    if (off === NO_BLOCK) {
      const c = this.samples.classFor(S * n);
      this.sClass[id] = c;
      return (this.sOff[id] = this.samples.alloc(c));
    }
    const c = this.sClass[id]!;
    if (S * n <= this.samples.capacityOf(c)) return off;
    const to = this.samples.classFor(S * n);
    this.sClass[id] = to;
    return (this.sOff[id] = this.samples.move(off, c, S * this.sCount[id]!, to));
  }

  private widen(id: number): LinkStateTable {
    const w = new LinkStateTable();
    for (const [slot, s] of this.sampleEntries(id)) w.set(slot, s);
    if (this.sOff[id] !== NO_BLOCK) this.samples.free(this.sOff[id]!, this.sClass[id]!);
    this.sOff[id] = NO_BLOCK;
    this.sCount[id] = 0;
    this.wide.set(id, w);
    return w;
  }

  private grow(min: number): void {
    let n = this.next.length * 2;
    while (n < min) n *= 2;
    const g = <T extends Int32Array | Uint8Array | Uint16Array | Uint32Array | Float64Array>(
      a: T,
      make: (k: number) => T,
    ): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.next = g(this.next, (k) => new Int32Array(k));
    this.peer = g(this.peer, (k) => new Int32Array(k));
    this.label = g(this.label, (k) => new Int32Array(k));
    this.peerNum = g(this.peerNum, (k) => new Int32Array(k));
    this.form = g(this.form, (k) => new Uint8Array(k));
    this.flags = g(this.flags, (k) => new Uint8Array(k));
    this.mtu = g(this.mtu, (k) => new Uint32Array(k));
    this.createTime = g(this.createTime, (k) => new Float64Array(k));
    this.time = g(this.time, (k) => new Float64Array(k));
    this.value = g(this.value, (k) => new Float64Array(k));
    this.lsSlot = g(this.lsSlot, (k) => new Float64Array(k));
    this.sOff = g(this.sOff, (k) => new Int32Array(k));
    this.sBase = g(this.sBase, (k) => new Float64Array(k));
    this.sCount = g(this.sCount, (k) => new Uint16Array(k));
    this.sClass = g(this.sClass, (k) => new Uint8Array(k));
  }
}

/** A packed sample (see the file comment). */
function unpack(ld: number, kb: number): LinkStateSample {
  return { drops: ld & 0xffff, lag: ld >>> 16, kbRecv: kb >>> 8 };
}

/** One link of the arena as link-state.ts sees it (a cursor: `id` is set before each use). */
class ArenaLinkTarget implements LinkStateTarget {
  id = 0;

  constructor(private readonly a: LinkArena) {}

  get mostRecentLsSlot(): number {
    return this.a.lsSlot[this.id]!;
  }

  set mostRecentLsSlot(v: number) {
    this.a.lsSlot[this.id] = v;
  }

  get value(): number {
    return this.a.value[this.id]!;
  }

  set value(v: number) {
    this.a.value[this.id] = v;
  }

  deleteSamplesBelow(minSlot: number): void {
    this.a.deleteSamplesBelow(this.id, minSlot);
  }

  setSample(slot: number, drops: number, lag: number, kbRecv: number): void {
    this.a.setSample(this.id, slot, drops, lag, kbRecv);
  }
}
