/**
 * The packed links of every node a replica holds (node-update.ts), by node id, copied into
 * shared chunks of doubles instead of one Float64Array (and ArrayBuffer) per node: an
 * ArrayBuffer costs ~340 bytes of native bookkeeping beside its payload, per node and per
 * replica (issue 17).
 *
 * A node's links are addressed by integers kept in typed arrays by id — its chunk, its start
 * in the chunk, its length — not by a view object: a full rebuild reads every node's links in
 * id order, and chasing one object per node (scattered over the heap) cost more than reading
 * the links themselves. Read them as `chunks[chunkOf[id]]` from `startOf[id]`.
 *
 * A chunk is written front to back; a chunk most of whose contents were replaced is compacted
 * by copying the live links into the current chunk. Links longer than a quarter chunk get a
 * chunk of their own, dropped when they are replaced.
 */
import type { PackedLinks } from './node-update.ts';
import { withLength } from '../lib/typed-arrays.ts';

const CHUNK_DOUBLES = 64 * 1024;
/** `chunkOf` of an id without links */
export const NO_LINKS = -1;
/** the place of a dropped chunk (its slot is reused) */
const DROPPED = new Float64Array(0);

export class ReplicaLinks {
  /** the chunks; `chunks[chunkOf[id]]` holds node id's links */
  chunks: Float64Array<ArrayBuffer>[] = [];
  /** by id: the chunk holding the node's links, NO_LINKS without */
  chunkOf = new Int32Array(0);
  /** by id: where the node's links start in their chunk */
  startOf = new Int32Array(0);
  /** by id: the number of doubles of the node's links */
  lengthOf = new Int32Array(0);
  /** the peers of every node held (the sum of their peer counts) */
  peerTotal = 0;
  /** the links of every node held (the sum of their link counts) */
  linkTotal = 0;
  /** nodes held */
  private held = 0;
  /** placements (new links, compaction moves) since the links were last laid out in id order */
  private scattered = 0;
  /** doubles still referenced, by chunk */
  private live: number[] = [];
  private current = -1;
  private pos = CHUNK_DOUBLES;

  /** Whether node `id` has links here. */
  has(id: number): boolean {
    return id < this.chunkOf.length && this.chunkOf[id]! !== NO_LINKS;
  }

  /** Node `id`'s links (a view of its chunk), or undefined. */
  view(id: number): Float64Array | undefined {
    if (!this.has(id)) return undefined;
    const s = this.startOf[id]!;
    return this.chunks[this.chunkOf[id]!]!.subarray(s, s + this.lengthOf[id]!);
  }

  /** Hold a copy of `links` as node `id`'s links (replacing what it had). */
  set(id: number, links: PackedLinks): void {
    this.cover(id + 1);
    const sparse = this.release(id);
    this.place(id, links);
    this.count(links, 1);
    this.held++;
    this.scattered++;
    if (sparse >= 0) this.compact(sparse);
  }

  /** Node `id` has no links anymore. */
  delete(id: number): void {
    if (!this.has(id)) return;
    const sparse = this.release(id);
    if (sparse >= 0) this.compact(sparse);
  }

  /** Forget everything. */
  clear(): void {
    this.chunks = [];
    this.live = [];
    this.chunkOf = new Int32Array(0);
    this.startOf = new Int32Array(0);
    this.lengthOf = new Int32Array(0);
    this.peerTotal = 0;
    this.linkTotal = 0;
    this.held = 0;
    this.scattered = 0;
    this.current = -1;
    this.pos = CHUNK_DOUBLES;
  }

  /** Number of chunks in use (for tests: compaction keeps it bounded). */
  get chunkCount(): number {
    let c = 0;
    for (const chunk of this.chunks) if (chunk !== DROPPED) c++;
    return c;
  }

  /**
   * Whether more than a quarter of the nodes' links were placed since they were last laid out
   * in id order (`layOut`): reading every node's links in id order then jumps from chunk to
   * chunk — a cache miss per node.
   */
  get scrambled(): boolean {
    return this.scattered > this.held / 4;
  }

