/**
 * The mutable graph of one tree replica: the newest NodeUpdate of every node, and the CSR rows
 * of the last snapshot it built. Applying updates only records them and marks the rows they
 * can change; `build()` then makes the next immutable snapshot, recomputing the marked rows and
 * copying every other row from the previous snapshot ("incremental where it can"), or
 * recomputing every row when there is no previous snapshot or most rows changed ("rebuild where
 * it must").
 *
 * Row of n = the reference's `buildRouteGraph` for node n (docs/protocol.md §4.8): for each peer p in n's
 * inwardLinksByIp order, an edge n → p when p has a record and p has an inward link from n;
 * the link array from p is sorted in place, stable, by value descending (as the original sorts
 * the record's array: `[0]` is the best link afterwards), cost = 1 / links[0].value (Infinity
 * for 0), and an edge whose cost is not > 0 is left out (node-dijkstra would throw on it).
 * That is the `original` policy. Under `best` (route-policy.ts) every link from p is an edge of
 * its own (a longer route may need a narrower parallel link to fit), with its integer cost
 * `bestLinkCost(value)`; the edges to one peer are ordered by cost, then the record's order (the
 * canonical position of a link among the parallel ones), and the stored triples stay unsorted.
 *
 * Which rows an update of node x can change: x's own row, and the row of every node n that has
 * x in its peer list AND is in x's peer list (old or new) — the edge n → x needs both
 * directions. So the dirty set is {x} ∪ old peers(x) ∪ new peers(x).
 *
 * Pure: no clock (build time is measured by the caller), no I/O; runs in the main thread or in
 * a replica worker unchanged.
 */
import { bestLinkCost } from './best-cost.ts';
import type { NodeUpdate, PackedLinks } from './node-update.ts';
import { NO_LINKS, ReplicaLinks } from './replica-links.ts';
import type { RoutePolicy } from './route-policy.ts';
import { alloc, inEdgesOf, type SnapshotData } from './snapshot-data.ts';
import { withLength } from '../lib/typed-arrays.ts';

/**
 * Above this fraction of dirty rows a full rebuild is cheaper than patching: a full rebuild is
 * a few sequential passes, while a dirty row's "both directions" tests are cache misses.
 */
const FULL_REBUILD_DIRTY_FRACTION = 0.125;

/** A snapshot without its derived parts (the transpose and the build statistics). */
type RowsSnapshot = Omit<SnapshotData, 'stats' | 'inOffsets' | 'inNbr' | 'inCost' | 'inEdge'>;

/** Peer lists longer than this are searched through a sorted copy. */
const LINEAR_SCAN_MAX_PEERS = 16;

export interface ReplicaModelOptions {
  /** dirty-row fraction above which a build recomputes every row (default 1/8) */
  readonly fullRebuildFraction?: number;
  /** which edges and costs the rows hold (default `original`) */
  readonly policy?: RoutePolicy;
}

export class ReplicaModel {
  /** ids covered: 1 + the largest id of any update applied */
  private size = 0;
  /**
   * every node's packed links (node-update.ts), by id (replica-links.ts); `original` row builds
   * sort the link triples in place
   */
  private readonly links = new ReplicaLinks();
  /** by id: the version and scheme of the node's record (0 and -1 without one) */
  private version = new Uint32Array(0);
  private schemeId = new Int32Array(0);
  /** the peer ids sorted, for nodes with many peers (hubs): membership by binary search */
  private readonly sortedPeers = new Map<number, Int32Array>();
  /** a full rebuild's working arrays, kept for the next one (sized for the largest graph yet) */
  private scratch = {
    peerOff: new Int32Array(0),
    peerIds: new Int32Array(0),
    mutual: new Uint8Array(0),
  };
  private readonly fullFraction: number;
  private readonly best: boolean;
  private prev: SnapshotData | undefined;
  private readonly dirty = new Set<number>();
  private forceFull = false;
  /** seq of the newest update applied */
  appliedSeq = 0;
  /** number of updates applied since the model was created */
  appliedCount = 0;

  constructor(opts: ReplicaModelOptions = {}) {
    this.fullFraction = opts.fullRebuildFraction ?? FULL_REBUILD_DIRTY_FRACTION;
    this.best = opts.policy === 'best';
  }

