/**
 * An immutable route-graph snapshot in compact form: integer node ids, the reverse graph of
 * docs/protocol.md §4.8 as CSR (compressed sparse rows) with edge costs and the label data of each edge's
 * best link. A tree replica builds one; the active one answers every route query.
 *
 * Row `n` lists the edges n → p ("p can reach n": n has an inward link from p and p one from n),
 * in n's inwardLinksByIp order — the order the reference search visits neighbours in, so the
 * tie-breaks are the same. Edge arrays are indexed by edge number e in [offsets[n], offsets[n+1]).
 *
 * The arrays live in SharedArrayBuffers when available, so a snapshot built in a worker thread
 * reaches the main thread without a copy. Nobody writes to a snapshot after it is built.
 */

export interface SnapshotData {
  /** the update-stream position this snapshot reflects (every update with seq ≤ this applied) */
  readonly seq: number;
  /** number of node ids covered (ids ≥ n have no record in this snapshot) */
  readonly n: number;
  /** 1 if the node has a record */
  readonly present: Uint8Array;
  readonly version: Uint32Array;
  /** SchemeTable id; -1 without a record */
  readonly schemeId: Int32Array;
  /** n + 1 entries */
  readonly offsets: Int32Array;
  /** edge target (the peer p of edge n → p) */
  readonly nbr: Int32Array;
  /**
   * `original`: 1 / value of the best link, Infinity for a zero value (JS-exact, docs/protocol.md §4.8);
   * `best`: the link's integer cost (best-cost.ts)
   */
  readonly cost: Float64Array;
  /** LabelTable id of the link from p to n (the label p uses to reach n) */
  readonly labelId: Int32Array;
  /** encodingFormNum of that link */
  readonly form: Uint8Array;
  /**
   * The same edges by target (the transpose, for searches that run backwards from a source):
   * inOffsets has n + 1 entries; inNbr[k] is the node u of edge u → v for k in
   * [inOffsets[v], inOffsets[v+1]), inCost[k] its cost, inEdge[k] its index in u's row (for the
   * label data). Built from the rows by `inEdgesOf`.
   */
  readonly inOffsets: Int32Array;
  readonly inNbr: Int32Array;
  readonly inCost: Float64Array;
  readonly inEdge: Int32Array;
  readonly stats: SnapshotStats;
}

export interface SnapshotStats {
  /** rebuilt every row (true) or only the rows the updates touched */
  readonly full: boolean;
  readonly rowsRebuilt: number;
  readonly edges: number;
  readonly buildMs: number;
  /** of which the building thread ran on a core (ms; where the platform tells, lib/thread-cpu.ts) */
  readonly cpuMs?: number;
}

const HAS_SAB = typeof SharedArrayBuffer === 'function';

function buffer(bytes: number): ArrayBufferLike {
  return HAS_SAB ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

export const alloc = {
  i32: (n: number): Int32Array => new Int32Array(buffer(4 * n)),
  u32: (n: number): Uint32Array => new Uint32Array(buffer(4 * n)),
  f64: (n: number): Float64Array => new Float64Array(buffer(8 * n)),
  u8: (n: number): Uint8Array => new Uint8Array(buffer(n)),
};

/** The snapshot of a graph without nodes. */
export function emptySnapshot(): SnapshotData {
  return {
    seq: 0,
    n: 0,
    present: alloc.u8(0),
    version: alloc.u32(0),
    schemeId: alloc.i32(0),
    offsets: alloc.i32(1),
    nbr: alloc.i32(0),
    cost: alloc.f64(0),
    labelId: alloc.i32(0),
    form: alloc.u8(0),
    inOffsets: alloc.i32(1),
    inNbr: alloc.i32(0),
    inCost: alloc.f64(0),
    inEdge: alloc.i32(0),
    stats: { full: true, rowsRebuilt: 0, edges: 0, buildMs: 0 },
  };
}

/**
 * The transpose of the rows (`inOffsets`, `inNbr`, `inCost`, `inEdge`): a counting pass and a
 * fill pass over the edges, O(n + m). Within a target's list the sources come in id order (and
 * a source's parallel edges in row order).
 */
export function inEdgesOf(
  g: Pick<SnapshotData, 'n' | 'offsets' | 'nbr' | 'cost'>,
): Pick<SnapshotData, 'inOffsets' | 'inNbr' | 'inCost' | 'inEdge'> {
  const { n, offsets, nbr, cost } = g;
  const m = offsets[n]!;
  const inOffsets = alloc.i32(n + 1);
  for (let e = 0; e < m; e++) inOffsets[nbr[e]! + 1]!++;
  for (let v = 0; v < n; v++) inOffsets[v + 1]! += inOffsets[v]!;
  const next = inOffsets.slice(0, n);
  const inNbr = alloc.i32(m);
  const inCost = alloc.f64(m);
  const inEdge = alloc.i32(m);
  for (let u = 0; u < n; u++) {
    const end = offsets[u + 1]!;
    for (let e = offsets[u]!; e < end; e++) {
      const k = next[nbr[e]!]!++;
      inNbr[k] = u;
      inCost[k] = cost[e]!;
      inEdge[k] = e;
    }
  }
  return { inOffsets, inNbr, inCost, inEdge };
}

/** Structural equality of the graph part (seq and stats ignored): used by tests and checks. */
export function sameGraph(a: SnapshotData, b: SnapshotData): boolean {
  const n = Math.max(a.n, b.n);
  for (let i = 0; i < n; i++) {
    const pa = i < a.n ? a.present[i]! : 0;
    const pb = i < b.n ? b.present[i]! : 0;
    if (pa !== pb) return false;
    if (pa === 0) continue;
    if (a.version[i] !== b.version[i] || a.schemeId[i] !== b.schemeId[i]) return false;
    const la = a.offsets[i + 1]! - a.offsets[i]!;
    const lb = b.offsets[i + 1]! - b.offsets[i]!;
    if (la !== lb) return false;
    for (let k = 0; k < la; k++) {
      const ea = a.offsets[i]! + k;
      const eb = b.offsets[i]! + k;
      if (a.nbr[ea] !== b.nbr[eb] || !Object.is(a.cost[ea], b.cost[eb])) return false;
      if (a.labelId[ea] !== b.labelId[eb] || a.form[ea] !== b.form[eb]) return false;
    }
  }
  return true;
}
