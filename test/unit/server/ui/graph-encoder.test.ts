/**
 * The map page's binary graph stream (src/server/ui/graph-encoder.ts → graph-wire.ts): encoded
 * from a node table holding a real 60-node mesh, decoded by the page's decoder, compared with the
 * table and the topology; chunking, one-sided links, peers without a record, a table that changes
 * while it streams, and every way a stream can be malformed.
 */
import { expect } from 'chai';
import type { World } from '../../../../bench/world.ts';
import { concatBytes } from '../../../../src/protocol/hex.ts';
import type { RouteServer } from '../../../../src/server/route-server.ts';
import { encodeGraph } from '../../../../src/server/ui/graph-encoder.ts';
import {
  decodeGraph,
  GRAPH_HEADER_BYTES,
  GRAPH_MAGIC,
  GRAPH_NODE_BYTES,
  GraphWireError,
  ipAt,
  type DecodedGraph,
} from '../../../../src/server/ui/graph-wire.ts';
import { meshServer } from '../../../helpers/mesh.ts';

const N = 60;

function encode(server: RouteServer, sliceNodes?: number): Uint8Array {
  return concatBytes(
    ...encodeGraph(server.nodes, server.clock.now(), sliceNodes ? { sliceNodes } : {}),
  );
}

/** Decoded edges as "ipA ipB dir" strings. */
function edgeSet(g: DecodedGraph): string[] {
  const out: string[] = [];
  for (let e = 0; e < g.edgeCount; e++)
    out.push(`${ipAt(g.ips, g.edges[2 * e]!)} ${ipAt(g.ips, g.edges[2 * e + 1]!)} ${g.edgeDir[e]}`);
  return out;
}

function u32(...values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint32(4 * i, x >>> 0, true));
  return out;
}

