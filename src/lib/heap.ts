/**
 * The project's one priority queue: a 4-ary min-heap of integer items (node ids), in typed
 * arrays, keyed by (priority, seq) where `seq` is a counter value taken at every push and every
 * decrease. Among equal priorities the entry set earliest pops first — exactly the order of
 * node-dijkstra's stably re-sorted frontier array (routing/reference/shortest-path.ts), which the
 * route searches must reproduce.
 *
 * With positions (`trackPositions(n)`), `pos[item]` is the item's heap index while it is in the
 * heap, so `decrease` can move it (the tree search, the pair search, the reference search); the
 * owner may keep its own marks in `pos` for items not in the heap. Without, an item may be
 * pushed again and the stale entry skipped when popped.
 *
 * The fields are public so a hot loop can read the top (`items[0]`, `prios[0]`) without a call.
 */
export class MinHeap {
  /** items in heap order, their priorities and seqs beside them (sift steps read contiguous memory) */
  items = new Int32Array(16);
  prios = new Float64Array(16);
  seqs = new Int32Array(16);
  size = 0;
  /** the seq of the next push or decrease */
  counter = 0;
  /** heap index of every item in the heap, by item (only with `trackPositions`) */
  pos: Int32Array<ArrayBuffer> | undefined;

  /**
   * Keep positions for items 0 … n−1. Growing `pos` keeps its contents (items in the heap keep
   * their positions); what it holds for items not in the heap is the owner's business.
   */
  trackPositions(n: number): Int32Array<ArrayBuffer> {
    const old = this.pos;
    if (old && old.length >= n) return old;
    const pos = new Int32Array(Math.max(n, (old?.length ?? 0) * 2));
    if (old) pos.set(old);
    this.pos = pos;
    return pos;
  }

  /** Empty the heap and restart the seq counter. */
  clear(): void {
    this.size = 0;
    this.counter = 0;
  }

  /** Insert `item` with `prio`. */
  push(item: number, prio: number): void {
    if (this.size === this.items.length) this.grow();
    this.siftUp(this.size++, item, prio, this.counter++);
  }

  /** Lower the priority of `item`, which is in the heap (positions tracked); it takes a new seq. */
  decrease(item: number, prio: number): void {
    this.siftUp(this.pos![item]!, item, prio, this.counter++);
  }

  /** Remove the top entry (read it from `items[0]` / `prios[0]` first). */
  pop(): void {
    const size = --this.size;
    if (size === 0) return;
    const items = this.items;
    const prios = this.prios;
    const seqs = this.seqs;
    const pos = this.pos;
    const last = items[size]!;
    const lp = prios[size]!;
    const ls = seqs[size]!;
    let i = 0;
    for (;;) {
      const c0 = 4 * i + 1;
      if (c0 >= size) break;
      let c = c0;
      let cp = prios[c0]!;
      let cs = seqs[c0]!;
      if (c0 + 3 < size) {
        // all four children (the common case): no loop bookkeeping
        let kp = prios[c0 + 1]!;
        if (kp < cp || (kp === cp && seqs[c0 + 1]! < cs)) {
          c = c0 + 1;
          cp = kp;
          cs = seqs[c]!;
        }
        kp = prios[c0 + 2]!;
        if (kp < cp || (kp === cp && seqs[c0 + 2]! < cs)) {
          c = c0 + 2;
          cp = kp;
          cs = seqs[c]!;
        }
        kp = prios[c0 + 3]!;
        if (kp < cp || (kp === cp && seqs[c0 + 3]! < cs)) {
          c = c0 + 3;
          cp = kp;
          cs = seqs[c]!;
        }
      } else {
        for (let k = c0 + 1; k < size; k++) {
          const kp = prios[k]!;
          if (kp < cp || (kp === cp && seqs[k]! < cs)) {
            c = k;
            cp = kp;
            cs = seqs[k]!;
          }
        }
      }
      if (!(cp < lp || (cp === lp && cs < ls))) break;
      const cv = items[c]!;
      items[i] = cv;
      prios[i] = cp;
      seqs[i] = cs;
      if (pos) pos[cv] = i;
      i = c;
    }
    items[i] = last;
    prios[i] = lp;
    seqs[i] = ls;
    if (pos) pos[last] = i;
  }

  /** Put (item, prio, seq) at index `i` or above: its key is never larger than the one it replaces. */
  private siftUp(i: number, item: number, prio: number, seq: number): void {
    const items = this.items;
    const prios = this.prios;
    const seqs = this.seqs;
    const pos = this.pos;
    while (i > 0) {
      const parent = (i - 1) >> 2;
      const pp = prios[parent]!;
      if (!(prio < pp || (prio === pp && seq < seqs[parent]!))) break;
      const pv = items[parent]!;
      items[i] = pv;
      prios[i] = pp;
      seqs[i] = seqs[parent]!;
      if (pos) pos[pv] = i;
      i = parent;
    }
    items[i] = item;
    prios[i] = prio;
    seqs[i] = seq;
    if (pos) pos[item] = i;
  }

  private grow(): void {
    const cap = this.items.length * 2;
    const items = new Int32Array(cap);
    items.set(this.items);
    const prios = new Float64Array(cap);
    prios.set(this.prios);
    const seqs = new Int32Array(cap);
    seqs.set(this.seqs);
    this.items = items;
    this.prios = prios;
    this.seqs = seqs;
  }
}
