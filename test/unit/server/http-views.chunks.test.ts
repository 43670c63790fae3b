/**
 * The whole-table answers made chunk by chunk: joined, they are the bodies as built in one piece
 * (test/helpers/read-api-oracle.ts) for any chunk size; each chunk stays near the size asked
 * for; the node list is the one of the first chunk (nodes added later are not listed, removed
 * ones still are), while each node is written as it is when its chunk is made.
 */
import { expect } from 'chai';
import { NodeTable } from '../../../src/graph/apply-announcement.ts';
import { ReplicationStore } from '../../../src/graph/replication-store.ts';
import { HttpViews } from '../../../src/server/http-views.ts';
import type { PeerInfo } from '../../../src/replication/peer-info.ts';
import { oracleDump, oracleNi, oracleWalk } from '../../helpers/read-api-oracle.ts';
import { fillSyntheticTable } from '../../helpers/synthetic-table.ts';

const PEER_INFO: PeerInfo = {
  peers: [{ addr: 'ws://x', outstandingRequests: 1, msgsOnWire: 2, msgQueue: 3 }],
  announcements: 7,
  annByHashLen: 7,
};
const EMPTY_PEERS: PeerInfo = { peers: [], announcements: 0, annByHashLen: 0 };

function views(n: number): { table: NodeTable; views: HttpViews } {
  const table = new NodeTable();
  fillSyntheticTable(table, n);
  return { table, views: new HttpViews(table, new ReplicationStore(), () => null) };
}

describe('HttpViews in chunks', () => {
  for (const n of [0, 1, 2, 40]) {
    for (const chunk of [1, 100, 4096, 1 << 20]) {
      it(`${n} nodes, chunks of ${chunk} bytes: joined, /walk, /dump and /ni are the one-piece bodies`, () => {
        const { table, views: v } = views(n);
        expect(Array.from(v.walkChunks(chunk)).join('')).to.equal(oracleWalk(table));
        expect(
          Buffer.concat(Array.from(v.dumpChunks(chunk))).equals(Buffer.from(oracleDump(table))),
        ).to.equal(true);
        for (const peers of [PEER_INFO, EMPTY_PEERS])
          expect(Array.from(v.niChunks(peers, chunk)).join('')).to.equal(oracleNi(table, peers));
      });
    }
  }

  it('walk() and dump() are the joined chunks', () => {
    const { table, views: v } = views(300);
    expect(v.walk()).to.equal(oracleWalk(table));
    expect(Buffer.from(v.dump()).equals(Buffer.from(oracleDump(table)))).to.equal(true);
  });

  it('keeps each chunk near the size asked for (one node past it at most)', () => {
    const { views: v } = views(2000);
    const sizes = (it: Iterable<string | Uint8Array>): number[] =>
      Array.from(it, (c) => (typeof c === 'string' ? Buffer.byteLength(c) : c.length));
    for (const s of [
      ...sizes(v.walkChunks(4096)),
      ...sizes(v.dumpChunks(4096)),
      ...sizes(v.niChunks(EMPTY_PEERS, 4096)),
    ]) {
      expect(s).to.be.at.most(4096 + 1500);
    }
    expect(sizes(v.walkChunks(4096)).length).to.be.above(50);
  });

  it('lists the nodes of the first chunk: one added later is left out, one removed later is still written', () => {
    const { table, views: v } = views(100);
    const chunks = v.walkChunks(256);
    const first = chunks.next().value as string;
    const late = new NodeTable();
    fillSyntheticTable(late, 101);
    const extra = late.get('fc00:0000:0000:0000:0000:0000:0000:0064')!; // node 100
    table.put(extra);
    table.remove('fc00:0000:0000:0000:0000:0000:0000:0063'); // node 99
    const text = first + Array.from(chunks).join('');
    const nodeLines = text.split('\n').filter((l) => l.startsWith('["node"'));
    expect(nodeLines).to.have.length(100);
    expect(nodeLines.filter((l) => l.includes(extra.ipv6))).to.deep.equal([]);
    expect(nodeLines.at(-1)).to.include('fc00:0000:0000:0000:0000:0000:0000:0063');
  });

  it('writes a node as it is when its chunk is made', () => {
    const { table, views: v } = views(100);
    const chunks = v.walkChunks(256);
    chunks.next();
    const last = table.get('fc00:0000:0000:0000:0000:0000:0000:0063')!;
    last.timestamp += 5_000_000;
    const rest = Array.from(chunks).join('');
    expect(rest).to.include(`["node",${Math.floor(last.timestamp / 1000)},`);
  });
});