describe('map graph stream', () => {
  let server: RouteServer;
  let world: World;

  beforeEach(async () => {
    ({ server, world } = await meshServer(N));
  });

  it('holds every node of the table, in table order, with last seen, version and kept announcements', () => {
    const g = decodeGraph(encode(server));
    const records = [...server.nodes];
    expect(g.nodeCount).to.equal(N);
    expect(g.serverTimeSec).to.equal(Math.floor(server.clock.now() / 1000));
    records.forEach((r, i) => {
      expect(ipAt(g.ips, i)).to.equal(r.ipv6);
      expect(g.lastSeenSec[i]).to.equal(Math.floor(r.timestamp / 1000));
      expect(g.version[i]).to.equal(22);
      expect(g.announcements[i]).to.equal(r.announcements.length);
    });
  });

  it('holds every link of the mesh once, announced by both ends', () => {
    const g = decodeGraph(encode(server));
    const index = new Map([...server.nodes].map((r, i) => [r.ipv6, i]));
    const expected = new Set<string>();
    world.topo.neighbours.forEach((ns, i) =>
      ns.forEach((j) => {
        const [a, b] = [index.get(world.ips[i]!)!, index.get(world.ips[j]!)!].sort((x, y) => x - y);
        expected.add(`${ipAt(g.ips, a!)} ${ipAt(g.ips, b!)} 3`);
      }),
    );
    const got = edgeSet(g);
    expect(got).to.have.length(world.topo.edges);
    expect(new Set(got)).to.deep.equal(expected);
    for (let e = 0; e < g.edgeCount; e++)
      expect(g.edges[2 * e]).to.be.lessThan(g.edges[2 * e + 1]!);
  });

  it('gives the same graph whatever the slice size', () => {
    const whole = encode(server);
    for (const slice of [1, 7, 59, 60, 4096]) {
      const bytes = encode(server, slice);
      expect(decodeGraph(bytes), `slice ${slice}`).to.deep.equal(decodeGraph(whole));
    }
    // slices cut by time (a budget of 0: every 64th node ends a slice)
    const timed = [...encodeGraph(server.nodes, server.clock.now(), { sliceBudgetMs: 0 })];
    expect(decodeGraph(concatBytes(...timed))).to.deep.equal(decodeGraph(whole));
    // one chunk per slice of nodes, then edge chunks, then the end
    const chunks = [...encodeGraph(server.nodes, 0, { sliceNodes: 7 })];
    expect(chunks[0]!.length).to.equal(GRAPH_HEADER_BYTES + 7 * GRAPH_NODE_BYTES);
    expect(chunks.at(-1)).to.deep.equal(new Uint8Array(4));
  });

  it('marks a link only one end announces with that end', () => {
    const records = [...server.nodes];
    const a = records[3]!;
    const peerIp = [...a.inwardLinksByIp.keys()][0]!;
    const b = server.reference!.nodes.get(peerIp)!;
    b.inwardLinksByIp.delete(a.ipv6); // b no longer announces a; a still announces b
    const g = decodeGraph(encode(server));
    const edges = edgeSet(g).filter((e) => e.includes(a.ipv6) && e.includes(b.ipv6));
    const aFirst = records.indexOf(a) < records.indexOf(b);
    expect(edges).to.deep.equal([aFirst ? `${a.ipv6} ${b.ipv6} 1` : `${b.ipv6} ${a.ipv6} 2`]);
  });

  it('leaves out peers without a record', () => {
    const gone = world.ips[10]!;
    expect(server.reference!.nodes.remove(gone)).to.equal(true);
    const g = decodeGraph(encode(server));
    expect(g.nodeCount).to.equal(N - 1);
    expect(edgeSet(g).some((e) => e.includes(gone))).to.equal(false);
    expect(g.edgeCount).to.equal(world.topo.edges - world.topo.neighbours[10]!.length);
  });

  it('stays a valid stream when the table changes while it streams', () => {
    const chunks = encodeGraph(server.nodes, 0, { sliceNodes: 5 });
    const parts: Uint8Array[] = [chunks.next().value as Uint8Array];
    // a node leaves and another's links change between slices
    server.reference!.nodes.remove(world.ips[20]!);
    server.reference!.nodes.get(world.ips[30]!)!.inwardLinksByIp.clear();
    for (const c of chunks) parts.push(c);
    const g = decodeGraph(concatBytes(...parts));
    expect(g.nodeCount).to.equal(N); // the nodes were read when the stream started
    for (let e = 0; e < 2 * g.edgeCount; e++) expect(g.edges[e]).to.be.lessThan(N);
  });

  it('encodes an empty table as a header and the end', () => {
    const bytes = concatBytes(...encodeGraph([], 5000));
    expect(bytes).to.have.length(GRAPH_HEADER_BYTES + 4);
    expect(decodeGraph(bytes)).to.include({ nodeCount: 0, edgeCount: 0, serverTimeSec: 5 });
  });

  describe('decoder', () => {
    const header = (nodes: number): Uint8Array => u32(GRAPH_MAGIC, nodes, 0, 0);
    const node = new Uint8Array(GRAPH_NODE_BYTES).fill(0xfc, 0, 1);

    it('reads a minimal stream', () => {
      const g = decodeGraph(concatBytes(header(2), node, node, u32(1, 0, 1 | (3 << 30)), u32(0)));
      expect(g.edgeCount).to.equal(1);
      expect([...g.edges]).to.deep.equal([0, 1]);
      expect([...g.edgeDir]).to.deep.equal([3]);
    });

    const bad: Array<[string, Uint8Array, RegExp]> = [
      ['a short header', new Uint8Array(10), /shorter than its header/],
      ['a bad magic', u32(0x12345678, 0, 0, 0, 0), /bad magic/],
      ['too many nodes', u32(GRAPH_MAGIC, 2 ** 30, 0, 0, 0), /too large/],
      ['missing nodes', concatBytes(header(2), node), /inside the nodes/],
      ['no end chunk', concatBytes(header(1), node), /before its last edge chunk/],
      [
        'a cut edge chunk',
        concatBytes(header(2), node, node, u32(2, 0, 1)),
        /inside an edge chunk/,
      ],
      ['bytes after the end', concatBytes(header(0), u32(0), new Uint8Array(1)), /after the end/],
      [
        'an edge to no node',
        concatBytes(header(2), node, node, u32(1, 0, 2), u32(0)),
        /outside the graph/,
      ],
    ];
    for (const [what, bytes, message] of bad) {
      it(`refuses ${what}`, () => {
        expect(() => decodeGraph(bytes)).to.throw(GraphWireError, message);
      });
    }
  });
});
