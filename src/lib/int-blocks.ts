/**
 * Variable-length blocks of 32-bit integers inside one growable Int32Array: the storage of many
 * small lists (a link's link-state samples, a node's kept announcements) without a JS object or
 * an ArrayBuffer per list. A block is allocated in a size class (the sizes given, then doubling
 * past the last one) from that class's free list, or from the end of the array; a freed block
 * goes back to its class's free list (the list threads through the free blocks' first slot).
 *
 * A block is named by its offset into `data`. The owner keeps the block's class (or its
 * capacity, which gives the class) and how much of it is used. `data` is replaced when it grows:
 * read it again after every `alloc`.
 */
export class IntBlocks {
  /** the storage; every block is `data[offset .. offset + capacity)` */
  data: Int32Array;
  private top = 0;
  /** head of each class's free list (-1: empty) */
  private heads: number[] = [];
  private liveInts = 0;

  /** `classes`: block capacities in ints, ascending (larger blocks double the last one). */
  constructor(
    private readonly classes: readonly number[],
    initialInts = 1024,
  ) {
    if (classes.length === 0 || classes.some((c, i) => c < 1 || (i > 0 && c <= classes[i - 1]!)))
      throw new RangeError('size classes must be ascending and positive');
    this.data = new Int32Array(Math.max(initialInts, classes[0]!));
  }

  /** The capacity of class `c`. */
  capacityOf(c: number): number {
    const n = this.classes.length;
    return c < n ? this.classes[c]! : this.classes[n - 1]! * 2 ** (c - n + 1);
  }

  /** The smallest class that holds `ints`. */
  classFor(ints: number): number {
    let c = 0;
    while (this.capacityOf(c) < ints) c++;
    return c;
  }

  /** A block of class `c`; its contents are undefined. Returns its offset. */
  alloc(c: number): number {
    const cap = this.capacityOf(c);
    this.liveInts += cap;
    const head = this.heads[c] ?? -1;
    if (head >= 0) {
      this.heads[c] = this.data[head]!;
      return head;
    }
    const off = this.top;
    if (off + cap > this.data.length) {
      let size = this.data.length * 2;
      while (off + cap > size) size *= 2;
      const next = new Int32Array(size);
      next.set(this.data.subarray(0, this.top));
      this.data = next;
    }
    this.top += cap;
    return off;
  }

  /** Give back a block of class `c`. */
  free(offset: number, c: number): void {
    this.liveInts -= this.capacityOf(c);
    this.data[offset] = this.heads[c] ?? -1;
    this.heads[c] = offset;
  }

  /**
   * Move the first `used` ints of block `offset` (class `c`) into a block of class `to` and free
   * the old one. Returns the new offset.
   */
  move(offset: number, c: number, used: number, to: number): number {
    const next = this.alloc(to);
    this.data.copyWithin(next, offset, offset + used);
    this.free(offset, c);
    return next;
  }

  /** Ints in blocks handed out (diagnostics). */
  get live(): number {
    return this.liveInts;
  }

  /** Ints of the array used so far, free blocks included (diagnostics). */
  get used(): number {
    return this.top;
  }
}
