/**
 * ReplicaModel: the reverse graph of docs/protocol.md §4.8 in CSR form, rebuilt incrementally (only the
 * rows an update can change) or in full, with the same result either way.
 */
import { expect } from 'chai';
import { newGraphTables } from '../../../src/graph/id-tables.ts';
import { NodeTable } from '../../../src/graph/apply-announcement.ts';
import { nodeRemovedUpdate, nodeUpdateOf } from '../../../src/routing/node-update.ts';
import { ReplicaModel } from '../../../src/routing/replica-model.ts';
import { sameGraph } from '../../../src/routing/snapshot-data.ts';
import type { Entity } from '../../../src/protocol/entity-types.ts';
import { ipOf, mkAnn, mkReset, peer, T0 } from '../graph/fixtures.ts';

function table(spec: Record<number, Entity[]>): NodeTable {
  const t = new NodeTable();
  for (const [n, es] of Object.entries(spec))
    t.handleAnnounce(
      { ann: mkReset(ipOf(Number(n)), T0, es) },
      { fromNode: false, now: T0, selfIp: undefined },
    );
  return t;
}

describe('replica-model', () => {
  describe('ReplicaModel#build()', () => {
    it('has an edge n → p only where both directions are announced, in inwardLinksByIp order', () => {
      const t = table({
        1: [peer(ipOf(2), 0x13, 1), peer(ipOf(3), 0x15, 2)],
        2: [peer(ipOf(1), 0x17, 1)],
        3: [],
      });
      const tables = newGraphTables();
      const m = new ReplicaModel();
      for (const r of t) m.apply(nodeUpdateOf(r, tables));
      const s = m.build();
      const id = (n: number) => tables.ids.find(ipOf(n))!;
      const row = (n: number) => [...s.nbr.subarray(s.offsets[id(n)]!, s.offsets[id(n) + 1]!)];
      expect(row(1)).to.deep.equal([id(2)]);
      expect(row(2)).to.deep.equal([id(1)]);
      expect(row(3)).to.deep.equal([]);
      expect(s.cost[s.offsets[id(1)]!]).to.equal(Number.POSITIVE_INFINITY); // value 0
      expect(s.stats.full).to.equal(true);
    });

    it("under best: every link an edge with its integer cost, a peer's links by cost then record order", () => {
      const t = table({
        1: [
          peer(ipOf(2), 0x13, 1),
          peer(ipOf(2), 0x15, 2),
          peer(ipOf(2), 0x17, 3),
          peer(ipOf(3), 0x19, 4),
        ],
        2: [peer(ipOf(1), 0x17, 1)],
        3: [peer(ipOf(1), 0x1b, 1)],
      });
      const links = t.get(ipOf(1))!.inwardLinksByIp.get(ipOf(2))!;
      links[0]!.value = 0; // unmeasured: 200
      links[1]!.value = 512; // 110
      links[2]!.value = 600; // 108
      const tables = newGraphTables();
      const m = new ReplicaModel({ policy: 'best' });
      for (const r of t) m.apply(nodeUpdateOf(r, tables));
      const s = m.build();
      const id = (n: number) => tables.ids.find(ipOf(n))!;
      const span = (n: number) => [s.offsets[id(n)]!, s.offsets[id(n) + 1]!] as const;
      const [a, b] = span(1);
      expect([...s.nbr.subarray(a, b)]).to.deep.equal([id(2), id(2), id(2), id(3)]);
      expect([...s.cost.subarray(a, b)]).to.deep.equal([108, 110, 200, 200]);
      expect([...s.labelId.subarray(a, b)].map((l) => tables.labels.textOf(l))).to.deep.equal([
        '0000.0000.0000.0017',
        '0000.0000.0000.0015',
        '0000.0000.0000.0013',
        '0000.0000.0000.0019',
      ]);
      // the record's arrays are not reordered, and a full rebuild and patching agree
      expect(links.map((l) => l.label)).to.deep.equal([
        '0000.0000.0000.0013',
        '0000.0000.0000.0015',
        '0000.0000.0000.0017',
      ]);
      const patched = new ReplicaModel({ policy: 'best', fullRebuildFraction: 1 });
      patched.build();
      for (const r of t) patched.apply(nodeUpdateOf(r, tables));
      expect(sameGraph(patched.build(), s)).to.equal(true);
    });

    it('rebuilds only the touched rows and gives what a full rebuild gives', () => {
      const spec: Record<number, Entity[]> = {};
      for (let n = 1; n <= 100; n++)
        spec[n] = [
          peer(ipOf(n === 100 ? 1 : n + 1), 0x13, 1),
          peer(ipOf(n === 1 ? 100 : n - 1), 0x15, 2),
        ];
      const t = table(spec);
      const tables = newGraphTables();
      const m = new ReplicaModel();
      for (const r of t) m.apply(nodeUpdateOf(r, tables));
      m.build();
      // node 7 adds a link to 20 (20 has none back yet), node 20 answers, node 9 expires
      t.handleAnnounce(
        { ann: mkAnn({ nodeIp: ipOf(7), timestamp: T0 + 1, entities: [peer(ipOf(20), 0x17, 3)] }) },
        { fromNode: false, now: T0, selfIp: undefined },
      );
      t.handleAnnounce(
        { ann: mkAnn({ nodeIp: ipOf(20), timestamp: T0 + 1, entities: [peer(ipOf(7), 0x19, 3)] }) },
        { fromNode: false, now: T0, selfIp: undefined },
      );
      m.apply(nodeUpdateOf(t.get(ipOf(7))!, tables));
      m.apply(nodeUpdateOf(t.get(ipOf(20))!, tables));
      m.apply(nodeRemovedUpdate(tables.ids.find(ipOf(9))!));
      t.remove(ipOf(9));
      const inc = m.build();
      expect(inc.stats.full).to.equal(false);
      expect(inc.stats.rowsRebuilt).to.be.lessThan(10);
      const scratch = new ReplicaModel();
      for (const r of t) scratch.apply(nodeUpdateOf(r, tables));
      expect(sameGraph(inc, scratch.build())).to.equal(true);
      const full = new ReplicaModel();
      for (const r of t) full.apply(nodeUpdateOf(r, tables));
      full.requestFullRebuild();
      expect(sameGraph(full.build(), inc)).to.equal(true);
    });
  });

  describe('link chunks', () => {
    it("keeps every node's links exact while churn compacts the chunks they are copied into", () => {
      // 300 nodes on a ring, each with a long link list (one peer, many links), updated over and
      // over: released chunks fall under a quarter live and are compacted
      const tables = newGraphTables();
      const n = 300;
      const spec = (i: number, round: number): Entity[] => {
        const es: Entity[] = [];
        for (let k = 0; k < 40; k++)
          es.push(peer(ipOf(((i + 1) % n) + 1), 0x13 + 2 * ((k + round) % 50), 1 + k));
        es.push(peer(ipOf(((i + n - 1) % n) + 1), 0x15, 100));
        return es;
      };
      const model = new ReplicaModel();
      let last = new Map<number, ReturnType<typeof nodeUpdateOf>>();
      for (let round = 0; round < 30; round++) {
        const t = table(
          Object.fromEntries(Array.from({ length: n }, (_, i) => [i + 1, spec(i, round)])),
        );
        for (const r of t) {
          const u = nodeUpdateOf(r, tables);
          // a few nodes removed now and then, to free chunks unevenly
          if (round % 7 === 3 && u.id % 5 === 0) {
            model.apply(nodeRemovedUpdate(u.id));
            last.delete(u.id);
          } else {
            model.apply(u);
            last.set(u.id, u);
          }
        }
      }
      const fresh = new ReplicaModel();
      for (const u of last.values()) fresh.apply(u);
      expect(sameGraph(model.build(), fresh.build())).to.equal(true);
      last = new Map();
    });
  });
});