  /** Apply one update (replaces the node's state). Updates must come in stream order. */
  apply(u: NodeUpdate): void {
    const id = u.id;
    if (id >= this.size) this.grow(id + 1);
    const old = this.links.view(id);
    if (old) this.markPeers(old);
    this.dirty.add(id);
    this.sortedPeers.delete(id);
    if (u.present) {
      this.version[id] = u.version;
      this.schemeId[id] = u.schemeId;
      this.links.set(id, u.links);
      this.markPeers(u.links);
    } else {
      this.version[id] = 0;
      this.schemeId[id] = -1;
      this.links.delete(id);
    }
    if (u.seq > this.appliedSeq) this.appliedSeq = u.seq;
    this.appliedCount++;
  }

  applyAll(updates: readonly NodeUpdate[]): void {
    for (const u of updates) this.apply(u);
  }

  /** Cover ids < n. */
  private grow(n: number): void {
    if (n > this.version.length) {
      const cap = Math.max(n, Math.ceil(this.version.length * 1.5), 16);
      const version = new Uint32Array(cap);
      version.set(this.version);
      this.version = version;
      const schemeId = new Int32Array(cap).fill(-1);
      schemeId.set(this.schemeId);
      this.schemeId = schemeId;
    }
    this.links.cover(n);
    this.size = n;
  }

  /** Forget everything (a replica that restarts reloads from a full dump). */
  clear(): void {
    this.size = 0;
    this.version = new Uint32Array(0);
    this.schemeId = new Int32Array(0);
    this.links.clear();
    this.sortedPeers.clear();
    this.prev = undefined;
    this.dirty.clear();
    this.appliedSeq = 0;
    this.forceFull = true;
  }

  /** Make the next build recompute every row. */
  requestFullRebuild(): void {
    this.forceFull = true;
  }

  /**
   * Lay the links out in id order again if updates scattered them (replica-links.ts). A replica
   * worker calls it after sending a snapshot, where it delays no one: the next full rebuild then
   * reads them front to back (a full rebuild that finds them scattered lays them out first).
   * Returns whether it did.
   */
  tidy(): boolean {
    if (!this.links.scrambled) return false;
    this.links.layOut();
    return true;
  }

  /** Rows marked for recomputation since the last build. */
  get dirtyCount(): number {
    return this.dirty.size;
  }

  get nodeCount(): number {
    let c = 0;
    for (let id = 0; id < this.size; id++) if (this.links.has(id)) c++;
    return c;
  }

  /** Build the next snapshot. `nowMs` is only used to report the build time. */
  build(nowMs: () => number = () => 0): SnapshotData {
    const t0 = nowMs();
    const n = this.size;
    const prev = this.prev;
    const full = this.forceFull || !prev || this.dirty.size > n * this.fullFraction;
    const snap = full ? this.buildFull(n) : this.buildIncremental(n, prev);
    const rowsRebuilt = full ? n : this.dirty.size;
    this.dirty.clear();
    this.forceFull = false;
    const out: SnapshotData = {
      ...snap,
      ...inEdgesOf(snap),
      stats: { full, rowsRebuilt, edges: snap.nbr.length, buildMs: nowMs() - t0 },
    };
    this.prev = out;
    return out;
  }

  // ---- rows ----------------------------------------------------------------------------------

  private markPeers(d: PackedLinks): void {
    const p = d[0]! | 0;
    for (let i = 0; i < p; i++) this.dirty.add(d[1 + i]! | 0);
  }

