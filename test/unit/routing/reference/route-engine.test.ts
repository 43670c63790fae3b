import { expect } from 'chai';
import { NodeTable } from '../../../../src/graph/apply-announcement.ts';
import { RouteEngine } from '../../../../src/routing/reference/route-engine.ts';
import type { EncodingScheme } from '../../../../src/protocol/encoding-scheme-types.ts';
import type { Entity } from '../../../../src/protocol/entity-types.ts';
import {
  ipOf,
  linkState,
  mkAnn,
  mkReset,
  peer,
  SNODE_IP,
  T0,
  withdraw,
} from '../../graph/fixtures.ts';

/** [peer index, label the peer uses to reach this node, peerNum, encodingFormNum] */
type PeerSpec = [number, number, number, number?];

const WIDE: EncodingScheme = [{ bitCount: 30, prefixLen: 0, prefix: 0 }];

function network(spec: Record<number, PeerSpec[]>, scheme?: EncodingScheme): NodeTable {
  const t = new NodeTable();
  for (const [n, peers] of Object.entries(spec)) {
    const entities: Entity[] = peers.map(([p, label, peerNum, form]) =>
      peer(ipOf(p), label, peerNum, form ?? 0),
    );
    const out = t.handleAnnounce(
      { ann: mkReset(ipOf(Number(n)), T0, entities, scheme) },
      { fromNode: true, now: T0, selfIp: SNODE_IP },
    );
    if (out.error !== 'none') throw new Error(out.error);
  }
  return t;
}

function update(t: NodeTable, n: number, timestamp: number, entities: Entity[]): void {
  const out = t.handleAnnounce(
    { ann: mkAnn({ nodeIp: ipOf(n), timestamp, entities }) },
    { fromNode: true, now: timestamp, selfIp: SNODE_IP },
  );
  if (out.error !== 'none') throw new Error(out.error);
}

// 1 — 2 — 3 line, all v358 form 0 labels
const LINE: Record<number, PeerSpec[]> = {
  1: [[2, 0x13, 0x15]],
  2: [
    [1, 0x15, 0x13],
    [3, 0x17, 0x19],
  ],
  3: [[2, 0x19, 0x17]],
};

