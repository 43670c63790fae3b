/**
 * The fast engine under the `best` policy (ReplicaModel rows with every link and integer costs →
 * trees / pair search with the canonical tie-break → fitting search when the cheapest path's
 * label does not fit) answers exactly what the plain reference implementation of `best` answers
 * on the same records (RouteEngine with policy `best`, src/routing/reference/best-route.ts): same
 * path, same links, same label, same misses — on random small networks, on hostile ones, and on
 * generated meshes; whatever order the nodes arrived in (node ids differ between processes).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { NodeTable } from '../../src/graph/apply-announcement.ts';
import { BestRouting } from '../../src/routing/best-routing.ts';
import { newGraphTables } from '../../src/graph/id-tables.ts';
import { nodeUpdateOf } from '../../src/routing/node-update.ts';
import { RouteEngine } from '../../src/routing/reference/route-engine.ts';
import { ReplicaModel } from '../../src/routing/replica-model.ts';
import { RouteSnapshot, type RouteSnapshotOptions } from '../../src/routing/route-snapshot.ts';
import { SptSolver } from '../../src/routing/shortest-path-tree.ts';
import { SCHEMES } from '../../src/protocol/encoding-scheme.ts';
import { prng } from '../helpers/prng.ts';
import {
  tableOfTopology,
  walkLabel,
  nodeOfIp,
  type Topology,
  type TopologyLink,
} from '../helpers/route-topology.ts';
import { arbHostile, arbNetwork, tableOfHostile } from '../helpers/route-networks.ts';
import { parseLabel } from '../../src/protocol/routing-label.ts';
import { T0 } from '../unit/graph/fixtures.ts';

/** A `best` snapshot of the records, the nodes interned in `order` (their ids follow it). */
function bestSnapshot(
  table: NodeTable,
  order: readonly string[] = [...table.nodesByIp.keys()],
  opts: Partial<RouteSnapshotOptions> = {},
): RouteSnapshot {
  const tables = newGraphTables();
  for (const ip of order) tables.ids.intern(ip);
  const model = new ReplicaModel({ policy: 'best' });
  let seq = 0;
  for (const ip of order) model.apply({ ...nodeUpdateOf(table.get(ip)!, tables), seq: ++seq });
  return new RouteSnapshot(model.build(), tables, new SptSolver(), {
    treeCacheSize: 4,
    best: new BestRouting(tables),
    ...opts,
  });
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const rnd = prng(seed);
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

interface Seen {
  routes: number;
  none: number;
  /** fitting searches run (route and gr: twice per pair) */
  fitting: number;
  /** pairs answered with a route by the fitting search */
  detours: number;
}

/** Every pair (or `pairs` of them): fast == reference, route and gr label. */
function compareAll(
  table: NodeTable,
  fast: RouteSnapshot,
  seen: Seen,
  pairs?: readonly [string, string][],
): void {
  const reference = new RouteEngine(table, 'best');
  const ips = [...table.nodesByIp.keys()];
  const all = pairs ?? ips.flatMap((s) => ips.map((d): [string, string] => [s, d]));
  const before = fast.stats.fittingSearches;
  for (const [s, d] of all) {
    const want = reference.getRoute(s, d, T0);
    const searched = fast.stats.fittingSearches;
    const got = fast.route(s, d);
    if (got && fast.stats.fittingSearches > searched) seen.detours++;
    expect(got, `${nodeOfIp(s)} -> ${nodeOfIp(d)}`).to.deep.equal(want);
    expect(fast.routeForGr(s, d)?.label, `gr ${nodeOfIp(s)} -> ${nodeOfIp(d)}`).to.equal(
      want ? parseLabel(want.label) : undefined,
    );
    if (want === null) seen.none++;
    else seen.routes++;
  }
  seen.fitting += fast.stats.fittingSearches - before;
}

describe('fast engine, best policy: equal to the reference implementation (property)', () => {
  it('on random cjdns-like networks, whatever order the nodes arrived in', function () {
    this.timeout(180_000);
    const seen: Seen = { routes: 0, none: 0, fitting: 0, detours: 0 };
    fc.assert(
      fc.property(arbNetwork, fc.nat(), (topo, seed) => {
        const table = tableOfTopology(topo);
        const ips = [...table.nodesByIp.keys()];
        compareAll(table, bestSnapshot(table, shuffled(ips, seed)), seen);
      }),
      { numRuns: 120, seed: 0xbe57_11 },
    );
    expect(seen.routes).to.be.greaterThan(8000);
    expect(seen.none).to.be.greaterThan(200);
    expect(seen.fitting, 'fitting searches').to.be.greaterThan(200);
    expect(seen.detours, 'routes found by the fitting search').to.be.greaterThan(50);
  });

  it('on hostile labels, forms and schemes', function () {
    this.timeout(180_000);
    const seen: Seen = { routes: 0, none: 0, fitting: 0, detours: 0 };
    fc.assert(
      fc.property(arbHostile, fc.nat(), (spec, seed) => {
        const table = tableOfHostile(spec);
        compareAll(table, bestSnapshot(table, shuffled([...table.nodesByIp.keys()], seed)), seen);
      }),
      { numRuns: 300, seed: 0xbe57_12 },
    );
    expect(seen.routes).to.be.greaterThan(1000);
    expect(seen.detours, 'routes found by the fitting search').to.be.greaterThan(50);
  });

  it('answers from cached, partial and grown trees as from pair searches', function () {
    this.timeout(180_000);
    fc.assert(
      fc.property(arbNetwork, (topo) => {
        const table = tableOfTopology(topo);
        const plain = bestSnapshot(table, undefined, { treeCacheSize: 0 });
        const hot = bestSnapshot(table, undefined, {
          treeCacheSize: 64,
          hotDestinationQueries: 2,
          growthWanted: () => undefined,
        });
        for (const d of table.nodesByIp.keys()) {
          for (const s of table.nodesByIp.keys()) hot.route(s, d);
          while (hot.growTrees(2));
          for (const s of table.nodesByIp.keys())
            expect(hot.route(s, d), `${nodeOfIp(s)} -> ${nodeOfIp(d)}`).to.deep.equal(
              plain.route(s, d),
            );
        }
        expect(hot.stats.treeHits).to.be.greaterThan(0);
      }),
      { numRuns: 80, seed: 0xbe57_13 },
    );
  });
});

// ---- generated meshes ------------------------------------------------------------------------

/**
 * A mesh like the benchmark's, smaller and stretched: most nodes 2–5 peers, 2 % hubs with 20–60
 * peers (wide interfaces), links mostly to near nodes in id order (long paths: labels that
 * overflow, pairs with no fitting route) and 1 % far ones; 85 % of link ends measured (value 0
 * otherwise); v358 everywhere.
 */
const HUB_FRACTION = 0.02;
const HUB_REACH = 100;
const FAR_FRACTION = 0.01;
function mesh(n: number, seed: number): Topology {
  const rnd = prng(seed);
  const adj = Array.from({ length: n + 1 }, () => new Set<number>());
  const iface = Array.from({ length: n + 1 }, () => 2);
  const links: TopologyLink[] = [];
  const value = (): number => (rnd() < 0.15 ? 0 : 1 + Math.floor(rnd() * rnd() * 3000));
  const link = (a: number, b: number): void => {
    if (a === b || adj[a]!.has(b)) return;
    adj[a]!.add(b);
    adj[b]!.add(a);
    links.push({
      a,
      b,
      ifaceA: iface[a]!++,
      ifaceB: iface[b]!++,
      valueA: value(),
      valueB: value(),
    });
  };
  const hubs = Math.max(1, Math.round(n * HUB_FRACTION));
  for (let i = 2; i <= n; i++) link(i, Math.max(1, i - 1 - Math.floor(rnd() ** 2 * 6)));
  for (let i = 1; i <= n; i++) {
    const want = i <= hubs ? 20 + Math.floor(rnd() * 40) : 2 + Math.floor(rnd() * 4);
    for (let tries = 0; adj[i]!.size < want && tries < 3 * want; tries++) {
      const far = rnd() < FAR_FRACTION;
      const near = 1 + ((i + Math.floor(rnd() * (i <= hubs ? HUB_REACH : 12))) % n);
      link(i, far ? 1 + Math.floor(rnd() * n) : near);
    }
  }
  return { nodes: n, schemes: Array.from({ length: n }, () => SCHEMES.v358), links };
}

describe('fast engine, best policy, generated meshes', () => {
  it('equals the reference on sampled pairs, and every label walks to its destination', function () {
    this.timeout(180_000);
    const seen: Seen = { routes: 0, none: 0, fitting: 0, detours: 0 };
    for (const [n, seed] of [
      [300, 1],
      [600, 2],
      [1000, 3],
    ] as const) {
      const topo = mesh(n, seed);
      const table = tableOfTopology(topo);
      const ips = [...table.nodesByIp.keys()];
      const fast = bestSnapshot(table, shuffled(ips, seed));
      const rnd = prng(seed + 100);
      const pairs: [string, string][] = Array.from({ length: 150 }, () => [
        ips[Math.floor(rnd() * n)]!,
        ips[Math.floor(rnd() * n)]!,
      ]);
      compareAll(table, fast, seen, pairs);
      for (const [s, d] of pairs) {
        const r = fast.route(s, d);
        if (!r || s === d) continue;
        expect(walkLabel(topo, nodeOfIp(s), parseLabel(r.label))).to.deep.equal(
          r.path!.slice(1).map(nodeOfIp),
        );
      }
    }
    expect(seen.routes).to.be.greaterThan(300);
    expect(seen.none).to.be.greaterThan(20);
    expect(seen.fitting, 'pairs whose cheapest path overflows').to.be.greaterThan(100);
    expect(seen.detours, 'of them, answered with a longer route that fits').to.be.greaterThan(3);
  });
});