  /** True if node `p` has a record with an inward link from `n`. */
  private hasLinkFrom(p: number, n: number): boolean {
    const links = this.links;
    if (p >= this.size) return false;
    const c = links.chunkOf[p]!;
    if (c === NO_LINKS) return false;
    const d = links.chunks[c]!;
    const s = links.startOf[p]!;
    const count = d[s]! | 0;
    if (count <= LINEAR_SCAN_MAX_PEERS) {
      for (let i = 1; i <= count; i++) if (d[s + i] === n) return true;
      return false;
    }
    let sorted = this.sortedPeers.get(p);
    if (!sorted) {
      sorted = new Int32Array(count);
      for (let i = 0; i < count; i++) sorted[i] = d[s + 1 + i]! | 0;
      sorted.sort();
      this.sortedPeers.set(p, sorted);
    }
    let lo = 0;
    let hi = count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = sorted[mid]!;
      if (v === n) return true;
      if (v < n) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /**
   * Append node n's row to `out` (edges in peer order). Returns the number of edges. `original`:
   * sorts the link triples of every included peer in place, exactly as the reference sorts the
   * record, and writes the best one; `best`: writes every link (bestLinksOf).
   */
  private writeRow(n: number, out: RowSink, mutual?: Uint8Array, mutualBase = 0): number {
    const links = this.links;
    const c = links.chunkOf[n]!;
    if (c === NO_LINKS) return 0;
    const d = links.chunks[c]!;
    const s = links.startOf[n]!;
    // ids and offsets are integers stored as doubles: `| 0` keeps the array indexing on ints
    const p = d[s]! | 0;
    const linksBase = s + 2 + 2 * p;
    let count = 0;
    for (let i = 0; i < p; i++) {
      const peer = d[s + 1 + i]! | 0;
      if (mutual ? mutual[mutualBase + i] === 0 : !this.hasLinkFrom(peer, n)) continue;
      const from = d[s + 1 + p + i]! | 0;
      const to = d[s + 2 + p + i]! | 0;
      if (to === from) continue;
      if (this.best) {
        count += writeBestLinks(d, linksBase, from, to, peer, out);
        continue;
      }
      if (to - from > 1) sortTriples(d, linksBase, from, to);
      const base = linksBase + 3 * from;
      const cost = 1 / d[base + 2]!;
      if (!(cost > 0)) continue;
      out.push(peer, cost, d[base]!, d[base + 1]!);
      count++;
    }
    return count;
  }

  private nodeArrays(n: number): Pick<SnapshotData, 'present' | 'version' | 'schemeId'> {
    const present = alloc.u8(n);
    const version = alloc.u32(n);
    const schemeId = alloc.i32(n);
    const chunkOf = this.links.chunkOf;
    for (let i = 0; i < n; i++) present[i] = chunkOf[i] === NO_LINKS ? 0 : 1;
    version.set(this.version.subarray(0, n));
    schemeId.set(this.schemeId.subarray(0, n));
    return { present, version, schemeId };
  }

  private buildFull(n: number): RowsSnapshot {
    // The "both directions" test needs every peer's peer list: reading them from the link
    // chunks is a cache miss per test, so first copy all peer lists into one flat array (one
    // pass in id order), then test each pair there.
    const links = this.links;
    if (links.scrambled) links.layOut();
    const chunks = links.chunks;
    const chunkOf = links.chunkOf;
    const startOf = links.startOf;
    const bound = links.peerTotal;
    // a row has at most one edge per peer (`original`) or per link (`best`)
    const edgeBound = this.best ? links.linkTotal : bound;
    const { peerOff, peerIds, mutual } = this.scratchFor(n, bound);
    let w = 0;
    for (let i = 0; i < n; i++) {
      peerOff[i] = w;
      const c = chunkOf[i]!;
      if (c === NO_LINKS) continue;
      const d = chunks[c]!;
      const s = startOf[i]!;
      const end = s + 1 + (d[s]! | 0);
      for (let k = s + 1; k < end; k++) peerIds[w++] = d[k]! | 0;
    }
    peerOff[n] = w;
    // Both directions is symmetric: i lists p and p lists i. So each pair is tested once, from
    // its lower id: if p lists i, every entry of i for p and every entry of p for i is marked.
    mutual.fill(0, 0, w);
    for (let i = 0; i < n; i++) {
      const end = peerOff[i + 1]!;
      for (let k = peerOff[i]!; k < end; k++) {
        const p = peerIds[k]!;
        if (p < i || p >= n || mutual[k] === 1) continue;
        let found = false;
        const pe = peerOff[p + 1]!;
        for (let j = peerOff[p]!; j < pe; j++) {
          if (peerIds[j] === i) {
            mutual[j] = 1;
            found = true;
          }
        }
        if (found) for (let j = k; j < end; j++) if (peerIds[j] === p) mutual[j] = 1;
      }
    }
    // lay the rows out in shared arrays of the largest size they can have and hand out views
    // of the part used (no second copy)
    const sink = new RowSink(edgeBound, true);
    const offsets = alloc.i32(n + 1);
    for (let i = 0; i < n; i++) {
      offsets[i] = sink.length;
      this.writeRow(i, sink, mutual, peerOff[i]!);
    }
    offsets[n] = sink.length;
    return { seq: this.appliedSeq, n, ...this.nodeArrays(n), offsets, ...sink.views() };
  }

  /** The working arrays of a full rebuild for ids < n and `bound` peers in all (grown as needed). */
  private scratchFor(n: number, bound: number): ReplicaModel['scratch'] {
    const s = this.scratch;
    if (s.peerOff.length < n + 1) s.peerOff = new Int32Array(Math.ceil((n + 1) * 1.25));
    if (s.peerIds.length < bound) {
      const cap = Math.ceil(bound * 1.25);
      s.peerIds = new Int32Array(cap);
      s.mutual = new Uint8Array(cap);
    }
    return s;
  }

  /**
   * Recompute the dirty rows into a scratch sink, then lay out the new CSR: runs of clean rows
   * are copied from the previous snapshot with one `set` per array per run.
   */
  private buildIncremental(n: number, prev: SnapshotData): RowsSnapshot {
    const dirtyIds = Int32Array.from([...this.dirty].filter((i) => i < n)).sort();
    const scratch = new RowSink(64);
    // rows of the dirty ids, back to back in `scratch`: row k is [ends[k-1], ends[k])
    const ends = new Int32Array(dirtyIds.length);
    for (let k = 0; k < dirtyIds.length; k++) {
      this.writeRow(dirtyIds[k]!, scratch);
      ends[k] = scratch.length;
    }
    // offsets: clean rows keep their previous length (0 for ids the previous snapshot lacked)
    const offsets = alloc.i32(n + 1);
    const prevOff = prev.offsets;
    let total = 0;
    let di = 0;
    for (let i = 0; i < n; i++) {
      offsets[i] = total;
      if (di < dirtyIds.length && dirtyIds[di] === i) {
        total += ends[di]! - (di > 0 ? ends[di - 1]! : 0);
        di++;
      } else if (i < prev.n) {
        total += prevOff[i + 1]! - prevOff[i]!;
      }
    }
    offsets[n] = total;
    const out = new RowArrays(total);
    const s = scratch.finish();
    // between two dirty rows, the clean rows are one contiguous run in the previous snapshot
    let from = 0; // first id of the current clean run
    for (let k = 0; k <= dirtyIds.length; k++) {
      const stop = k < dirtyIds.length ? dirtyIds[k]! : n;
      const a = prevOff[Math.min(from, prev.n)]!;
      const b = prevOff[Math.min(stop, prev.n)]!;
      if (b > a) out.copyFrom(prev, a, b, offsets[from]!);
      if (k < dirtyIds.length) {
        const ra = k > 0 ? ends[k - 1]! : 0;
        const rb = ends[k]!;
        if (rb > ra) out.copyFrom(s, ra, rb, offsets[stop]!);
        from = stop + 1;
      }
    }
    return { seq: this.appliedSeq, n, ...this.nodeArrays(n), offsets, ...out.arrays() };
  }
}

/**
 * `best`: one edge per link of the peer, ordered by cost and then the record's order (stable),
 * the packed triples left as they are. Returns the number of edges written.
 */
function writeBestLinks(
  d: PackedLinks,
  linksBase: number,
  from: number,
  to: number,
  peer: number,
  out: RowSink,
): number {
  const k = to - from;
  if (k === 1) {
    const base = linksBase + 3 * from;
    out.push(peer, bestLinkCost(d[base + 2]!), d[base]!, d[base + 1]!);
    return 1;
  }
  const idx: number[] = new Array<number>(k);
  const cost: number[] = new Array<number>(k);
  for (let i = 0; i < k; i++) {
    idx[i] = i;
    cost[i] = bestLinkCost(d[linksBase + 3 * (from + i) + 2]!);
  }
  idx.sort((a, b) => cost[a]! - cost[b]! || a - b);
  for (const i of idx) {
    const base = linksBase + 3 * (from + i);
    out.push(peer, cost[i]!, d[base]!, d[base + 1]!);
  }
  return k;
}

/**
 * Stable in-place sort of link triples [from, to) by value descending — the same comparator and
 * the same engine sort the reference applies to the record's link array, so ties (equal values,
 * Infinity, NaN) come out in exactly the same order.
 */
export function sortTriples(d: PackedLinks, linksBase: number, from: number, to: number): void {
  // Already in order (the common case: an earlier build sorted them): the engine's sort finds
  // one run in which no element compares below the one before it, and moves nothing.
  let ordered = true;
  for (let i = linksBase + 3 * from + 2, last = linksBase + 3 * (to - 1); i < last; i += 3) {
    if (d[i]! - d[i + 3]! < 0) {
      ordered = false;
      break;
    }
  }
  if (ordered) return;
  const k = to - from;
  const idx: number[] = new Array<number>(k);
  for (let i = 0; i < k; i++) idx[i] = i;
  const valueOf = (i: number): number => d[linksBase + 3 * (from + i) + 2]!;
  idx.sort((a, b) => valueOf(b) - valueOf(a));
  let identity = true;
  for (let i = 0; i < k; i++) if (idx[i] !== i) identity = false;
  if (identity) return;
  const copy = d.slice(linksBase + 3 * from, linksBase + 3 * to);
  for (let i = 0; i < k; i++) {
    const src = 3 * idx[i]!;
    const dst = linksBase + 3 * (from + i);
    d[dst] = copy[src]!;
    d[dst + 1] = copy[src + 1]!;
    d[dst + 2] = copy[src + 2]!;
  }
}

type EdgeArrays = Pick<SnapshotData, 'nbr' | 'cost' | 'labelId' | 'form'>;

/**
 * Edge arrays being filled: growable plain arrays (copied into shared ones by `finish`), or —
 * `shared`, with a capacity known to suffice — shared arrays used in place (`views`).
 */
class RowSink {
  length = 0;
  private nbr: Int32Array;
  private cost: Float64Array;
  private labelId: Int32Array;
  private form: Uint8Array;

