/**
 * The exact route for one (src, dst) pair without searching half the graph: a bidirectional
 * search finds the region that can matter, then the reference search is replayed inside it.
 *
 * Why the replay gives the reference's answer. The reference search from dst (node-dijkstra
 * tie-breaks, shortest-path-tree.ts) sets prev[x] to the first-popped in-neighbour u that is
 * *tight* for x (fl(d(u) + c(u, x)) = d(x)): the first tight pop lowers x's priority to d(x) and
 * later ones cannot lower it further. A node's pop position among nodes of equal distance is
 * decided by the counter of its last decrease, i.e. by the pop position of prev[x] and the edge
 * index of x in prev[x]'s row. So prev[src] only depends on src's *closure*: src, its tight
 * in-neighbours, theirs, and so on back to dst — every one of them on a shortest dst → src path.
 * Replaying the search restricted to any node set C that contains the closure pops the closure
 * nodes in the same relative order with the same final priorities and predecessors (nodes
 * outside C are never tight for a closure node, so leaving them out only drops priorities that
 * would have been overwritten), and therefore gives the same path.
 *
 * The replay is the tree search itself (shortest-path-tree.ts), run on the sub-graph of C: its
 * rows keep their order, only entries leading out of C are left out.
 *
 * The set C: a bidirectional search (forward from dst over the rows, backward from src over the
 * in-edges) run until the two frontiers' keys add up to more than the best meeting cost μ plus a
 * relative margin. Every node on a path of cost ≤ μ·(1 + margin) is then settled by one of the
 * two sides (if df(w) ≥ topF then db(w) < topB), which covers the closure even where the two
 * directions' floating-point sums differ in the last bits; C is the union of both settled sets.
 *
 * Only finite paths are handled: when src cannot be reached at a finite cost (no path, or only
 * through Infinity-cost edges) `find` returns undefined and the caller runs the full search.
 *
 * Under the `best` policy (a TieOrder given: integer costs, none infinite) the replay uses that
 * order for equal-cost predecessors (shortest-path-tree.ts), and "no finite meeting cost" means
 * no path at all: `find` returns null. After a `find`, `costToDst` gives a consistent lower
 * bound of every node's cost to dst for the fitting search (fitting-search.ts).
 *
 * On the benchmark mesh (50k nodes, most with 2–5 peers, a few hubs) the two searches settle a
 * few hundred nodes where a search from dst settles half the graph on average.
 */
import { MinHeap } from '../lib/heap.ts';
import {
  pathFromTree,
  SearchTree,
  SptSolver,
  type SearchGraph,
  type TieOrder,
} from './shortest-path-tree.ts';
import type { SnapshotData } from './snapshot-data.ts';

/** Relative slack on the stopping test (float sums in the two directions differ in the last bits). */
const MARGIN = 1e-9;

/**
 * One side of the bidirectional search: Dijkstra over one edge direction (rows forward from dst,
 * the transpose backward from src), with its own distances and settled marks, valid for entries
 * whose stamp is the current generation.
 */
class Side {
  stamp = new Int32Array(0);
  dist = new Float64Array(0);
  /** 1 once settled (valid with the stamp) */
  done = new Uint8Array(0);
  /** the frontier by distance: the nodes reached (stamp current) and not yet settled */
  readonly heap = new MinHeap();

  resize(cap: number): void {
    this.stamp = new Int32Array(cap);
    this.dist = new Float64Array(cap);
    this.done = new Uint8Array(cap);
    // a position is read only for a node in the frontier, so it is never reset
    this.heap.trackPositions(cap);
  }

  start(node: number, gen: number): void {
    this.heap.clear();
    this.stamp[node] = gen;
    this.dist[node] = 0;
    this.done[node] = 0;
    this.heap.push(node, 0);
  }

  settled(v: number, gen: number): boolean {
    return this.stamp[v] === gen && this.done[v] === 1;
  }

  /** The top key, or Infinity when the frontier is empty. */
  top(): number {
    const h = this.heap;
    return h.size > 0 ? h.prios[0]! : Infinity;
  }