  /**
   * Copy every node's links into new chunks, in id order, and drop the old ones: a pass in id
   * order then reads memory front to back. (Costs one such pass over the scattered links, and
   * their size in memory until the old chunks are collected.)
   */
  layOut(): void {
    const old = this.chunks;
    this.chunks = [];
    this.live = [];
    this.current = -1;
    this.pos = CHUNK_DOUBLES;
    const chunkOf = this.chunkOf;
    const startOf = this.startOf;
    const lengthOf = this.lengthOf;
    for (let id = 0; id < chunkOf.length; id++) {
      const c = chunkOf[id]!;
      if (c === NO_LINKS) continue;
      const s = startOf[id]!;
      this.place(id, old[c]!.subarray(s, s + lengthOf[id]!));
    }
    for (const chunk of old) free(chunk);
    this.scattered = 0;
  }

  /** Make the by-id arrays cover ids < n (ids without links: NO_LINKS). */
  cover(n: number): void {
    const old = this.chunkOf.length;
    if (n <= old) return;
    const cap = Math.max(n, Math.ceil(old * 1.5), 16);
    this.chunkOf = withLength(this.chunkOf, cap, NO_LINKS);
    this.startOf = withLength(this.startOf, cap);
    this.lengthOf = withLength(this.lengthOf, cap);
  }

  /** Add (sign 1) or remove (sign -1) the peers and links of `d` from the totals. */
  private count(d: PackedLinks, sign: number): void {
    const p = d[0]! | 0;
    this.peerTotal += sign * p;
    this.linkTotal += sign * (d[1 + 2 * p]! | 0);
  }

  /** Copy `links` to the end of the current chunk (or a chunk of their own) for node `id`. */
  private place(id: number, links: PackedLinks): void {
    const n = links.length;
    let c: number;
    if (n > CHUNK_DOUBLES / 4) {
      c = this.newChunk(n);
      this.chunks[c]!.set(links);
      this.startOf[id] = 0;
    } else {
      if (this.pos + n > CHUNK_DOUBLES) {
        this.current = this.newChunk(CHUNK_DOUBLES);
        this.pos = 0;
      }
      c = this.current;
      this.chunks[c]!.set(links, this.pos);
      this.startOf[id] = this.pos;
      this.pos += n;
    }
    this.chunkOf[id] = c;
    this.lengthOf[id] = n;
    this.live[c]! += n;
  }

  /**
   * Node `id`'s links are no longer held. Returns the index of a chunk that fell under a quarter
   * live and should be compacted, or -1.
   */
  private release(id: number): number {
    const c = this.chunkOf[id]!;
    if (c === NO_LINKS) return -1;
    const s = this.startOf[id]!;
    this.count(this.chunks[c]!.subarray(s, s + this.lengthOf[id]!), -1);
    this.held--;
    this.chunkOf[id] = NO_LINKS;
    this.live[c]! -= this.lengthOf[id]!;
    return c !== this.current && this.live[c]! < this.chunks[c]!.length / 4 ? c : -1;
  }

  /** Move the links still in chunk `c` to the current chunk and drop it. */
  private compact(c: number): void {
    const chunk = this.chunks[c]!;
    const chunkOf = this.chunkOf;
    for (let id = 0; id < chunkOf.length; id++) {
      if (chunkOf[id] !== c) continue;
      const s = this.startOf[id]!;
      this.place(id, chunk.subarray(s, s + this.lengthOf[id]!));
      this.scattered++;
    }
    free(chunk);
    this.chunks[c] = DROPPED;
    this.live[c] = 0;
  }

  /** A new chunk of `size` doubles, in a dropped chunk's slot if there is one. Returns its index. */
  private newChunk(size: number): number {
    let slot = this.chunks.indexOf(DROPPED);
    if (slot < 0) slot = this.chunks.length;
    this.chunks[slot] = new Float64Array(size);
    this.live[slot] = 0;
    return slot;
  }
}

/**
 * Give a dropped chunk's memory back now. A chunk lives long, so its buffer object is in V8's
 * old generation and its memory would wait for a full collection — one that growing external
 * memory triggers only after tens of MB. Transferring the buffer detaches it and hands the memory
 * to a new, young buffer, which the next minor collection frees.
 */
function free(chunk: Float64Array<ArrayBuffer>): void {
  if (chunk.buffer.byteLength === 0) return;
  structuredClone(chunk.buffer, { transfer: [chunk.buffer] });
}