  constructor(capacity: number, shared = false) {
    const cap = Math.max(1, capacity);
    this.nbr = shared ? alloc.i32(cap) : new Int32Array(cap);
    this.cost = shared ? alloc.f64(cap) : new Float64Array(cap);
    this.labelId = shared ? alloc.i32(cap) : new Int32Array(cap);
    this.form = shared ? alloc.u8(cap) : new Uint8Array(cap);
  }

  /** The filled part of shared arrays, as views. */
  views(): EdgeArrays {
    const n = this.length;
    return {
      nbr: this.nbr.subarray(0, n),
      cost: this.cost.subarray(0, n),
      labelId: this.labelId.subarray(0, n),
      form: this.form.subarray(0, n),
    };
  }

  push(nbr: number, cost: number, labelId: number, form: number): void {
    if (this.length === this.nbr.length) this.grow();
    const i = this.length++;
    this.nbr[i] = nbr;
    this.cost[i] = cost;
    this.labelId[i] = labelId;
    this.form[i] = form;
  }

  private grow(): void {
    const cap = this.nbr.length * 2;
    this.nbr = withLength(this.nbr, cap);
    this.cost = withLength(this.cost, cap);
    this.labelId = withLength(this.labelId, cap);
    this.form = withLength(this.form, cap);
  }

