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
 * The set C: a bidirectional search (forward from dst over the rows, backward from src over the
 * in-edges) run until the two frontiers' keys add up to more than the best meeting cost μ plus a
 * relative margin. Every node on a path of cost ≤ μ·(1 + margin) is then settled by one of the
 * two sides (if df(w) ≥ topF then db(w) < topB), which covers the closure even where the two
 * directions' floating-point sums differ in the last bits; C is the union of both settled sets.
 *
 * Only finite paths are handled: when src cannot be reached at a finite cost (no path, or only
 * through Infinity-cost edges) `find` returns undefined and the caller runs the full search.
 *
 * On the benchmark mesh (50k nodes, most with 2–5 peers, a few hubs) the two searches settle a
 * few hundred nodes where a search from dst settles half the graph on average.
 */
import type { SnapshotData } from './snapshot-data.ts';

/** Relative slack on the stopping test (float sums in the two directions differ in the last bits). */
const MARGIN = 1e-9;

/** `pos` values of the replay for nodes not in its frontier */
const UNSEEN = -1;
const EXPLORED = -2;

/** A binary min-heap of (key, node) with lazy deletion, in typed arrays. */
class KeyHeap {
  keys = new Float64Array(16);
  nodes = new Int32Array(16);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  push(key: number, node: number): void {
    if (this.size === this.keys.length) this.grow();
    const keys = this.keys;
    const nodes = this.nodes;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent]!;
      if (!(key < pk)) break;
      keys[i] = pk;
      nodes[i] = nodes[parent]!;
      i = parent;
    }
    keys[i] = key;
    nodes[i] = node;
  }

  /** Remove the top entry (read it from keys[0] / nodes[0] first). */
  pop(): void {
    const size = --this.size;
    if (size === 0) return;
    const keys = this.keys;
    const nodes = this.nodes;
    const lk = keys[size]!;
    const ln = nodes[size]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      let ck = keys[c]!;
      if (c + 1 < size && keys[c + 1]! < ck) ck = keys[++c]!;
      if (!(ck < lk)) break;
      keys[i] = ck;
      nodes[i] = nodes[c]!;
      i = c;
    }
    keys[i] = lk;
    nodes[i] = ln;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    const nodes = new Int32Array(this.nodes.length * 2);
    nodes.set(this.nodes);
    this.keys = keys;
    this.nodes = nodes;
  }
}

export class PairSearch {
  private capacity = 0;
  /** generation stamps: an entry of the arrays below is valid only when its stamp is current */
  private gen = 0;
  private fStamp = new Int32Array(0);
  private bStamp = new Int32Array(0);
  private fDist = new Float64Array(0);
  private bDist = new Float64Array(0);
  /** 1 once settled by that side (valid with the side's stamp) */
  private fDone = new Uint8Array(0);
  private bDone = new Uint8Array(0);
  private readonly fHeap = new KeyHeap();
  private readonly bHeap = new KeyHeap();
  /** the replay's state (valid with rStamp) */
  private rStamp = new Int32Array(0);
  private rPrio = new Float64Array(0);
  private rPos = new Int32Array(0);
  private rPred = new Int32Array(0);
  private rHeap = new Int32Array(0);
  private rHeapPrio = new Float64Array(0);
  private rHeapSeq = new Int32Array(0);

