/**
 * The exact "lowest-cost route whose label fits" search of the `best` policy on a snapshot, for
 * the pairs whose unconstrained best path does not fit (route-snapshot.ts asks it only then).
 *
 * The problem is a resource-constrained shortest path: a route's cost is the sum of its link
 * costs, its resource the sum of its hop bits (hop-bits.ts), which must stay ≤ 59. Hop i's bits
 * depend on the *arrival form* at its sender (the previous hop's encodingFormNum), so the search
 * runs over states (node, arrival class) — class 0 = the source (no re-encoding), f + 1 = arrived
 * with form f — and keeps, per state, only labels (partial routes from the source) that use fewer
 * bits than every label settled there before: labels are settled in the route order (cost, then
 * the canonical tie-break), so an earlier label at the same state is at least as good in both and
 * every completion of the later one is also a completion of the earlier one.
 *
 * Routes are walks: nothing forbids a node twice (with different arrival classes). A walk through
 * a node twice is never needed with sane schemes (forms that grow in size) and labels that
 * re-encode to every wider form — cutting the loop out then never costs more bits and always
 * costs less — so with the schemes cjdns uses the answer is a simple path (docs/compatibility.md
 * states the argument). With other schemes a loop can be the only way to a fitting label, and it is
 * still a working route, so it is allowed rather than refused. The destination ends a route (a
 * route through it and back costs more than stopping there).
 *
 * Order of routes (the tie-break, identical in the trees, the pair search and the reference):
 * by cost; equal costs by the sequence of hops from the source, each hop compared by its next
 * node's address (node-order.ts), then by the position of its link among the parallel links of
 * that pair (the row order: cost, then the record's order).
 *
 * Speed: first a backward search from the destination over the same states computes the fewest
 * bits any route needs from each state to the destination (small integers: a bucket queue), and
 * stops as soon as the source's own state is settled. If even the fewest bits exceed 59 there is
 * no fitting route and the search ends here. Otherwise the forward search from the source is an
 * A* search: a label is dropped when its bits plus the fewest bits still needed exceed 59, and it
 * is ordered by cost + a consistent lower bound of the cost still to go (the pair search's forward
 * side: exact distances where it settled nodes, its frontier key elsewhere).
 *
 * A bound on the work: the forward search settles at most `maxSettled` partial routes (default
 * MAX_SETTLED_LABELS, far above what any realistic network needs — a few dozen on the test
 * meshes). Past it, the answer is the fewest-bits route the backward search already proved — a
 * route that fits, though not necessarily the cheapest — so a hostile network cannot make one
 * query take seconds, and "no route" still only means that nothing fits (`lastBudgetExceeded`).
 */
import { HOP_UNUSABLE, MAX_DIRECTOR_BITS, type HopBitsTable } from './hop-bits.ts';
import type { NodeOrder } from './node-order.ts';

/** What the search reads of a snapshot. Edge e of row u is the hop nbr[e] → u. */
export interface FittingGraph {
  readonly n: number;
  readonly offsets: Int32Array;
  readonly nbr: Int32Array;
  readonly cost: Float64Array;
  readonly labelId: Int32Array;
  readonly form: Uint8Array;
  readonly schemeId: Int32Array;
  /** the transpose: for k in [inOffsets[v], inOffsets[v+1]), edge inEdge[k] of row inNbr[k] is the hop v → inNbr[k] */
  readonly inOffsets: Int32Array;
  readonly inNbr: Int32Array;
  readonly inEdge: Int32Array;
}

/** `search`'s answer when it settled more partial routes than allowed. */
const OVER_BUDGET = Symbol('over budget');

/** A fitting route: its nodes src … dst, the edge of every hop, its cost and label bits. */
export interface FittingRoute {
  readonly path: number[];
  readonly edges: number[];
  readonly cost: number;
  readonly bits: number;
}

/** A consistent lower bound of the cost from a node to the destination (0 everywhere is one). */
export type CostToGo = (v: number) => number;

const NO_BITS = 255;
/** Partial routes the forward search settles at most before it falls back to the fewest-bits route. */
export const MAX_SETTLED_LABELS = 50_000;

export class FittingSearch {
  private capacity = 0;
  /** per state: fewest bits to the destination found by the backward search (NO_BITS: none) */
  private minBits = new Uint8Array(0);
  /** per state: bits of the last label settled there (NO_BITS: none yet) */
  private settledBits = new Uint8Array(0);
  private readonly buckets: Int32Array[] = [];
  private readonly bucketSize = new Int32Array(MAX_DIRECTOR_BITS + 1);

