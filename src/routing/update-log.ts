/**
 * Node updates waiting for a tree replica, the newest per node, held packed in two growing
 * Float64Arrays instead of as one object and one array per update. The coordinator
 * (tree-replicas.ts) keeps them from an accepted announcement until the standby gets them
 * (`pending`, ~5 ms, but for a whole build while a swap runs) and until the next swap replays them
 * into the other replica (`missed`, up to `swapIntervalMs`): long enough that, as objects, every
 * update of every accepted announcement survived two scavenges into the old generation and made
 * each scavenge longer (issue 17: what survives per announcement is what makes the main
 * thread's pauses). Packed, an update is bytes in an ArrayBuffer: nothing for the scavenger to
 * copy.
 *
 * `set` appends (a node's older entry becomes dead space, compacted away once it is half the
 * log); `packed` gives the newest entry of each node, in the order the nodes were first set —
 * exactly what a Map keyed by node id gave — in the form the replica worker takes.
 */
import type { NodeUpdate, PackedUpdates } from './node-update.ts';
import { withLength } from '../lib/typed-arrays.ts';

/** per entry: seq, id, present, version, schemeId, start, length (into `links`): as PackedUpdates */
const FIELDS = 7;

export class UpdateLog {
  private meta: Float64Array;
  private links: Float64Array;
  private entries = 0;
  private linksUsed = 0;
  /** node id → its newest entry (Map order: the order the nodes were first set) */
  private readonly newest = new Map<number, number>();

  constructor(capacity = 16) {
    this.meta = new Float64Array(capacity * FIELDS);
    this.links = new Float64Array(capacity * 16);
  }

  /** Nodes with an update waiting. */
  get size(): number {
    return this.newest.size;
  }

  /** Entries held, dead ones included (tests: compaction bounds it). */
  get entryCount(): number {
    return this.entries;
  }

  set(u: NodeUpdate): void {
    if (this.entries > 64 && this.entries >= 2 * this.newest.size + 64) this.compact();
    this.append(u.seq, u.id, u.present ? 1 : 0, u.version, u.schemeId, u.links, 0, u.links.length);
    this.newest.set(u.id, this.entries - 1);
  }

  /**
   * The newest update of each node, in the order the nodes were first set, packed in arrays of
   * their own (transferable to a replica's worker): a swap's replay of thousands of updates is
   * two copies, not an object per update packed again in the replica actor's turn.
   */
  packed(): PackedUpdates {
    const n = this.newest.size;
    let total = 0;
    for (const e of this.newest.values()) total += this.meta[e * FIELDS + 6]!;
    const meta = new Float64Array(n * FIELDS);
    const links = new Float64Array(total);
    const src = this.links;
    let i = 0;
    let off = 0;
    for (const e of this.newest.values()) {
      const m = e * FIELDS;
      const o = i * FIELDS;
      for (let f = 0; f < 5; f++) meta[o + f] = this.meta[m + f]!;
      const start = this.meta[m + 5]!;
      const length = this.meta[m + 6]!;
      meta[o + 5] = off;
      meta[o + 6] = length;
      for (let k = 0; k < length; k++) links[off + k] = src[start + k]!;
      off += length;
      i++;
    }
    return { meta, links };
  }

  private append(
    seq: number,
    id: number,
    present: number,
    version: number,
    schemeId: number,
    src: ArrayLike<number>,
    from: number,
    length: number,
  ): void {
    if ((this.entries + 1) * FIELDS > this.meta.length) this.meta = grown(this.meta, FIELDS);
    if (this.linksUsed + length > this.links.length) this.links = grown(this.links, length);
    const m = this.entries * FIELDS;
    const meta = this.meta;
    meta[m] = seq;
    meta[m + 1] = id;
    meta[m + 2] = present;
    meta[m + 3] = version;
    meta[m + 4] = schemeId;
    meta[m + 5] = this.linksUsed;
    meta[m + 6] = length;
    const links = this.links;
    let o = this.linksUsed;
    for (let k = 0; k < length; k++) links[o++] = src[from + k]!;
    this.linksUsed = o;
    this.entries++;
  }

  /** Keep only each node's newest entry, in new arrays (views handed out keep the old ones). */
  private compact(): void {
    const oldMeta = this.meta;
    const oldLinks = this.links;
    let liveLinks = 0;
    for (const e of this.newest.values()) liveLinks += oldMeta[e * FIELDS + 6]!;
    const n = this.newest.size;
    this.meta = new Float64Array(Math.max(16, 2 * n) * FIELDS);
    this.links = new Float64Array(Math.max(256, 2 * liveLinks));
    this.entries = 0;
    this.linksUsed = 0;
    for (const [id, e] of this.newest) {
      const m = e * FIELDS;
      this.append(
        oldMeta[m]!,
        oldMeta[m + 1]!,
        oldMeta[m + 2]!,
        oldMeta[m + 3]!,
        oldMeta[m + 4]!,
        oldLinks,
        oldMeta[m + 5]!,
        oldMeta[m + 6]!,
      );
      this.newest.set(id, this.entries - 1); // same key: the Map's order is kept
    }
  }
}

/** A copy of `a` with room for at least `more` further elements (doubling). */
function grown(a: Float64Array, more: number): Float64Array {
  return withLength(a, Math.max(2 * a.length, a.length + more));
}
