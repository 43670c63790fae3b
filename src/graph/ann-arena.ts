/**
 * The kept announcements' bytes, held once (issue 17): the replication store, the node records
 * and the read API all name an announcement by an integer id into this arena, which keeps its
 * bytes and its sha512 hash in large slab chunks — no ArrayBuffer, object or string per
 * announcement.
 *
 * - A chunk is written front to back (bump allocation) and a written entry is never written
 *   again: a view of an announcement's bytes or hash (`bytes(id)`, `hash(id)`) stays valid and
 *   unchanged for as long as anyone holds it, whatever happens to the announcement afterwards.
 * - An id lives while something references it (`ref`/`unref`: the store, a node's kept list, a
 *   node's resetMsg); when the last reference goes its entry is dead and its id is reused. (An
 *   id just added has none yet: `add` is followed by a `ref`, or by `discard` if nothing took it.)
 * - A full chunk whose live entries fell under a quarter of it is compacted: the live entries are
 *   copied into the current chunk and the chunk is dropped (views of it keep its memory alive
 *   until they go). So the slab stays within a small factor of the live bytes.
 *
 * Entry layout in a chunk: id (u32 LE) ‖ length (u32 LE) ‖ hash (64) ‖ bytes.
 *
 * An announcement built in a test directly as an object (its fields are not what its bytes say)
 * is kept beside its bytes (`given`), as the records kept it before: production never has one.
 */
import type { Announcement } from '../protocol/announcement-types.ts';
import { ENTITY_TYPE } from '../protocol/entity-types.ts';
import { KEEP_KEY_ENCODING_SCHEME, KEEP_KEY_VERSION } from './keep-rules.ts';
import { withLength } from '../lib/typed-arrays.ts';

const CHUNK_BYTES = 1 << 20;
/** entries larger than this get a chunk of their own */
const LARGE_ENTRY = CHUNK_BYTES >> 2;
const HEADER = 8;
const HASH = 64;

export class AnnArena {
  private chunks: (Uint8Array | undefined)[] = [];
  /** live entry bytes per chunk */
  private chunkLive: number[] = [];
  /** bytes written into each chunk (its entries end there) */
  private chunkEnd: number[] = [];
  /** chunk slots dropped by compaction, reused for new chunks */
  private freeChunks: number[] = [];
  private current = -1;
  private pos = CHUNK_BYTES;
  private chunkOf = new Uint16Array(1024);
  private offOf = new Uint32Array(1024);
  private lenOf = new Uint32Array(1024);
  /** 0: free id; else 1 + the references */
  private refs = new Uint8Array(1024);
  private freeIds: number[] = [];
  private nextId = 0;
  private liveCount = 0;
  private liveBytes = 0;
  private readonly given = new Map<number, Announcement>();
  /** ids whose entry was moved by compaction (diagnostics) */
  moved = 0;

  /** Copy `binary` (and its hash) in; the new id has no reference yet. `given`: see the file comment. */
  add(hash: Uint8Array, binary: Uint8Array, given?: Announcement): number {
    if (hash.length !== HASH)
      throw new RangeError(`an announcement hash has ${HASH} bytes, not ${hash.length}`);
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.nextId++;
    if (id >= this.refs.length) this.growColumns(id + 1);
    const len = binary.length;
    const [chunk, off] = this.place(id, HEADER + HASH + len);
    const c = this.chunks[chunk]!;
    c.set(hash, off + HEADER);
    c.set(binary, off + HEADER + HASH);
    this.chunkOf[id] = chunk;
    this.offOf[id] = off;
    this.lenOf[id] = len;
    this.refs[id] = 1;
    if (given) this.given.set(id, given);
    this.liveCount++;
    this.liveBytes += len;
    return id;
  }

  /** One more reference to `id`. */
  ref(id: number): void {
    const r = this.refs[id]!;
    if (r === 0) throw new RangeError(`announcement ${id} is not held`);
    if (r === 255) throw new RangeError(`announcement ${id}: too many references`);
    this.refs[id] = r + 1;
  }

  /** One reference less; after the last one the announcement is gone and `id` may be reused. */
  unref(id: number): void {
    const r = this.refs[id]!;
    if (r <= 1) throw new RangeError(`announcement ${id} has no reference`);
    this.refs[id] = r - 1;
    if (r === 2) this.release(id);
  }

  /** Drop an announcement added and never referenced (a refused or failed apply). */
  discard(id: number): void {
    if (this.refs[id] === 1) this.release(id);
  }

  /** True while `id` names a held announcement. */
  holds(id: number): boolean {
    return id >= 0 && id < this.nextId && this.refs[id]! > 0;
  }