describe('route-engine', () => {
  describe('RouteEngine#getRoute()', () => {
    it('returns null for an unknown source or destination', () => {
      const r = new RouteEngine(network(LINE));
      expect(r.getRoute(ipOf(1), ipOf(9), T0)).to.equal(null);
      expect(r.getRoute(ipOf(9), ipOf(1), T0)).to.equal(null);
      expect(r.graphBuiltAtMs).to.equal(undefined);
    });

    it('returns the self route without a path key for src = dst', () => {
      const r = new RouteEngine(network(LINE));
      const route = r.getRoute(ipOf(1), ipOf(1), T0)!;
      expect(route).to.deep.equal({ label: '0000.0000.0000.0001', hops: [] });
      expect(route).to.not.have.property('path');
    });

    it('splices the hop labels and leaves inverseFormNum off the first hop', () => {
      const r = new RouteEngine(network(LINE));
      const route = r.getRoute(ipOf(1), ipOf(3), T0)!;
      expect(route.path).to.deep.equal([ipOf(1), ipOf(2), ipOf(3)]);
      // hop i uses the label node i−1 reaches node i with, as node i announced it
      expect(route.hops.map((h) => h.label)).to.deep.equal([
        '0000.0000.0000.0015',
        '0000.0000.0000.0019',
      ]);
      expect(route.hops[0]).to.not.have.property('inverseFormNum');
      expect(route.hops[1]!.inverseFormNum).to.equal(0);
      expect(route.label).to.equal('0000.0000.0000.0195');
    });

    it('only uses links known in both directions', () => {
      const r = new RouteEngine(network({ 1: [[2, 0x13, 0x15]], 2: [] }));
      expect(r.getRoute(ipOf(1), ipOf(2), T0)).to.equal(null);
      expect(r.getRoute(ipOf(2), ipOf(1), T0)).to.equal(null);
    });

    it('rebuilds the graph only when it is more than 3000 ms old, and clears the cache then', () => {
      const t = network({ 1: [[2, 0x13, 0x15]], 2: [] });
      const r = new RouteEngine(t);
      expect(r.getRoute(ipOf(1), ipOf(2), T0)).to.equal(null);
      expect(r.graphBuiltAtMs).to.equal(T0);
      update(t, 2, T0 + 1, [peer(ipOf(1), 0x15, 0x13)]);
      // the cached null (and the old graph) are used until the graph is stale
      expect(r.getRoute(ipOf(1), ipOf(2), T0 + 3000)).to.equal(null);
      expect(r.graphBuiltAtMs).to.equal(T0);
      expect(r.getRoute(ipOf(1), ipOf(2), T0 + 3001)!.label).to.equal('0000.0000.0000.0015');
      expect(r.graphBuiltAtMs).to.equal(T0 + 3001);
    });

    it('rebuilds on the next query after forceRebuild()', () => {
      const t = network({ 1: [[2, 0x13, 0x15]], 2: [] });
      const r = new RouteEngine(t);
      r.getRoute(ipOf(1), ipOf(2), T0);
      update(t, 2, T0 + 1, [peer(ipOf(1), 0x15, 0x13)]);
      r.forceRebuild();
      expect(r.getRoute(ipOf(1), ipOf(2), T0 + 1)!.label).to.equal('0000.0000.0000.0015');
    });

    it('returns the cached object until the next rebuild', () => {
      const r = new RouteEngine(network(LINE));
      const a = r.getRoute(ipOf(1), ipOf(3), T0);
      expect(r.getRoute(ipOf(1), ipOf(3), T0 + 1000)).to.equal(a);
      expect(r.cacheSize).to.equal(1);
    });

    it('sorts included link arrays in place by value, best first, and uses the best link', () => {
      // node 2 has two links from 1 (peerNums 0x13 and 0x1b); the second gets link state
      const t = network({
        1: [[2, 0x13, 0x15]],
        2: [
          [1, 0x15, 0x13],
          [1, 0x1b, 0x1d],
        ],
      });
      update(t, 2, T0 + 20000, [
        linkState(0x1d, 0, [
          [1, 0, 1],
          [10, 0, 100],
        ]),
      ]);
      const links = t.get(ipOf(2))!.inwardLinksByIp.get(ipOf(1))!;
      expect(links.map((l) => l.peerNum)).to.deep.equal([0x13, 0x1d]);
      const r = new RouteEngine(t);
      expect(r.getRoute(ipOf(1), ipOf(2), T0 + 20000)!.label).to.equal('0000.0000.0000.001b');
      expect(links.map((l) => l.peerNum)).to.deep.equal([0x1d, 0x13]);
    });

    it('does not sort link arrays of one-way links', () => {
      const t = network({
        1: [],
        2: [
          [1, 0x15, 0x13],
          [1, 0x1b, 0x1d],
        ],
      });
      update(t, 2, T0 + 20000, [
        linkState(0x1d, 0, [
          [1, 0, 1],
          [10, 0, 100],
        ]),
      ]);
      new RouteEngine(t).getRoute(ipOf(1), ipOf(2), T0 + 20000);
      expect(
        t
          .get(ipOf(2))!
          .inwardLinksByIp.get(ipOf(1))!
          .map((l) => l.peerNum),
      ).to.deep.equal([0x13, 0x1d]);
    });

    it('prefers the path with better link values over the breadth-first one', () => {
      // 1 — 2 — 4 and 1 — 3 — 4; all value 0 (Infinity) → first inserted wins; then 3 gets link state
      const spec: Record<number, PeerSpec[]> = {
        1: [
          [2, 0x13, 0x13],
          [3, 0x15, 0x15],
        ],
        2: [
          [1, 0x13, 0x13],
          [4, 0x15, 0x15],
        ],
        3: [
          [1, 0x15, 0x15],
          [4, 0x17, 0x17],
        ],
        4: [
          [2, 0x15, 0x15],
          [3, 0x17, 0x17],
        ],
      };
      const t = network(spec);
      const r = new RouteEngine(t);
      expect(r.getRoute(ipOf(1), ipOf(4), T0)!.path).to.deep.equal([ipOf(1), ipOf(2), ipOf(4)]);
      const good = linkState(0x15, 0, [
        [1, 0, 1],
        [1, 0, 100],
      ]);
      update(t, 3, T0 + 10000, [
        good,
        linkState(0x17, 0, [
          [1, 0, 1],
          [1, 0, 100],
        ]),
      ]);
      update(t, 4, T0 + 10000, [
        linkState(0x17, 0, [
          [1, 0, 1],
          [1, 0, 100],
        ]),
      ]);
      r.forceRebuild();
      expect(r.getRoute(ipOf(1), ipOf(4), T0 + 10000)!.path).to.deep.equal([
        ipOf(1),
        ipOf(3),
        ipOf(4),
      ]);
    });

    it('answers null (not a crash) when a link on the path was withdrawn since the rebuild', () => {
      const t = network(LINE);
      const r = new RouteEngine(t);
      r.getRoute(ipOf(3), ipOf(1), T0); // builds the graph
      update(t, 3, T0 + 1, [withdraw(ipOf(2), 0x17)]);
      expect(r.getRoute(ipOf(1), ipOf(3), T0 + 2)).to.equal(null);
    });

    it('answers null (not a crash) when a re-encode fails', () => {
      // node 2's link back to 1 claims form 7, which v358 does not have
      const t = network({
        1: [[2, 0x13, 0x15]],
        2: [
          [1, 0x15, 0x13, 7],
          [3, 0x17, 0x19],
        ],
        3: [[2, 0x19, 0x17]],
      });
      const r = new RouteEngine(t);
      expect(r.getRoute(ipOf(1), ipOf(2), T0)).to.not.equal(null);
      expect(r.getRoute(ipOf(1), ipOf(3), T0)).to.equal(null);
    });

    it('answers null instead of ffff.ffff.ffff.ffff when the label exceeds 60 bits, and allows exactly 60', () => {
      // 30-bit directors: two hops of log2 = 30 give 61 bits; 29 + 30 give exactly 60
      // (the path 1 → 3 uses 2's label for 1, then 3's label for 2)
      const long = network(
        {
          1: [[2, 0x40000001, 0x15]],
          2: [
            [1, 0x40000002, 0x13],
            [3, 0x40000003, 0x19],
          ],
          3: [[2, 0x40000004, 0x17]],
        },
        WIDE,
      );
      expect(new RouteEngine(long).getRoute(ipOf(1), ipOf(3), T0)).to.equal(null);
      const exact = network(
        {
          1: [[2, 0x40000001, 0x15]],
          2: [
            [1, 0x20000002, 0x13],
            [3, 0x40000003, 0x19],
          ],
          3: [[2, 0x40000004, 0x17]],
        },
        WIDE,
      );
      expect(new RouteEngine(exact).getRoute(ipOf(1), ipOf(3), T0)!.label).to.equal(
        '0800.0000.8000.0002',
      );
    });
  });

  describe('RouteEngine#getRouteForGr()', () => {
    it("returns the destination's key and version and the label as a number", () => {
      const t = network(LINE);
      const r = new RouteEngine(t);
      const gr = r.getRouteForGr(ipOf(1), ipOf(3), T0)!;
      expect(gr.label).to.equal(0x195n);
      expect(gr.version).to.equal(22);
      expect(gr.key).to.deep.equal(t.get(ipOf(3))!.keyBytes);
      expect(r.getRouteForGr(ipOf(1), ipOf(1), T0)!.label).to.equal(1n);
      expect(r.getRouteForGr(ipOf(1), ipOf(9), T0)).to.equal(null);
    });
  });
});