  // labels (partial routes), growable
  private lNode = new Int32Array(0);
  private lCls = new Uint8Array(0);
  private lBits = new Uint8Array(0);
  private lCost = new Float64Array(0);
  private lKey = new Float64Array(0);
  private lParent = new Int32Array(0);
  private lEdge = new Int32Array(0);
  private lDepth = new Int32Array(0);
  private labels = 0;
  private heap = new Int32Array(0);
  private heapSize = 0;
  private chainA = new Int32Array(64);
  private chainB = new Int32Array(64);
  /** the node order's keys for the graph being searched */
  private keys: Float64Array = new Float64Array(0);

  /** Labels created by the last `find` (tests and metrics). */
  lastLabels = 0;
  /** Whether the last `find` ran out of its budget and answered the fewest-bits route. */
  lastBudgetExceeded = false;

  constructor(
    private readonly hop: HopBitsTable,
    private readonly order: NodeOrder,
  ) {}

  /**
   * The best fitting route src … dst — its nodes, and hop by hop its edge (hop i is edge
   * edges[i−1] of row path[i]) — or null when no route's label fits. `classes` = the largest
   * number of arrival classes of any scheme in `g` (1 + its form count). src ≠ dst.
   */
  find(
    g: FittingGraph,
    src: number,
    dst: number,
    classes: number,
    costToGo: CostToGo = () => 0,
    maxSettled = MAX_SETTLED_LABELS,
  ): FittingRoute | null {
    this.ensure(g.n * classes);
    this.keys = this.order.keysFor(g.n);
    this.lastBudgetExceeded = false;
    this.lastLabels = 0;
    const reach = this.fewestBits(g, src, dst, classes);
    if (reach > MAX_DIRECTOR_BITS) return null;
    const found = this.search(g, src, dst, classes, reach, costToGo, maxSettled);
    if (found !== OVER_BUDGET) return found;
    this.lastBudgetExceeded = true;
    return this.fewestBitsRoute(g, src, dst, classes, reach);
  }

  private ensure(states: number): void {
    if (states > this.capacity) {
      const cap = Math.max(states, Math.ceil(this.capacity * 1.5), 64);
      this.minBits = new Uint8Array(cap);
      this.settledBits = new Uint8Array(cap);
      this.capacity = cap;
    }
  }

  // ---- backward: fewest bits from every state to dst -----------------------------------------

  /**
   * Bucket-queue search from dst over the rows (edge e of row w is the hop nbr[e] → w, arriving at
   * w with form form[e]) until the state (src, first hop) is settled. Returns its bits (> 59: no
   * fitting route). Afterwards min(minBits[s], the returned level) is a lower bound for every
   * state s: states not settled yet need at least that level.
   */
  private fewestBits(g: FittingGraph, src: number, dst: number, classes: number): number {
    const minBits = this.minBits;
    minBits.fill(NO_BITS, 0, g.n * classes);
    this.bucketSize.fill(0);
    this.relaxInto(g, dst, -1, 0, src, dst, classes);
    const target = src * classes;
    for (let level = 1; level <= MAX_DIRECTOR_BITS; level++) {
      const bucket = this.buckets[level];
      // entries may be pushed into higher buckets only (every hop has ≥ 1 bit)
      for (let i = 0; i < this.bucketSize[level]!; i++) {
        const s = bucket![i]!;
        if (minBits[s] !== level) continue; // superseded by a lower level
        if (s === target) return level;
        const cls = s % classes;
        if (cls === 0) continue; // a first-hop state: nothing arrives there
        this.relaxInto(g, (s - cls) / classes, cls - 1, level, src, dst, classes);
      }
    }
    return NO_BITS;
  }

  /**
   * Relax the hops u → w that arrive at w with form `arrivalForm` (-1: any, for w = dst): for
   * every arrival class of u, bits = level + hop bits.
   */
  private relaxInto(
    g: FittingGraph,
    w: number,
    arrivalForm: number,
    level: number,
    src: number,
    dst: number,
    classes: number,
  ): void {
    const { offsets, nbr, form, labelId, schemeId } = g;
    const minBits = this.minBits;
    const end = offsets[w + 1]!;
    for (let e = offsets[w]!; e < end; e++) {
      if (arrivalForm >= 0 && form[e] !== arrivalForm) continue;
      const u = nbr[e]!;
      if (u === dst) continue;
      const scheme = schemeId[u]!;
      const ucls = this.hop.classes(scheme);
      // class 0 (no re-encoding) only where a route starts
      for (let c = u === src ? 0 : 1; c < ucls; c++) {
        const b = this.hop.bits(labelId[e]!, scheme, c);
        if (b === HOP_UNUSABLE) continue;
        const nb = level + b;
        const s = u * classes + c;
        if (nb > MAX_DIRECTOR_BITS || nb >= minBits[s]!) continue;
        minBits[s] = nb;
        this.pushBucket(nb, s);
      }
    }
  }

