/**
 * Shortest-path tree towards one destination on a CSR snapshot, with node-dijkstra's exact
 * tie-breaking (see shortest-path.ts for why a heap keyed by (priority, counter of the last
 * insert-or-decrease) pops the same sequence as node-dijkstra's stably re-sorted array).
 *
 * One tree answers every source for its destination: the reference runs `path(dst, src)` and
 * stops when it pops `src`; until then its steps do not depend on `src`, so running the same
 * search to exhaustion visits the same nodes in the same order and leaves `previous[src]` as
 * the reference had it when it stopped. Every node on the path back to `dst` was popped before
 * `src`, so its `previous` is final too. A node that is never inserted has no path (null).
 *
 * Everything is typed arrays (node ids index them); the scratch arrays are reused between
 * searches and the result is only the `previous` array (4 bytes per node).
 */
import type { SnapshotData } from './snapshot-data.ts';

/** previous[v]: the node v was reached from (towards dst); NONE = unreached, previous[dst] = dst */
export type PreviousArray = Int32Array;
export const NONE = -1;

const UNSEEN = 0;
const IN_FRONTIER = 1;
const EXPLORED = 2;

export class SptSolver {
  private capacity = 0;
  /** priority of every node in the frontier or explored, by node id */
  private prio = new Float64Array(0);
  private state = new Uint8Array(0);
  /** heap index of every node in the frontier, by node id */
  private pos = new Int32Array(0);
  /** the heap: node ids, and their (priority, counter) keys stored in heap order */
  private heap = new Int32Array(0);
  private heapPrio = new Float64Array(0);
  private heapSeq = new Float64Array(0);

  /** Pops performed by the last search (for metrics and tests). */
  lastPops = 0;

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(n, Math.ceil(this.capacity * 1.5), 16);
    this.prio = new Float64Array(cap);
    this.state = new Uint8Array(cap);
    this.pos = new Int32Array(cap);
    this.heap = new Int32Array(cap);
    this.heapPrio = new Float64Array(cap);
    this.heapSeq = new Float64Array(cap);
    this.capacity = cap;
  }

  /** The full tree towards `dst` over the reverse graph of `g`. */
  solve(g: SnapshotData, dst: number): PreviousArray {
    const n = g.n;
    this.ensure(n);
    const prev = new Int32Array(n).fill(NONE);
    this.lastPops = search(g, dst, prev, this);
    return prev;
  }

  /** @internal scratch arrays for `search` */
  scratch(): Scratch {
    return {
      prio: this.prio,
      state: this.state,
      pos: this.pos,
      heap: this.heap,
      hp: this.heapPrio,
      hs: this.heapSeq,
    };
  }
}

interface Scratch {
  prio: Float64Array;
  state: Uint8Array;
  pos: Int32Array;
  heap: Int32Array;
  hp: Float64Array;
  hs: Float64Array;
}

/**
 * The search, all state in locals. The frontier is a 4-ary min-heap of node ids whose keys
 * (priority, counter) sit in heap order next to them (`hp`, `hs`: sift steps read contiguous
 * memory); `pos` gives a node's heap index for decrease-key. A decrease always lowers the
 * priority strictly, so the entry only moves towards the root.
 */
function search(g: SnapshotData, dst: number, prev: Int32Array, solver: SptSolver): number {
  const { prio, state, pos, heap, hp, hs } = solver.scratch();
  const { offsets, nbr, cost } = g;
  state.fill(UNSEEN, 0, g.n);
  let counter = 0;
  let pops = 0;

  prev[dst] = dst;
  prio[dst] = 0;
  state[dst] = IN_FRONTIER;
  heap[0] = dst;
  hp[0] = 0;
  hs[0] = counter++;
  pos[dst] = 0;
  let size = 1;

  while (size > 0) {
    const u: number = heap[0]!;
    const pu: number = hp[0]!;
    size--;
    if (size > 0) {
      // sift the last entry down from the root
      const last = heap[size]!;
      const lp = hp[size]!;
      const ls = hs[size]!;
      let i = 0;
      for (;;) {
        const c0 = 4 * i + 1;
        if (c0 >= size) break;
        let c = c0;
        let cp = hp[c0]!;
        let cs = hs[c0]!;
        const cend = c0 + 4 < size ? c0 + 4 : size;
        for (let k = c0 + 1; k < cend; k++) {
          const kp = hp[k]!;
          if (kp < cp || (kp === cp && hs[k]! < cs)) {
            c = k;
            cp = kp;
            cs = hs[k]!;
          }
        }
        if (!(cp < lp || (cp === lp && cs < ls))) break;
        const cv = heap[c]!;
        heap[i] = cv;
        hp[i] = cp;
        hs[i] = cs;
        pos[cv] = i;
        i = c;
      }
      heap[i] = last;
      hp[i] = lp;
      hs[i] = ls;
      pos[last] = i;
    }
    pops++;
    state[u] = EXPLORED;
    const end = offsets[u + 1]!;
    for (let e: number = offsets[u]!; e < end; e++) {
      const v = nbr[e]!;
      const sv = state[v]!;
      if (sv === EXPLORED) continue;
      const candidate = pu + cost[e]!;
      let i: number;
      if (sv === UNSEEN) {
        state[v] = IN_FRONTIER;
        i = size++;
      } else if (candidate < prio[v]!) {
        i = pos[v]!;
      } else {
        continue;
      }
      prev[v] = u;
      prio[v] = candidate;
      const sq = counter++;
      while (i > 0) {
        const parent = (i - 1) >> 2;
        const pp = hp[parent]!;
        if (!(candidate < pp || (candidate === pp && sq < hs[parent]!))) break;
        const pv = heap[parent]!;
        heap[i] = pv;
        hp[i] = pp;
        hs[i] = hs[parent]!;
        pos[pv] = i;
        i = parent;
      }
      heap[i] = v;
      hp[i] = candidate;
      hs[i] = sq;
      pos[v] = i;
    }
  }
  return pops;
}

/**
 * The path src … dst in the tree (node ids), or null when src was never reached. Like the
 * reference, src = dst has no path (callers answer the self route before searching).
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