  /**
   * Settle the top node over the edges `offsets`/`nbr`/`cost` (the side's direction); returns
   * it. Lowers `best.mu` where an edge meets a node the other side has reached.
   */
  expand(
    offsets: Int32Array,
    nbr: Int32Array,
    cost: Float64Array,
    other: Side,
    gen: number,
    best: { mu: number },
  ): number {
    const h = this.heap;
    const u = h.items[0]!;
    const du = h.prios[0]!;
    h.pop();
    this.done[u] = 1;
    const { stamp, dist, done } = this;
    const end = offsets[u + 1]!;
    for (let e = offsets[u]!; e < end; e++) {
      const v = nbr[e]!;
      const cd = du + cost[e]!;
      if (cd === Infinity) continue;
      if (stamp[v] !== gen) {
        stamp[v] = gen;
        done[v] = 0;
        dist[v] = cd;
        h.push(v, cd);
      } else if (done[v] === 1 || !(cd < dist[v]!)) continue;
      else {
        dist[v] = cd;
        h.decrease(v, cd);
      }
      if (other.stamp[v] === gen && cd + other.dist[v]! < best.mu) best.mu = cd + other.dist[v]!;
    }
    return u;
  }
}

export class PairSearch {
  private capacity = 0;
  /** generation stamps: an entry of the sides' arrays is valid only when its stamp is current */
  private gen = 0;
  /** forward from dst over the rows, backward from src over the transpose */
  private readonly fwd = new Side();
  private readonly bwd = new Side();
  /** the nodes settled by either side, in settling order (the region C), and their count */
  private region: Int32Array = new Int32Array(0);
  private regionSize = 0;
  /** local id in the region's sub-graph of a node of the region */
  private localOf = new Int32Array(0);
  /** the replay's own solver (the snapshot's may hold a suspended tree search) */
  private readonly solver = new SptSolver();
  /**
   * The replay's sub-graph and tree, reused by every replay (a query allocated them anew each
   * time): rows of at most `capacity` nodes, entries grown as needed; and the region's tie order.
   */
  private subOffsets = new Int32Array(0);
  private subNbr = new Int32Array(0);
  private subCost = new Float64Array(0);
  private subPrev = new Int32Array(0);
  private readonly subTies = new RegionTies();

  /** the last `find`'s question */
  private last: { g: SnapshotData; src: number; dst: number } | undefined;