  /** Nodes settled by the last `find` (both sides of the bidirectional search), for tests and metrics. */
  lastSettled = 0;

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(n, Math.ceil(this.capacity * 1.5), 16);
    this.fStamp = new Int32Array(cap);
    this.bStamp = new Int32Array(cap);
    this.fDist = new Float64Array(cap);
    this.bDist = new Float64Array(cap);
    this.fDone = new Uint8Array(cap);
    this.bDone = new Uint8Array(cap);
    this.rStamp = new Int32Array(cap);
    this.rPrio = new Float64Array(cap);
    this.rPos = new Int32Array(cap);
    this.rPred = new Int32Array(cap);
    this.rHeap = new Int32Array(cap);
    this.rHeapPrio = new Float64Array(cap);
    this.rHeapSeq = new Int32Array(cap);
    this.capacity = cap;
    this.gen = 0;
  }

  private nextGen(): number {
    if (this.gen >= 0x7ffffff0) {
      this.fStamp.fill(0);
      this.bStamp.fill(0);
      this.rStamp.fill(0);
      this.gen = 0;
    }
    return ++this.gen;
  }

  /**
   * The reference path src … dst (node ids) on `g`, or undefined when it has no finite-cost
   * path (the caller falls back to the full search, which also decides "no path"). src ≠ dst,
   * both < g.n.
   */
  find(g: SnapshotData, src: number, dst: number): number[] | undefined {
    this.ensure(g.n);
    const gen = this.nextGen();
    if (!this.meet(g, src, dst, gen)) return undefined;
    return this.replay(g, src, dst, gen);
  }

  /**
   * The bidirectional search; marks the settled nodes of both sides (fDone / bDone with the
   * current stamps). False when no finite meeting cost was found.
   */
  private meet(g: SnapshotData, src: number, dst: number, gen: number): boolean {
    const { offsets, nbr, cost, inOffsets, inNbr, inCost } = g;
    const fStamp = this.fStamp;
    const bStamp = this.bStamp;
    const fDist = this.fDist;
    const bDist = this.bDist;
    const fDone = this.fDone;
    const bDone = this.bDone;
    const fh = this.fHeap;
    const bh = this.bHeap;
    fh.clear();
    bh.clear();
    fStamp[dst] = gen;
    fDist[dst] = 0;
    fDone[dst] = 0;
    bStamp[src] = gen;
    bDist[src] = 0;
    bDone[src] = 0;
    fh.push(0, dst);
    bh.push(0, src);
    let mu = Infinity;
    let settled = 0;
    for (;;) {
      // drop stale entries so the tops are real frontier keys
      while (fh.size > 0 && fDone[fh.nodes[0]!] === 1) fh.pop();
      while (bh.size > 0 && bDone[bh.nodes[0]!] === 1) bh.pop();
      if (fh.size === 0 || bh.size === 0) break;
      const topF = fh.keys[0]!;
      const topB = bh.keys[0]!;
      if (topF + topB > mu * (1 + MARGIN)) break;
      if (fh.size <= bh.size) {
        const u = fh.nodes[0]!;
        fh.pop();
        fDone[u] = 1;
        settled++;
        const end = offsets[u + 1]!;
        for (let e = offsets[u]!; e < end; e++) {
          const v = nbr[e]!;
          const cd = topF + cost[e]!;
          if (cd === Infinity) continue;
          if (fStamp[v] !== gen) {
            fStamp[v] = gen;
            fDone[v] = 0;
          } else if (fDone[v] === 1 || !(cd < fDist[v]!)) continue;
          fDist[v] = cd;
          fh.push(cd, v);
          if (bStamp[v] === gen && cd + bDist[v]! < mu) mu = cd + bDist[v]!;
        }
      } else {
        const u = bh.nodes[0]!;
        bh.pop();
        bDone[u] = 1;
        settled++;
        const end = inOffsets[u + 1]!;
        for (let e = inOffsets[u]!; e < end; e++) {
          const v = inNbr[e]!;
          const cd = topB + inCost[e]!;
          if (cd === Infinity) continue;
          if (bStamp[v] !== gen) {
            bStamp[v] = gen;
            bDone[v] = 0;
          } else if (bDone[v] === 1 || !(cd < bDist[v]!)) continue;
          bDist[v] = cd;
          bh.push(cd, v);
          if (fStamp[v] === gen && cd + fDist[v]! < mu) mu = cd + fDist[v]!;
        }
      }
    }
    this.lastSettled = settled;
    return mu < Infinity;
  }

  /**
   * The reference search from dst (shortest-path-tree.ts' loop: 4-ary heap keyed by priority
   * and the counter of the last insert-or-decrease, strict decreases only) over the nodes the
   * bidirectional search settled, until src is popped; the path follows the predecessors back.
   */
  private replay(g: SnapshotData, src: number, dst: number, gen: number): number[] | undefined {
    const { offsets, nbr, cost } = g;
    const fStamp = this.fStamp;
    const bStamp = this.bStamp;
    const fDone = this.fDone;
    const bDone = this.bDone;
    const stamp = this.rStamp;
    const prio = this.rPrio;
    const pos = this.rPos;
    const pred = this.rPred;
    const heap = this.rHeap;
    const hp = this.rHeapPrio;
    const hs = this.rHeapSeq;
    stamp[dst] = gen;
    pred[dst] = dst;
    prio[dst] = 0;
    heap[0] = dst;
    hp[0] = 0;
    hs[0] = 0;
    pos[dst] = 0;
    let counter = 1;
    let size = 1;
    let found = false;
    while (size > 0) {
      const u: number = heap[0]!;
      const pu: number = hp[0]!;
      size--;
      if (size > 0) {
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
      pos[u] = EXPLORED;
      if (u === src) {
        found = true;
        break;
      }
      const end = offsets[u + 1]!;
      for (let e: number = offsets[u]!; e < end; e++) {
        const v = nbr[e]!;
        // only the region the two searches settled (and src, which the forward side may have
        // reached before the backward side popped it)
        if (
          v !== src &&
          !((fStamp[v] === gen && fDone[v] === 1) || (bStamp[v] === gen && bDone[v] === 1))
        )
          continue;
        let i = stamp[v] === gen ? pos[v]! : UNSEEN;
        if (i === EXPLORED) continue;
        const candidate = pu + cost[e]!;
        if (i === UNSEEN) {
          stamp[v] = gen;
          i = size++;
        } else if (!(candidate < prio[v]!)) continue;
        pred[v] = u;
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
    if (!found) return undefined;
    const path: number[] = [src];
    let v = src;
    while (v !== dst) {
      v = pred[v]!;
      path.push(v);
    }
    return path;
  }
}