  private pushBucket(level: number, s: number): void {
    let b = this.buckets[level];
    const size = this.bucketSize[level]!;
    if (!b || size === b.length) {
      const nb = new Int32Array(Math.max(64, size * 2));
      if (b) nb.set(b);
      this.buckets[level] = b = nb;
    }
    b[size] = s;
    this.bucketSize[level] = size + 1;
  }

  // ---- forward: A* over labels ---------------------------------------------------------------

  private search(
    g: FittingGraph,
    src: number,
    dst: number,
    classes: number,
    reachLevel: number,
    costToGo: CostToGo,
    maxSettled: number,
  ): FittingRoute | null | typeof OVER_BUDGET {
    const { inOffsets, inNbr, inEdge, cost, labelId, form, schemeId } = g;
    let settledCount = 0;
    const minBits = this.minBits;
    const settled = this.settledBits;
    settled.fill(NO_BITS, 0, g.n * classes);
    this.labels = 0;
    this.heapSize = 0;
    this.push(this.newLabel(src, 0, 0, 0, -1, -1, costToGo(src)));
    try {
      while (this.heapSize > 0) {
        const l = this.pop();
        const v = this.lNode[l]!;
        if (v === dst) return this.routeOf(l);
        const cls = this.lCls[l]!;
        const bits = this.lBits[l]!;
        const s = v * classes + cls;
        if (bits >= settled[s]!) continue;
        settled[s] = bits;
        if (++settledCount > maxSettled) return OVER_BUDGET;
        const scheme = schemeId[v]!;
        const g0 = this.lCost[l]!;
        const end = inOffsets[v + 1]!;
        for (let k = inOffsets[v]!; k < end; k++) {
          const u = inNbr[k]!;
          const e = inEdge[k]!;
          const b = this.hop.bits(labelId[e]!, scheme, cls);
          if (b === HOP_UNUSABLE) continue;
          const nb = bits + b;
          if (nb > MAX_DIRECTOR_BITS) continue;
          let ucls = 0;
          if (u !== dst) {
            const f = form[e]!;
            if (f + 1 >= this.hop.classes(schemeId[u]!)) continue; // arrival form u's scheme lacks: dead end
            ucls = f + 1;
            const us = u * classes + ucls;
            const still = Math.min(minBits[us]!, reachLevel);
            if (nb + still > MAX_DIRECTOR_BITS || nb >= settled[us]!) continue;
          }
          const gc = g0 + cost[e]!;
          const key = gc + costToGo(u);
          if (key === Infinity) continue; // u cannot reach dst
          this.push(this.newLabel(u, ucls, nb, gc, l, e, key));
        }
      }
      return null;
    } finally {
      this.lastLabels = this.labels;
    }
  }

  /**
   * The route that follows the fewest bits from (src, first hop) to dst — every state on it has
   * fewer bits to go than `reach`, so the backward search settled it and its minBits is exact.
   * Ties (several hops leading on with the fewest bits) go to the next node first in node order,
   * then the lower edge index.
   */
  private fewestBitsRoute(
    g: FittingGraph,
    src: number,
    dst: number,
    classes: number,
    reach: number,
  ): FittingRoute {
    const { inOffsets, inNbr, inEdge, cost, labelId, form, schemeId } = g;
    const minBits = this.minBits;
    const path = [src];
    const edges: number[] = [];
    let total = 0;
    let v = src;
    let cls = 0;
    let left = reach;
    while (v !== dst) {
      const scheme = schemeId[v]!;
      let bestU = -1;
      let bestE = -1;
      let bestCls = 0;
      let bestBits = 0;
      const end = inOffsets[v + 1]!;
      for (let k = inOffsets[v]!; k < end; k++) {
        const u = inNbr[k]!;
        const e = inEdge[k]!;
        const b = this.hop.bits(labelId[e]!, scheme, cls);
        if (b === HOP_UNUSABLE || b > left) continue;
        let ucls = 0;
        if (u === dst) {
          if (b !== left) continue;
        } else {
          ucls = form[e]! + 1;
          if (ucls >= this.hop.classes(schemeId[u]!) || minBits[u * classes + ucls] !== left - b)
            continue;
        }
        if (bestU < 0 || (u !== bestU ? this.order.before(this.keys, u, bestU) : e < bestE)) {
          bestU = u;
          bestE = e;
          bestCls = ucls;
          bestBits = b;
        }
      }
      // cannot fail: (v, cls) lies on a fewest-bits route, so one of its hops continues it
      if (bestU < 0) throw new Error('fitting search: the fewest-bits route broke off');
      path.push(bestU);
      edges.push(bestE);
      total += cost[bestE]!;
      left -= bestBits;
      v = bestU;
      cls = bestCls;
    }
    return { path, edges, cost: total, bits: reach };
  }