  /** The announcement's bytes: a view that never changes (see the file comment). */
  bytes(id: number): Uint8Array {
    const off = this.offOf[id]! + HEADER + HASH;
    return this.chunks[this.chunkOf[id]!]!.subarray(off, off + this.lenOf[id]!);
  }

  /** Its sha512: a view that never changes. */
  hash(id: number): Uint8Array {
    const off = this.offOf[id]! + HEADER;
    return this.chunks[this.chunkOf[id]!]!.subarray(off, off + HASH);
  }

  length(id: number): number {
    return this.lenOf[id]!;
  }

  /** True if the stored hash of `id` is `hash`. */
  hashEquals(id: number, hash: Uint8Array): boolean {
    const c = this.chunks[this.chunkOf[id]!]!;
    const off = this.offOf[id]! + HEADER;
    for (let i = 0; i < HASH; i++) if (c[off + i] !== hash[i]) return false;
    return true;
  }

  /** True if the stored hash of `id` starts with `prefix`. */
  hashStartsWith(id: number, prefix: Uint8Array): boolean {
    if (prefix.length > HASH) return false;
    const c = this.chunks[this.chunkOf[id]!]!;
    const off = this.offOf[id]! + HEADER;
    for (let i = 0; i < prefix.length; i++) if (c[off + i] !== prefix[i]) return false;
    return true;
  }

  /** The first four bytes of the hash as an integer (hash tables over the arena). */
  hashPrefix(id: number): number {
    const c = this.chunks[this.chunkOf[id]!]!;
    const o = this.offOf[id]! + HEADER;
    return (c[o]! | (c[o + 1]! << 8) | (c[o + 2]! << 16) | (c[o + 3]! << 24)) >>> 0;
  }

  /** The byte at `index` of the announcement (header fields read without a view). */
  byteAt(id: number, index: number): number {
    return this.chunks[this.chunkOf[id]!]![this.offOf[id]! + HEADER + HASH + index]!;
  }

  /** The header's timestamp (ms, as `parseTimestampField` reads it). */
  timestamp(id: number): number {
    const g = this.givenOf(id);
    if (g) return g.timestamp;
    const c = this.chunks[this.chunkOf[id]!]!;
    const o = this.offOf[id]! + HEADER + HASH + 112;
    const hi = ((c[o]! << 24) >>> 0) + ((c[o + 1]! << 16) | (c[o + 2]! << 8) | c[o + 3]!);
    const lo = ((c[o + 4]! << 24) >>> 0) + ((c[o + 5]! << 16) | (c[o + 6]! << 8) | c[o + 7]!);
    return hi * 0x10000000 + Math.floor(lo / 16);
  }

  /**
   * The keep-rule keys of the announcement's non-ephemeral entities, in entity order, into
   * `out` (grown if short; returned): a Peer's peerNum, or KEEP_KEY_VERSION /
   * KEEP_KEY_ENCODING_SCHEME. Read from the bytes' entity framing (entity.ts): the announcement
   * parsed when it was accepted, so the framing holds. Returns `[keys, count]`: `keys` is `out`,
   * or a longer copy of it when it was short.
   */
  keepKeys(id: number, out: Int32Array): [Int32Array, number] {
    let n = 0;
    const g = this.givenOf(id);
    if (g) {
      for (const e of g.entities) {
        const k =
          e.type === 'Version'
            ? KEEP_KEY_VERSION
            : e.type === 'EncodingScheme'
              ? KEEP_KEY_ENCODING_SCHEME
              : e.type === 'Peer'
                ? e.peerNum
                : undefined;
        if (k === undefined) continue;
        if (n === out.length) out = grown(out);
        out[n++] = k;
      }
      return [out, n];
    }
    const c = this.chunks[this.chunkOf[id]!]!;
    const start = this.offOf[id]! + HEADER + HASH;
    const end = start + this.lenOf[id]!;
    let x = start + 120;
    while (x < end) {
      const len = c[x]!;
      if (len <= 1) {
        x++;
        continue;
      }
      const type = x + 1 < end ? c[x + 1] : undefined;
      const k =
        type === ENTITY_TYPE.Version
          ? KEEP_KEY_VERSION
          : type === ENTITY_TYPE.EncodingScheme
            ? KEEP_KEY_ENCODING_SCHEME
            : type === ENTITY_TYPE.Peer
              ? (c[x + 6]! << 8) | c[x + 7]!
              : undefined;
      if (k !== undefined) {
        if (n === out.length) out = grown(out);
        out[n++] = k;
      }
      x += len;
    }
    return [out, n];
  }

