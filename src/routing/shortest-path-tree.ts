/**
 * Shortest-path tree towards one destination on a CSR snapshot, with node-dijkstra's exact
 * tie-breaking (see shortest-path.ts for why a heap keyed by (priority, counter of the last
 * insert-or-decrease) pops the same sequence as node-dijkstra's stably re-sorted array).
 *
 * One search answers every source for its destination: the reference runs `path(dst, src)` and
 * stops when it pops `src`; until then its steps do not depend on `src`, so the same search run
 * further visits the same nodes in the same order and `previous[src]` is what the reference had
 * when it stopped. Every node on the path back to `dst` was popped before `src`, so its
 * `previous` is final too. A node that is never inserted has no path (null).
 *
 * Searches stop early: `SptSolver#extend(tree, src)` runs the search only until `src` is popped
 * (settled). The tree then holds the final predecessor of every node settled so far — a
 * *partial* tree that answers every one of those sources — and `NONE` for all others. A later
 * query for an unsettled source extends it: resumed where it stopped if the solver's scratch
 * state still belongs to that tree, else re-run from the destination (the prefix is the same,
 * it does not depend on where the search stops). A search that empties its frontier leaves a
 * *complete* tree, where `NONE` means "no path".
 *
 * Everything is typed arrays (node ids index them); the scratch arrays are reused between
 * searches and a tree is only its `previous` array (4 bytes per node) and a flag.
 *
 * The `best` policy (route-policy.ts) searches with a canonical tie-break instead: its costs are
 * integers, so equal-cost paths are exactly equal, and a tree given a `TieOrder` makes prev[v]
 * the *first in node order* of the in-neighbours tight for v (all of them are settled before v,
 * costs being positive). The path prev[src], prev[prev[src]], … is then the first of the
 * cheapest paths in hop-by-hop node order — the order the fitting search and the reference use.
 */
import { MinHeap } from '../lib/heap.ts';
import type { SnapshotData } from './snapshot-data.ts';

/** What a search reads of a snapshot: its rows (a pair search also runs on a sub-graph of one). */
export type SearchGraph = Pick<SnapshotData, 'n' | 'offsets' | 'nbr' | 'cost'>;

/**
 * A canonical order of node ids for equal-cost ties: u before v iff keys[u] < keys[v], or the
 * keys are equal and `before(u, v)`.
 */
export interface TieOrder {
  readonly keys: Float64Array;
  before(u: number, v: number): boolean;
}

/** previous[v]: the node v was reached from (towards dst); NONE = unreached, previous[dst] = dst */
export type PreviousArray = Int32Array;
export const NONE = -1;

/** `pos` of a node not yet inserted, and of a settled one (frontier nodes: their heap index ≥ 0) */
const UNSEEN = -1;
const EXPLORED = -2;

/**
 * A (possibly partial) shortest-path tree towards `dst` on one snapshot. `prev[v]` is final for
 * every settled node and NONE for every other; once `complete`, NONE means "no path".
 */
export class SearchTree {
  readonly prev: PreviousArray;
  complete = false;
  /** nodes settled so far */
  settled = 0;

  constructor(
    readonly g: SearchGraph,
    readonly dst: number,
    /** `best`: equal-cost predecessors decided by this order (default: node-dijkstra's) */
    readonly ties?: TieOrder,
    /**
     * An array of at least `g.n` entries to use as `prev` (its first `g.n` are reset) instead of
     * a new one: for a short-lived tree whose owner reuses the array (the pair search's replay);
     * entries from `g.n` on mean nothing.
     */
    scratchPrev?: Int32Array,
  ) {
    this.prev =
      scratchPrev !== undefined && scratchPrev.length >= g.n
        ? scratchPrev.fill(NONE, 0, g.n)
        : new Int32Array(g.n).fill(NONE);
  }

  /** Whether `prev[src]` is final: src settled, or the search is exhausted. */
  knows(src: number): boolean {
    return this.complete || src >= this.g.n || this.prev[src] !== NONE;
  }
}

export class SptSolver {
  private capacity = 0;
  /** priority of every node in the frontier or explored, by node id */
  private prio = new Float64Array(0);
  /** heap index of every node in the frontier, UNSEEN or EXPLORED, by node id (the heap's positions) */
  private pos = new Int32Array(0);
  /** tentative predecessor of every node in the frontier, by node id */
  private pred = new Int32Array(0);
  /** the frontier, keyed by (priority, counter of the last insert-or-decrease) */
  private readonly heap = new MinHeap();

