/** A FIFO with O(1) push and shift (a growable ring buffer); Array#shift is O(n). */
export class Deque<T> {
  private buf: Array<T | undefined>;
  private head = 0;
  private count = 0;

  constructor(capacity = 16) {
    this.buf = new Array<T | undefined>(Math.max(4, capacity));
  }

  get length(): number {
    return this.count;
  }

  push(v: T): void {
    if (this.count === this.buf.length) this.grow();
    this.buf[(this.head + this.count) % this.buf.length] = v;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.count--;
    return v;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.buf[this.head];
  }

  at(i: number): T | undefined {
    return i < 0 || i >= this.count ? undefined : this.buf[(this.head + i) % this.buf.length];
  }

  clear(): void {
    this.buf = new Array<T | undefined>(16);
    this.head = 0;
    this.count = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.buf[(this.head + i) % this.buf.length] as T;
  }

  /** Keep only the items `keep` accepts, in order. */
  filter(keep: (v: T) => boolean): void {
    const items = [...this].filter(keep);
    this.clear();
    for (const v of items) this.push(v);
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.buf.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.buf[(this.head + i) % this.buf.length];
    this.buf = next;
    this.head = 0;
  }
}