  /** Nodes settled by the last `find` (both sides of the bidirectional search), for tests and metrics. */
  lastSettled = 0;

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(n, Math.ceil(this.capacity * 1.5), 16);
    this.fwd.resize(cap);
    this.bwd.resize(cap);
    this.region = new Int32Array(cap + 1);
    this.localOf = new Int32Array(cap);
    this.subOffsets = new Int32Array(cap + 2);
    this.subPrev = new Int32Array(cap + 1);
    this.capacity = cap;
    this.gen = 0;
  }

  private nextGen(): number {
    if (this.gen >= 0x7ffffff0) {
      this.fwd.stamp.fill(0);
      this.bwd.stamp.fill(0);
      this.gen = 0;
    }
    return ++this.gen;
  }

  /**
   * The reference path src … dst (node ids) on `g`, or undefined when it has no finite-cost
   * path (the caller falls back to the full search, which also decides "no path"). src ≠ dst,
   * both < g.n. With `ties` (`best`): the first cheapest path in that order, or null when there
   * is no path.
   */
  find(g: SnapshotData, src: number, dst: number, ties?: TieOrder): number[] | null | undefined {
    this.ensure(g.n);
    const gen = this.nextGen();
    this.last = { g, src, dst };
    if (!this.meet(g, src, dst, gen)) return ties ? null : undefined;
    return this.replay(g, src, dst, gen, ties);
  }

  /** Whether the last `find` was this one (its bound, `costToDst`, is still there). */
  ranLast(g: SnapshotData, src: number, dst: number): boolean {
    const l = this.last;
    return l !== undefined && l.g === g && l.src === src && l.dst === dst;
  }

  /**
   * A consistent lower bound of the cost from a node to dst of the last `find` (valid until the
   * next one): exact for the nodes the forward side settled, its frontier key for the others
   * (every path from an unsettled node to dst crosses the frontier). Infinity: cannot reach dst.
   */
  costToDst(): (v: number) => number {
    const fwd = this.fwd;
    const gen = this.gen;
    const top = fwd.top();
    return (v) => (fwd.settled(v, gen) ? fwd.dist[v]! : top);
  }

  /** Whether `v` is in the region of the current search. */
  private inRegion(v: number, src: number, gen: number): boolean {
    return v === src || this.fwd.settled(v, gen) || this.bwd.settled(v, gen);
  }

  /**
   * The bidirectional search, expanding the side with the smaller frontier; collects the nodes
   * either side settles into `region`. False when no finite meeting cost was found.
   */
  private meet(g: SnapshotData, src: number, dst: number, gen: number): boolean {
    const { fwd, bwd, region } = this;
    fwd.start(dst, gen);
    bwd.start(src, gen);
    const best = { mu: Infinity };
    let k = 0;
    for (;;) {
      const topF = fwd.top();
      const topB = bwd.top();
      if (topF === Infinity || topB === Infinity) break;
      if (topF + topB > best.mu * (1 + MARGIN)) break;
      const forward = fwd.heap.size <= bwd.heap.size;
      const u = forward
        ? fwd.expand(g.offsets, g.nbr, g.cost, bwd, gen, best)
        : bwd.expand(g.inOffsets, g.inNbr, g.inCost, fwd, gen, best);
      // settled by one side only so far: a new region node
      if (!(forward ? bwd : fwd).settled(u, gen)) region[k++] = u;
    }
    this.lastSettled = k;
    this.regionSize = k;
    return best.mu < Infinity;
  }

  /**
   * The reference search from dst over the region only, until src is popped: the region's
   * sub-graph (local ids, rows in their order without the entries leaving the region) searched by
   * the tree search, and its path mapped back to node ids.
   */
  private replay(
    g: SnapshotData,
    src: number,
    dst: number,
    gen: number,
    ties: TieOrder | undefined,
  ): number[] | undefined {
    // src may have been reached by the forward side before the backward side popped it
    if (!this.fwd.settled(src, gen) && !this.bwd.settled(src, gen))
      this.region[this.regionSize++] = src;
    const region = this.region;
    const k = this.regionSize;
    const localOf = this.localOf;
    for (let i = 0; i < k; i++) localOf[region[i]!] = i;
    const { offsets, nbr, cost } = g;
    let m = 0;
    for (let i = 0; i < k; i++) {
      const u = region[i]!;
      const end = offsets[u + 1]!;
      for (let e = offsets[u]!; e < end; e++) if (this.inRegion(nbr[e]!, src, gen)) m++;
    }
    if (this.subNbr.length < m) {
      const size = Math.max(m, this.subNbr.length * 2, 64);
      this.subNbr = new Int32Array(size);
      this.subCost = new Float64Array(size);
    }
    // the arrays may be longer than the sub-graph: a search reads rows 0 … k−1 only
    const sub: SearchGraph = {
      n: k,
      offsets: this.subOffsets,
      nbr: this.subNbr,
      cost: this.subCost,
    };
    let w = 0;
    for (let i = 0; i < k; i++) {
      sub.offsets[i] = w;
      const u = region[i]!;
      const end = offsets[u + 1]!;
      for (let e = offsets[u]!; e < end; e++) {
        const v = nbr[e]!;
        if (!this.inRegion(v, src, gen)) continue;
        sub.nbr[w] = localOf[v]!;
        sub.cost[w++] = cost[e]!;
      }
    }
    sub.offsets[k] = w;
    const from = localOf[src]!;
    const to = localOf[dst]!;
    const tree = new SearchTree(sub, to, ties && this.subTies.of(ties, region, k), this.subPrev);
    this.solver.extend(tree, from);
    const local = pathFromTree(tree.prev, from, to);
    if (!local) return undefined;
    for (let i = 0; i < local.length; i++) local[i] = region[local[i]!]!;
    return local;
  }
}

/** `ties` for the local ids of a region's sub-graph (local id i is node region[i]); one reused object. */
class RegionTies implements TieOrder {
  keys = new Float64Array(0);
  private ties: TieOrder | undefined;
  private region: Int32Array = new Int32Array(0);

  /** This order set to `ties` on the first `k` nodes of `region` (valid until the next call). */
  of(ties: TieOrder, region: Int32Array, k: number): TieOrder {
    if (this.keys.length < k) this.keys = new Float64Array(Math.max(k, this.keys.length * 2, 64));
    for (let i = 0; i < k; i++) this.keys[i] = ties.keys[region[i]!]!;
    this.ties = ties;
    this.region = region;
    return this;
  }

  before(a: number, b: number): boolean {
    return this.ties!.before(this.region[a]!, this.region[b]!);
  }
}
