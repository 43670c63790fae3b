/**
 * The packed links of every node a replica holds (node-update.ts), copied into shared chunks of
 * doubles instead of one Float64Array (and ArrayBuffer) per node: an ArrayBuffer costs ~340
 * bytes of native bookkeeping beside its payload, per node and per replica (issue 17). A node's
 * links are a view into a chunk; a chunk is written front to back, and a chunk most of whose
 * views were replaced is compacted by copying the live ones into the current chunk (the owner
 * swaps the views it holds: `compact` tells it which).
 */
import type { PackedLinks } from './node-update.ts';

const CHUNK_DOUBLES = 64 * 1024;
/** the place of a dropped chunk (its slot is reused) */
const DROPPED = new Float64Array(0);

export class ReplicaLinks {
  private chunks: Float64Array[] = [];
  private live: number[] = [];
  private current = -1;
  private pos = CHUNK_DOUBLES;
  private readonly chunkOf = new Map<ArrayBufferLike, number>();

  /** A view holding a copy of `links`. */
  copy(links: PackedLinks): Float64Array {
    const n = links.length;
    if (n > CHUNK_DOUBLES / 4) return Float64Array.from(links);
    if (this.pos + n > CHUNK_DOUBLES) this.newChunk();
    const view = this.chunks[this.current]!.subarray(this.pos, this.pos + n);
    view.set(links);
    this.pos += n;
    this.live[this.current]! += n;
    return view;
  }

  /**
   * `view` (made by `copy`) is no longer held. Returns the index of a chunk that fell under a
   * quarter live and should be compacted (`compact`), or -1.
   */
  release(view: Float64Array): number {
    const c = this.chunkOf.get(view.buffer);
    if (c === undefined) return -1;
    this.live[c]! -= view.length;
    return c !== this.current && this.live[c]! < CHUNK_DOUBLES / 4 ? c : -1;
  }

  /** True if `view` lies in chunk `c`. */
  holds(c: number, view: Float64Array): boolean {
    return this.chunkOf.get(view.buffer) === c;
  }

  /** Move `view` (in chunk `c`, being compacted) to the current chunk: its new view. */
  move(view: Float64Array): Float64Array {
    const c = this.chunkOf.get(view.buffer);
    if (c !== undefined) this.live[c]! -= view.length;
    return this.copy(view);
  }

  /** Drop chunk `c` once every view of it was moved. */
  drop(c: number): void {
    const chunk = this.chunks[c];
    if (!chunk || chunk === DROPPED) return;
    this.chunkOf.delete(chunk.buffer);
    this.chunks[c] = DROPPED;
    this.live[c] = 0;
  }

  /** Forget everything. */
  clear(): void {
    this.chunks = [];
    this.live = [];
    this.current = -1;
    this.pos = CHUNK_DOUBLES;
    this.chunkOf.clear();
  }

  private newChunk(): void {
    const chunk = new Float64Array(CHUNK_DOUBLES);
    // reuse a dropped chunk's slot
    let slot = this.chunks.indexOf(DROPPED);
    if (slot < 0) slot = this.chunks.length;
    this.chunks[slot] = chunk;
    this.live[slot] = 0;
    this.chunkOf.set(chunk.buffer, slot);
    this.current = slot;
    this.pos = 0;
  }
}