  private newLabel(
    node: number,
    cls: number,
    bits: number,
    cost: number,
    parent: number,
    edge: number,
    key: number,
  ): number {
    if (this.labels === this.lNode.length) this.growLabels();
    const l = this.labels++;
    this.lNode[l] = node;
    this.lCls[l] = cls;
    this.lBits[l] = bits;
    this.lCost[l] = cost;
    this.lKey[l] = key;
    this.lParent[l] = parent;
    this.lEdge[l] = edge;
    this.lDepth[l] = parent < 0 ? 0 : this.lDepth[parent]! + 1;
    return l;
  }

  private growLabels(): void {
    const cap = Math.max(256, this.lNode.length * 2);
    const grow = <T extends Int32Array | Uint8Array | Float64Array>(
      a: T,
      make: (n: number) => T,
    ): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.lNode = grow(this.lNode, (n) => new Int32Array(n));
    this.lCls = grow(this.lCls, (n) => new Uint8Array(n));
    this.lBits = grow(this.lBits, (n) => new Uint8Array(n));
    this.lCost = grow(this.lCost, (n) => new Float64Array(n));
    this.lKey = grow(this.lKey, (n) => new Float64Array(n));
    this.lParent = grow(this.lParent, (n) => new Int32Array(n));
    this.lEdge = grow(this.lEdge, (n) => new Int32Array(n));
    this.lDepth = grow(this.lDepth, (n) => new Int32Array(n));
    this.heap = grow(this.heap, (n) => new Int32Array(n));
  }

  /** Whether label a comes before label b: key (cost + cost to go), then the route order. */
  private less(a: number, b: number): boolean {
    const ka = this.lKey[a]!;
    const kb = this.lKey[b]!;
    if (ka !== kb) return ka < kb;
    return this.sequenceBefore(a, b);
  }

  /**
   * Whether a's hop sequence from the source comes before b's: hop by hop, the next node's
   * address, then the link's position among the parallel links (edge index within the row).
   * A proper prefix comes first.
   */
  private sequenceBefore(a: number, b: number): boolean {
    const da = this.lDepth[a]!;
    const db = this.lDepth[b]!;
    if (this.chainA.length <= da) this.chainA = new Int32Array(2 * da + 2);
    if (this.chainB.length <= db) this.chainB = new Int32Array(2 * db + 2);
    const A = this.chainA;
    const B = this.chainB;
    for (let l = a, i = da; i > 0; l = this.lParent[l]!, i--) A[i - 1] = l;
    for (let l = b, i = db; i > 0; l = this.lParent[l]!, i--) B[i - 1] = l;
    const keys = this.keys;
    const n = Math.min(da, db);
    for (let i = 0; i < n; i++) {
      const x = A[i]!;
      const y = B[i]!;
      if (x === y) continue;
      const nx = this.lNode[x]!;
      const ny = this.lNode[y]!;
      if (nx !== ny) return this.order.before(keys, nx, ny);
      const ex = this.lEdge[x]!;
      const ey = this.lEdge[y]!;
      if (ex !== ey) return ex < ey;
    }
    return da < db;
  }

  private push(l: number): void {
    const heap = this.heap;
    let i = this.heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!this.less(l, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = l;
  }

  private pop(): number {
    const heap = this.heap;
    const top = heap[0]!;
    const size = --this.heapSize;
    if (size > 0) {
      const last = heap[size]!;
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= size) break;
        if (c + 1 < size && this.less(heap[c + 1]!, heap[c]!)) c++;
        if (!this.less(heap[c]!, last)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }

  private routeOf(l: number): FittingRoute {
    const hops = this.lDepth[l]!;
    const path = new Array<number>(hops + 1);
    const edges = new Array<number>(hops);
    let x = l;
    for (let i = hops; i > 0; i--, x = this.lParent[x]!) {
      path[i] = this.lNode[x]!;
      edges[i - 1] = this.lEdge[x]!;
    }
    path[0] = this.lNode[x]!;
    return { path, edges, cost: this.lCost[l]!, bits: this.lBits[l]! };
  }
}
