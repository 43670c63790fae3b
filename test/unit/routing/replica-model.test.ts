/**
 * ReplicaModel: the reverse graph of docs/protocol.md §4.8 in CSR form, rebuilt incrementally (only the
 * rows an update can change) or in full, with the same result either way.
 */
import { expect } from 'chai';
import { newGraphTables } from '../../../src/graph/id-tables.ts';
import { NodeTable } from '../../../src/graph/apply-announcement.ts';
import { nodeRemovedUpdate, nodeUpdateOf } from '../../../src/routing/node-update.ts';
import { ReplicaModel, sortTriples } from '../../../src/routing/replica-model.ts';
import type { RoutePolicy } from '../../../src/routing/route-policy.ts';
import { sameGraph, type SnapshotData } from '../../../src/routing/snapshot-data.ts';
import type { NodeUpdate } from '../../../src/routing/node-update.ts';
import { absentUpdate, presentUpdate, type PeerLinks } from '../../helpers/packed-links.ts';
import { prng } from '../../helpers/prng.ts';
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

  describe('full rebuilds, one after another', () => {
    /** Every array of two snapshots equal (the transpose too), value for value. */
    function expectSame(a: SnapshotData, b: SnapshotData): void {
      expect(a.n).to.equal(b.n);
      const keys = [
        'present',
        'version',
        'schemeId',
        'offsets',
        'nbr',
        'cost',
        'labelId',
        'form',
        'inOffsets',
        'inNbr',
        'inCost',
        'inEdge',
      ] as const;
      for (const k of keys) expect([...a[k]], k).to.deep.equal([...b[k]]);
    }

    /** A random record of node `id` among ids < span: mostly mutual-looking peers, ties, zeros. */
    function randomPeers(rnd: () => number, id: number, span: number): PeerLinks {
      const peers = new Set<number>();
      const want = Math.floor(rnd() * 6);
      for (let k = 0; k < want; k++) {
        // neighbours by id (so links are often announced both ways) or anyone
        const p = rnd() < 0.7 ? (id + 1 + Math.floor(rnd() * 4)) % span : Math.floor(rnd() * span);
        peers.add(p);
      }
      return [...peers].map((p) => [
        p,
        Array.from({ length: Math.floor(rnd() * 4) }, () => [
          Math.floor(rnd() * 100),
          Math.floor(rnd() * 2),
          [0, 1, 1, 2, 0.5, 3, Infinity][Math.floor(rnd() * 7)]!,
        ]),
      ]);
    }

    for (const policy of ['original', 'best'] as RoutePolicy[]) {
      it(`${policy}: working arrays and link layouts kept across rebuilds give what a fresh model gives, while the graph shrinks and grows`, () => {
        const rnd = prng(policy === 'best' ? 11 : 7);
        // (patched rows for up to half the graph: the small steps below stay incremental)
        const model = new ReplicaModel({ policy, fullRebuildFraction: 0.5 });
        const state = new Map<number, NodeUpdate>();
        let seq = 0;
        const put = (u: NodeUpdate): void => {
          model.apply(u);
          if (u.present) state.set(u.id, u);
          else state.delete(u.id);
        };
        // each phase: the ids in play, and how many nodes are removed
        const phases = [
          { span: 400, removals: 0 },
          { span: 400, removals: 320 }, // shrinks
          { span: 900, removals: 10 }, // grows past its size
          { span: 120, removals: 600 }, // shrinks hard
          { span: 1500, removals: 0 }, // grows again
        ];
        for (const { span, removals } of phases) {
          for (let k = 0; k < span; k++) {
            const id = Math.floor(rnd() * span);
            put(presentUpdate(++seq, id, randomPeers(rnd, id, span), seq));
          }
          for (let k = 0; k < removals; k++) put(absentUpdate(++seq, Math.floor(rnd() * span)));
          // a removal of an id never seen, beyond every id so far
          put(absentUpdate(++seq, span + 7));
          for (const full of [true, false, true]) {
            if (full) model.requestFullRebuild();
            else
              for (let k = 0; k < 5; k++) {
                const id = Math.floor(rnd() * span);
                put(presentUpdate(++seq, id, randomPeers(rnd, id, span), seq));
              }
            const built = model.build();
            expect(built.stats.full).to.equal(full);
            const fresh = new ReplicaModel({ policy });
            // the fresh model gets copies: an `original` build sorts the links it holds
            for (const u of state.values()) fresh.apply({ ...u, links: u.links.slice() });
            // cover the same ids (a removal update of an id beyond them all)
            fresh.apply(absentUpdate(seq, built.n - 1));
            expectSame(built, fresh.build());
          }
          model.tidy();
        }
      });
    }
  });

  describe('sortTriples', () => {
    it('orders link triples exactly as the engine sorts them (stable, value descending; ties, Infinity, NaN)', () => {
      const rnd = prng(3);
      const values = [0, 1, 1, 2, 0.5, Infinity, Infinity, NaN, -0];
      for (let trial = 0; trial < 3000; trial++) {
        const k = 1 + Math.floor(rnd() * 7);
        const triples = Array.from({ length: k }, (_, i) => [
          i,
          trial % 3,
          values[Math.floor(rnd() * values.length)]!,
        ]);
        // half the trials start from the engine's own order (what an earlier build left)
        if (trial % 2 === 0) triples.sort((a, b) => b[2]! - a[2]!);
        const want = [...triples].sort((a, b) => b[2]! - a[2]!);
        const d = new Float64Array([9, 9, ...triples.flat(), 9]);
        sortTriples(d, 2, 0, k);
        const got = Array.from({ length: k }, (_, i) => [...d.subarray(2 + 3 * i, 5 + 3 * i)]);
        expect(
          got.map((t) => t[0]),
          `trial ${trial}`,
        ).to.deep.equal(want.map((t) => t[0]));
        expect([d[0], d[1], d[2 + 3 * k]]).to.deep.equal([9, 9, 9]);
      }
    });
  });
});
