/**
 * The node table as the map page's binary graph stream (format: graph-wire.ts), produced in
 * bounded slices: the generator yields one chunk per slice of nodes (at most 1,024 nodes and
 * about 2 ms of work), and the HTTP side (a heavy answer: stream-response.ts) asks for the next
 * only once the client took it, within the shared per-turn budget, so a 50k-node graph never
 * holds the loop for more than a slice and the stream is never one big string.
 *
 * The records are taken once when the stream starts (the node order and indices are fixed
 * then); links are read slice by slice while the table keeps changing, so a link added or
 * removed during the stream may appear on one side only. Peers without a record in that first
 * read are left out (the map draws only nodes it knows).
 */
import type { NodeRecordView } from '../../graph/node-record.ts';
import {
  EDGE_DIR_A_ANNOUNCES_B,
  EDGE_DIR_B_ANNOUNCES_A,
  GRAPH_EDGE_BYTES,
  GRAPH_HEADER_BYTES,
  GRAPH_MAGIC,
  GRAPH_MAX_NODES,
  GRAPH_NODE_BYTES,
} from './graph-wire.ts';

/** At most this many nodes per chunk (24 KB of node records, or the links of this many nodes). */
export const GRAPH_SLICE_NODES = 1024;
/** A slice also ends once it has run this long (checked every 64 nodes): a loaded machine still
 *  gets the event loop back within a few milliseconds. */
export const GRAPH_SLICE_BUDGET_MS = 2;

export interface GraphEncodeOptions {
  /** nodes per slice at most (tests use small slices to cover the chunking) */
  readonly sliceNodes?: number;
  /** time per slice at most, ms (0: end a slice at every 64th node) */
  readonly sliceBudgetMs?: number;
}

/** One hex digit's value (the address strings are lowercase, validated when the record was made). */
function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

/** Write the 39-character IPv6 `ip` as 16 bytes at `out[o]`. */
function writeIp(out: Uint8Array, o: number, ip: string): void {
  for (let g = 0; g < 8; g++) {
    const s = g * 5;
    out[o + 2 * g] = (hexValue(ip.charCodeAt(s)) << 4) | hexValue(ip.charCodeAt(s + 1));
    out[o + 2 * g + 1] = (hexValue(ip.charCodeAt(s + 2)) << 4) | hexValue(ip.charCodeAt(s + 3));
  }
}

function hasLinks(record: NodeRecordView | undefined, fromIp: string): boolean {
  const links = record?.inwardLinksByIp.get(fromIp);
  return links !== undefined && links.length > 0;
}

/**
 * The graph stream of `records` (a NodeTable) at `nowMs`, chunk by chunk. The first chunk holds
 * the header; the last one ends with the empty edge chunk.
 */
export function* encodeGraph(
  records: Iterable<NodeRecordView>,
  nowMs: number,
  opts: GraphEncodeOptions = {},
): Generator<Uint8Array, void, undefined> {
  const maxNodes = Math.max(1, opts.sliceNodes ?? GRAPH_SLICE_NODES);
  const budgetMs = opts.sliceBudgetMs ?? GRAPH_SLICE_BUDGET_MS;
  const nodes = Array.from(records);
  const n = nodes.length;
  if (n >= GRAPH_MAX_NODES) throw new RangeError(`${n} nodes do not fit the graph stream`);
  const index = new Map<string, number>();
  /** the slice that started at `deadline - budgetMs` is over (checked every 64 nodes) */
  const sliceOver = (i: number, deadline: number): boolean =>
    (i & 63) === 0 && performance.now() >= deadline;

  // nodes: the header, then the node records, slice by slice
  let i = 0;
  do {
    const start = i;
    const limit = Math.min(n, start + maxNodes);
    const deadline = performance.now() + budgetMs;
    const head = start === 0 ? GRAPH_HEADER_BYTES : 0;
    const out = new Uint8Array(head + (limit - start) * GRAPH_NODE_BYTES);
    const view = new DataView(out.buffer);
    if (start === 0) {
      view.setUint32(0, GRAPH_MAGIC, true);
      view.setUint32(4, n, true);
      view.setUint32(8, Math.max(0, Math.floor(nowMs / 1000)) >>> 0, true);
    }
    while (i < limit) {
      const r = nodes[i]!;
      index.set(r.ipv6, i);
      const o = head + (i - start) * GRAPH_NODE_BYTES;
      writeIp(out, o, r.ipv6);
      view.setUint32(
        o + 16,
        Math.max(0, Math.min(0xffffffff, Math.floor(r.timestamp / 1000))),
        true,
      );
      view.setUint16(o + 20, Math.min(0xffff, r.version), true);
      out[o + 22] = Math.min(255, r.announcements.length);
      i++;
      if (sliceOver(i, deadline)) break;
    }
    yield out.subarray(0, head + (i - start) * GRAPH_NODE_BYTES);
  } while (i < n);

  // links: one chunk per slice of nodes (each link once, from the lower index when both announce it)
  let scratch = new Uint32Array(2 * 1024);
  for (let ia = 0; ia < n;) {
    const limit = Math.min(n, ia + maxNodes);
    const deadline = performance.now() + budgetMs;
    let k = 0;
    while (ia < limit) {
      const rec = nodes[ia]!;
      for (const [peerIp, links] of rec.inwardLinksByIp) {
        if (links.length === 0) continue;
        const ib = index.get(peerIp);
        if (ib === undefined || ib === ia) continue;
        let a: number;
        let b: number;
        let dir: number;
        if (hasLinks(nodes[ib], rec.ipv6)) {
          if (ib < ia) continue; // both announce it: sent once, from the lower index
          a = ia;
          b = ib;
          dir = EDGE_DIR_A_ANNOUNCES_B | EDGE_DIR_B_ANNOUNCES_A;
        } else if (ia < ib) {
          a = ia;
          b = ib;
          dir = EDGE_DIR_A_ANNOUNCES_B;
        } else {
          a = ib;
          b = ia;
          dir = EDGE_DIR_B_ANNOUNCES_A;
        }
        if (2 * k + 2 > scratch.length) {
          const grown = new Uint32Array(scratch.length * 2);
          grown.set(scratch);
          scratch = grown;
        }
        scratch[2 * k] = a;
        scratch[2 * k + 1] = (b | (dir << 30)) >>> 0;
        k++;
      }
      ia++;
      if (sliceOver(ia, deadline)) break;
    }
    if (k === 0) continue;
    const out = new Uint8Array(4 + k * GRAPH_EDGE_BYTES);
    const view = new DataView(out.buffer);
    view.setUint32(0, k, true);
    for (let e = 0; e < 2 * k; e++) view.setUint32(4 + 4 * e, scratch[e]!, true);
    yield out;
  }
  yield new Uint8Array(4); // the empty chunk: end of the stream
}
