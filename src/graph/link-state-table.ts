/**
 * A link's link-state samples, timeslot → {drops, lag, kbRecv}, with the semantics of the JS
 * Map the original keeps (iteration in insertion order, `set` on an existing slot overwrites in
 * place, `delete` removes) but stored compactly: a link holds up to ~120 samples and a network
 * has hundreds of thousands of links, so a Map of sample objects (~70 bytes a sample) dominated
 * memory. Samples live in one typed array, 12 bytes each (slot u32, lag u16 ‖ drops u16,
 * kbRecv u32) — what cjdns sends — and the table switches to doubles (32 bytes each) the first
 * time a value does not fit, so any value the parser accepts is kept exactly.
 */
import type { LinkStateSample } from './node-record.ts';

const NARROW_STRIDE = 3;
const WIDE_STRIDE = 4;
const INITIAL_CAPACITY = 18;

function fitsNarrow(slot: number, s: LinkStateSample): boolean {
  return (
    Number.isInteger(slot) &&
    slot >= 0 &&
    slot <= 0xffffffff &&
    Number.isInteger(s.lag) &&
    s.lag >= 0 &&
    s.lag <= 0xffff &&
    Number.isInteger(s.drops) &&
    s.drops >= 0 &&
    s.drops <= 0xffff &&
    Number.isInteger(s.kbRecv) &&
    s.kbRecv >= 0 &&
    s.kbRecv <= 0xffffffff
  );
}

export class LinkStateTable implements Iterable<[number, LinkStateSample]> {
  private narrow: Uint32Array | undefined = undefined;
  private wide: Float64Array | undefined = undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(slot: number): LinkStateSample | undefined {
    const i = this.indexOf(slot);
    return i < 0 ? undefined : this.sampleAt(i);
  }

  has(slot: number): boolean {
    return this.indexOf(slot) >= 0;
  }

  set(slot: number, s: LinkStateSample): this {
    if (!this.wide && !fitsNarrow(slot, s)) this.widen();
    let i = this.indexOf(slot);
    if (i < 0) {
      i = this.count++;
      this.ensure(this.count);
    }
    if (this.wide) {
      const o = i * WIDE_STRIDE;
      this.wide[o] = slot;
      this.wide[o + 1] = s.drops;
      this.wide[o + 2] = s.lag;
      this.wide[o + 3] = s.kbRecv;
    } else {
      const a = this.narrow!;
      const o = i * NARROW_STRIDE;
      a[o] = slot;
      a[o + 1] = ((s.lag << 16) | s.drops) >>> 0;
      a[o + 2] = s.kbRecv;
    }
    return this;
  }

  delete(slot: number): boolean {
    const i = this.indexOf(slot);
    if (i < 0) return false;
    const stride = this.wide ? WIDE_STRIDE : NARROW_STRIDE;
    const arr = (this.wide ?? this.narrow)!;
    arr.copyWithin(i * stride, (i + 1) * stride, this.count * stride);
    this.count--;
    return true;
  }

  /** Remove every sample whose slot is below `minSlot` (docs/protocol.md §4.6 step 2), keeping the order. */
  deleteBelow(minSlot: number): void {
    const stride = this.wide ? WIDE_STRIDE : NARROW_STRIDE;
    const arr = this.wide ?? this.narrow;
    if (!arr) return;
    let w = 0;
    for (let r = 0; r < this.count; r++) {
      if (arr[r * stride]! < minSlot) continue;
      if (w !== r) arr.copyWithin(w * stride, r * stride, (r + 1) * stride);
      w++;
    }
    this.count = w;
  }

  *keys(): IterableIterator<number> {
    const stride = this.wide ? WIDE_STRIDE : NARROW_STRIDE;
    for (let i = 0; i < this.count; i++) yield (this.wide ?? this.narrow)![i * stride]!;
  }

  *entries(): IterableIterator<[number, LinkStateSample]> {
    const stride = this.wide ? WIDE_STRIDE : NARROW_STRIDE;
    for (let i = 0; i < this.count; i++)
      yield [(this.wide ?? this.narrow)![i * stride]!, this.sampleAt(i)];
  }

  [Symbol.iterator](): IterableIterator<[number, LinkStateSample]> {
    return this.entries();
  }

  private sampleAt(i: number): LinkStateSample {
    if (this.wide) {
      const o = i * WIDE_STRIDE;
      return { drops: this.wide[o + 1]!, lag: this.wide[o + 2]!, kbRecv: this.wide[o + 3]! };
    }
    const a = this.narrow!;
    const o = i * NARROW_STRIDE;
    const ld = a[o + 1]!;
    return { drops: ld & 0xffff, lag: ld >>> 16, kbRecv: a[o + 2]! };
  }

  private indexOf(slot: number): number {
    // newest samples are appended last and looked up most: search from the end
    if (this.wide) {
      for (let i = this.count - 1; i >= 0; i--) if (this.wide[i * WIDE_STRIDE] === slot) return i;
      return -1;
    }
    const a = this.narrow;
    if (!a) return -1;
    for (let i = this.count - 1; i >= 0; i--) if (a[i * NARROW_STRIDE] === slot) return i;
    return -1;
  }

  private ensure(n: number): void {
    if (this.wide) {
      if (n * WIDE_STRIDE <= this.wide.length) return;
      const next = new Float64Array(Math.max(INITIAL_CAPACITY, n * 2) * WIDE_STRIDE);
      next.set(this.wide.subarray(0, (n - 1) * WIDE_STRIDE));
      this.wide = next;
      return;
    }
    if (this.narrow && n * NARROW_STRIDE <= this.narrow.length) return;
    const next = new Uint32Array(Math.max(INITIAL_CAPACITY, n * 2) * NARROW_STRIDE);
    if (this.narrow) next.set(this.narrow.subarray(0, (n - 1) * NARROW_STRIDE));
    this.narrow = next;
  }

  private widen(): void {
    const cap = Math.max(INITIAL_CAPACITY, this.count * 2);
    const wide = new Float64Array(cap * WIDE_STRIDE);
    for (let i = 0; i < this.count; i++) {
      const s = this.sampleAt(i);
      const o = i * WIDE_STRIDE;
      wide[o] = this.narrow![i * NARROW_STRIDE]!;
      wide[o + 1] = s.drops;
      wide[o + 2] = s.lag;
      wide[o + 3] = s.kbRecv;
    }
    this.wide = wide;
    this.narrow = undefined;
  }
}