  /** The announcement as a test built it, when it is not what its bytes say. */
  givenOf(id: number): Announcement | undefined {
    return this.given.size === 0 ? undefined : this.given.get(id);
  }

  /** Announcements held (ids with a reference, or added and not yet referenced). */
  get size(): number {
    return this.liveCount;
  }

  /** Bytes of the announcements held (diagnostics and metrics). */
  get bytesHeld(): number {
    return this.liveBytes;
  }

  /** Bytes of the chunks allocated (diagnostics: the slab's overhead is this over bytesHeld). */
  get slabBytes(): number {
    let n = 0;
    for (const c of this.chunks) if (c) n += c.length;
    return n;
  }

  private release(id: number): void {
    const chunk = this.chunkOf[id]!;
    const size = HEADER + HASH + this.lenOf[id]!;
    this.refs[id] = 0;
    this.liveCount--;
    this.liveBytes -= this.lenOf[id]!;
    this.given.delete(id);
    this.freeIds.push(id);
    this.chunkLive[chunk]! -= size;
    if (chunk === this.current) return;
    const c = this.chunks[chunk]!;
    if (
      this.chunkLive[chunk] === 0 ||
      (c.length === CHUNK_BYTES && this.chunkLive[chunk]! < CHUNK_BYTES / 4)
    )
      this.compact(chunk);
  }

  /** Room for an entry of `size` bytes: [chunk, offset]. */
  private place(id: number, size: number): [number, number] {
    if (size > LARGE_ENTRY) {
      const chunk = this.newChunk(size);
      this.chunkLive[chunk] = size;
      this.chunkEnd[chunk] = size;
      this.writeHeader(chunk, 0, id, size - HEADER - HASH);
      return [chunk, 0];
    }
    if (this.pos + size > CHUNK_BYTES) {
      this.current = this.newChunk(CHUNK_BYTES);
      this.pos = 0;
    }
    const off = this.pos;
    this.pos += size;
    this.chunkEnd[this.current] = this.pos;
    this.chunkLive[this.current]! += size;
    this.writeHeader(this.current, off, id, size - HEADER - HASH);
    return [this.current, off];
  }

  private newChunk(bytes: number): number {
    const slot = this.freeChunks.length > 0 ? this.freeChunks.pop()! : this.chunks.length;
    if (slot > 0xffff) throw new RangeError('announcement arena: too many chunks');
    this.chunks[slot] = new Uint8Array(bytes);
    this.chunkLive[slot] = 0;
    this.chunkEnd[slot] = 0;
    return slot;
  }

  private writeHeader(chunk: number, off: number, id: number, len: number): void {
    const c = this.chunks[chunk]!;
    c[off] = id & 0xff;
    c[off + 1] = (id >>> 8) & 0xff;
    c[off + 2] = (id >>> 16) & 0xff;
    c[off + 3] = id >>> 24;
    c[off + 4] = len & 0xff;
    c[off + 5] = (len >>> 8) & 0xff;
    c[off + 6] = (len >>> 16) & 0xff;
    c[off + 7] = len >>> 24;
  }

  /** Move the live entries of `chunk` into the current chunk and drop it. */
  private compact(chunk: number): void {
    const c = this.chunks[chunk]!;
    const end = this.chunkEnd[chunk]!;
    let p = 0;
    while (p < end) {
      const id = (c[p]! | (c[p + 1]! << 8) | (c[p + 2]! << 16) | (c[p + 3]! << 24)) >>> 0;
      const len = (c[p + 4]! | (c[p + 5]! << 8) | (c[p + 6]! << 16) | (c[p + 7]! << 24)) >>> 0;
      const size = HEADER + HASH + len;
      if (
        id < this.nextId &&
        this.chunkOf[id] === chunk &&
        this.offOf[id] === p &&
        this.refs[id]! > 0
      ) {
        const [to, off] = this.place(id, size);
        this.chunks[to]!.set(c.subarray(p + HEADER, p + size), off + HEADER);
        this.chunkOf[id] = to;
        this.offOf[id] = off;
        this.moved++;
      }
      p += size;
    }
    this.chunks[chunk] = undefined;
    this.chunkLive[chunk] = 0;
    this.chunkEnd[chunk] = 0;
    this.freeChunks.push(chunk);
  }

  private growColumns(min: number): void {
    let n = this.refs.length * 2;
    while (n < min) n *= 2;
    this.chunkOf = withLength(this.chunkOf, n);
    this.offOf = withLength(this.offOf, n);
    this.lenOf = withLength(this.lenOf, n);
    this.refs = withLength(this.refs, n);
  }
}

/** `a` in an array twice its length. */
function grown(a: Int32Array): Int32Array {
  return withLength(a, a.length * 2);
}
