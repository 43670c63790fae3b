/**
 * The binary form of the whole graph that `GET /ui/api/graph` streams to the map page
 * (docs/ui.md). Shared by the server's encoder and the page's decoder, so it is pure: no Node
 * or DOM APIs. All integers little endian.
 *
 * ```
 * header   16 bytes   u32 magic "SNG1" · u32 nodeCount · u32 server time (s) · u32 reserved (0)
 * nodes    nodeCount × 24 bytes
 *          16  IPv6 bytes
 *           4  u32 last seen: timestamp of the node's newest announcement (s)
 *           2  u16 protocol version
 *           1  u8  kept announcements (255 = 255 or more)
 *           1  u8  reserved (0)
 * edges    chunks: u32 count, then count × (u32 a, u32 b | dir << 30); a chunk of count 0 ends
 *          the stream. a and b are node indices (a < b for a link both nodes announce);
 *          dir bit 0: a announces b as its peer, bit 1: b announces a.
 * ```
 *
 * Edges arrive in chunks because the server reads them while it streams (bounded slices of
 * nodes between event-loop turns); a link announced by only one side is sent once with one dir
 * bit, a link both announce once with both.
 */

export const GRAPH_MAGIC = 0x31474e53; // "SNG1" read as a little-endian u32
export const GRAPH_HEADER_BYTES = 16;
export const GRAPH_NODE_BYTES = 24;
export const GRAPH_EDGE_BYTES = 8;
/** node indices must fit below the two direction bits */
export const GRAPH_MAX_NODES = 1 << 30;
export const EDGE_DIR_A_ANNOUNCES_B = 1;
export const EDGE_DIR_B_ANNOUNCES_A = 2;

export interface DecodedGraph {
  readonly nodeCount: number;
  /** server time when the stream started (s) */
  readonly serverTimeSec: number;
  /** 16 bytes per node */
  readonly ips: Uint8Array;
  readonly lastSeenSec: Uint32Array;
  readonly version: Uint16Array;
  readonly announcements: Uint8Array;
  readonly edgeCount: number;
  /** 2 per edge: a, b */
  readonly edges: Uint32Array;
  /** per edge: dir bits */
  readonly edgeDir: Uint8Array;
}

export class GraphWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphWireError';
  }
}

/** Decode a whole stream (the page reads the response body, then calls this). */
export function decodeGraph(bytes: Uint8Array): DecodedGraph {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < GRAPH_HEADER_BYTES)
    throw new GraphWireError('graph stream shorter than its header');
  if (view.getUint32(0, true) !== GRAPH_MAGIC)
    throw new GraphWireError('not a graph stream (bad magic)');
  const nodeCount = view.getUint32(4, true);
  const serverTimeSec = view.getUint32(8, true);
  if (nodeCount >= GRAPH_MAX_NODES) throw new GraphWireError(`node count ${nodeCount} too large`);
  let o = GRAPH_HEADER_BYTES;
  if (bytes.byteLength < o + nodeCount * GRAPH_NODE_BYTES)
    throw new GraphWireError('graph stream ends inside the nodes');
  const ips = new Uint8Array(nodeCount * 16);
  const lastSeenSec = new Uint32Array(nodeCount);
  const version = new Uint16Array(nodeCount);
  const announcements = new Uint8Array(nodeCount);
  for (let i = 0; i < nodeCount; i++, o += GRAPH_NODE_BYTES) {
    ips.set(bytes.subarray(o, o + 16), i * 16);
    lastSeenSec[i] = view.getUint32(o + 16, true);
    version[i] = view.getUint16(o + 20, true);
    announcements[i] = bytes[o + 22]!;
  }
  // first pass: count edges and check the chunk framing
  let edgeCount = 0;
  let p = o;
  for (;;) {
    if (p + 4 > bytes.byteLength)
      throw new GraphWireError('graph stream ends before its last edge chunk');
    const count = view.getUint32(p, true);
    p += 4;
    if (count === 0) break;
    if (p + count * GRAPH_EDGE_BYTES > bytes.byteLength)
      throw new GraphWireError('graph stream ends inside an edge chunk');
    edgeCount += count;
    p += count * GRAPH_EDGE_BYTES;
  }
  if (p !== bytes.byteLength) throw new GraphWireError('bytes after the end of the graph stream');
  const edges = new Uint32Array(edgeCount * 2);
  const edgeDir = new Uint8Array(edgeCount);
  let e = 0;
  p = o;
  for (;;) {
    const count = view.getUint32(p, true);
    p += 4;
    if (count === 0) break;
    for (let k = 0; k < count; k++, p += GRAPH_EDGE_BYTES, e++) {
      const a = view.getUint32(p, true);
      const word = view.getUint32(p + 4, true);
      const b = word & (GRAPH_MAX_NODES - 1);
      if (a >= nodeCount || b >= nodeCount)
        throw new GraphWireError(`edge ${e} names a node outside the graph`);
      edges[2 * e] = a;
      edges[2 * e + 1] = b;
      edgeDir[e] = word >>> 30;
    }
  }
  return {
    nodeCount,
    serverTimeSec,
    ips,
    lastSeenSec,
    version,
    announcements,
    edgeCount,
    edges,
    edgeDir,
  };
}

const HEX = '0123456789abcdef';

/** The 39-character form of node i's address (as the server prints every IPv6). */
export function ipAt(ips: Uint8Array, i: number): string {
  let s = '';
  for (let k = 0; k < 16; k++) {
    if (k > 0 && (k & 1) === 0) s += ':';
    const b = ips[i * 16 + k]!;
    s += HEX[b >>> 4]! + HEX[b & 15]!;
  }
  return s;
}