  /** the tree whose search the scratch arrays and the heap hold (resumable) */
  private owner: SearchTree | null = null;

  /** Pops performed by the last `solve` / `extend` call (for metrics and tests). */
  lastPops = 0;

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(n, Math.ceil(this.capacity * 1.5), 16);
    this.prio = new Float64Array(cap);
    this.pos = this.heap.trackPositions(cap);
    this.pred = new Int32Array(cap);
    this.capacity = cap;
  }

  /** The full tree towards `dst` over the reverse graph of `g`. */
  solve(g: SearchGraph, dst: number): PreviousArray {
    const tree = new SearchTree(g, dst);
    this.extend(tree, NONE);
    return tree.prev;
  }

  /** Whether the scratch arrays hold `tree`'s suspended search (`extend` resumes it). */
  holds(tree: SearchTree): boolean {
    return this.owner === tree;
  }

  /**
   * Run `tree`'s search until `target` is settled or the frontier is empty (`target` NONE: to
   * the end), or until `maxPops` nodes were settled by this call (a slice of a search run in
   * the background; it resumes where it stopped while this solver still holds it). Without a
   * pop limit, afterwards `tree.knows(target)`.
   */
  extend(tree: SearchTree, target: number, maxPops = Infinity): void {
    if (tree.complete) {
      this.lastPops = 0;
      return;
    }
    if (this.owner !== tree) this.start(tree);
    const before = tree.settled;
    this.run(tree, target, maxPops);
    this.lastPops = tree.settled - before;
  }

  /** Put the search of `tree` at its beginning: only `dst` in the frontier. */
  private start(tree: SearchTree): void {
    const n = tree.g.n;
    this.ensure(n);
    this.pos.fill(UNSEEN, 0, n);
    const dst = tree.dst;
    this.pred[dst] = dst;
    this.prio[dst] = 0;
    this.heap.clear();
    this.heap.push(dst, 0);
    tree.settled = 0;
    this.owner = tree;
  }

  /**
   * The search loop. A decrease always lowers the priority strictly, so the entry only moves
   * towards the root. A popped node's edges are relaxed before the loop checks for the target,
   * so stopping there leaves a state that continues exactly as if it had never stopped.
   */
  private run(tree: SearchTree, target: number, maxPops: number): void {
    const prio = this.prio;
    const pos = this.pos;
    const pred = this.pred;
    const heap = this.heap;
    const out = tree.prev;
    const g = tree.g;
    const offsets = g.offsets;
    const nbr = g.nbr;
    const cost = g.cost;
    let pops = 0;
    const ties = tree.ties;
    const tk = ties?.keys;

    while (heap.size > 0) {
      const u: number = heap.items[0]!;
      const pu: number = heap.prios[0]!;
      heap.pop();
      pops++;
      pos[u] = EXPLORED;
      out[u] = pred[u]!;
      const end = offsets[u + 1]!;
      for (let e: number = offsets[u]!; e < end; e++) {
        const v = nbr[e]!;
        const i = pos[v]!;
        if (i === EXPLORED) continue;
        const candidate = pu + cost[e]!;
        if (i !== UNSEEN && !(candidate < prio[v]!)) {
          if (tk !== undefined && candidate === prio[v]) {
            // `best`: an equal-cost predecessor earlier in node order wins
            const p = pred[v]!;
            const ku = tk[u]!;
            const kp = tk[p]!;
            if (ku < kp || (ku === kp && u !== p && ties!.before(u, p))) pred[v] = u;
          }
          continue;
        }
        pred[v] = u;
        prio[v] = candidate;
        if (i === UNSEEN) heap.push(v, candidate);
        else heap.decrease(v, candidate);
      }
      if (u === target || pops >= maxPops) break;
    }
    tree.settled += pops;
    if (heap.size === 0) {
      tree.complete = true;
      this.owner = null;
    }
  }
}

/**
 * The path src … dst in the tree (node ids), or null when src was never reached. Like the
 * reference, src = dst has no path (callers answer the self route before searching). On a
 * partial tree, only for a settled src (`SearchTree#knows`).
 */
export function pathFromTree(prev: PreviousArray, src: number, dst: number): number[] | null {
  if (src === dst || src >= prev.length || prev[src] === NONE) return null;
  const path: number[] = [src];
  let v = src;
  while (v !== dst) {
    v = prev[v]!;
    path.push(v);
  }
  return path;
}