  finish(): EdgeArrays {
    const out = new RowArrays(this.length);
    out.copyFrom(
      { nbr: this.nbr, cost: this.cost, labelId: this.labelId, form: this.form },
      0,
      this.length,
      0,
    );
    return out.arrays();
  }
}

/** Fixed-size (shared) edge arrays of a snapshot being laid out. */
class RowArrays {
  private readonly a: EdgeArrays;

  constructor(size: number) {
    this.a = {
      nbr: alloc.i32(size),
      cost: alloc.f64(size),
      labelId: alloc.i32(size),
      form: alloc.u8(size),
    };
  }

  copyFrom(src: EdgeArrays, from: number, to: number, at: number): void {
    const a = this.a;
    if (to - from <= 32) {
      // short runs: a loop beats creating four views
      for (let i = from, j = at; i < to; i++, j++) {
        a.nbr[j] = src.nbr[i]!;
        a.cost[j] = src.cost[i]!;
        a.labelId[j] = src.labelId[i]!;
        a.form[j] = src.form[i]!;
      }
      return;
    }
    a.nbr.set(src.nbr.subarray(from, to), at);
    a.cost.set(src.cost.subarray(from, to), at);
    a.labelId.set(src.labelId.subarray(from, to), at);
    a.form.set(src.form.subarray(from, to), at);
  }

  arrays(): EdgeArrays {
    return this.a;
  }
}
