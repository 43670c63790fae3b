/**
 * The `best` route policy's reference implementation (src/routing/reference/best-route.ts)
 * against brute force on random small networks: every route from src to dst is enumerated, its
 * label built with the route server's own label construction (`spliceSteps`), and the first
 * fitting one in the route order (cost, then the canonical hop sequence) must be what the
 * reference answers — same path, same links, same cost; "no route" only when nothing fits.
 *
 * Two kinds of networks:
 *  - cjdns-like: nodes number their interfaces, hubs with interfaces that need v358's wide forms,
 *    links without link state (value 0), ties; every label the reference gives is walked hop by
 *    hop through the network to its destination. Routes here are always simple paths (no node
 *    twice), and brute force over simple paths agrees;
 *  - hostile: arbitrary labels (self routes, labels the scheme cannot re-encode), form numbers
 *    beyond the scheme, schemes whose forms shrink. A walk through a node twice can then be the
 *    best (or only) fitting route; brute force enumerates every walk that does not repeat a
 *    (node, arrival form) state — every walk that can be optimal — and agrees.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { NodeRecord } from '../../src/graph/node-record.ts';
import { spliceSteps } from '../../src/routing/route-label.ts';
import { parseLabel } from '../../src/protocol/routing-label.ts';
import {
  bestRouteOnRecords,
  compareRoutes,
  recordHops,
  stepOf,
  type RecordHop,
} from '../../src/routing/reference/best-route.ts';
import { arbHostile, arbNetwork, tableOfHostile } from '../helpers/route-networks.ts';
import { nodeOfIp, tableOfTopology, walkLabel } from '../helpers/route-topology.ts';
import { ipOf } from '../unit/graph/fixtures.ts';

// ---- brute force -----------------------------------------------------------------------------

interface Found {
  cost: number;
  hops: RecordHop[];
}

/** The label of a route if it fits: `spliceSteps` succeeds and every hop's label is ≥ 2. */
function fittingLabel(hops: readonly RecordHop[]): bigint | null {
  if (hops.some((h) => h.label === undefined)) return null;
  try {
    const built = spliceSteps(hops.map(stepOf), true);
    if (built.hops.some((h) => parseLabel(h.label) < 2n)) return null;
    return built.label;
  } catch {
    return null;
  }
}

/**
 * Every route src … dst (dst ends it) that repeats no node (`simple`) or no (node, arrival form)
 * state; the first in route order that fits, and the first regardless of fit.
 */
function bruteForce(
  nodesByIp: ReadonlyMap<string, NodeRecord>,
  src: NodeRecord,
  dst: NodeRecord,
  simple: boolean,
): { fitting: Found | null; any: Found | null } {
  const all = recordHops(nodesByIp);
  let fitting: Found | null = null;
  let any: Found | null = null;
  const seen = new Set<string>([simple ? src.ipv6 : `${src.ipv6}|start`]);
  const walk = (node: NodeRecord, cost: number, hops: RecordHop[], fits: boolean): void => {
    if (node === dst) {
      const r = { cost, hops };
      if (!any || compareRoutes(r, any) < 0) any = r;
      if (fits && (!fitting || compareRoutes(r, fitting) < 0)) fitting = r;
      return;
    }
    for (const h of all.get(node.ipv6) ?? []) {
      const key = simple ? h.to.ipv6 : `${h.to.ipv6}|${h.encodingFormNum}`;
      if (h.to !== dst && seen.has(key)) continue;
      if (simple && h.to === src) continue;
      const next = [...hops, h];
      // a prefix that does not fit has no fitting continuation: keep walking only for `any`
      const nextFits = fits && fittingLabel(next) !== null;
      if (!nextFits && !simple) continue;
      seen.add(key);
      walk(h.to, cost + h.cost, next, nextFits);
      if (h.to !== dst) seen.delete(key);
    }
  };
  walk(src, 0, [], true);
  return { fitting, any };
}

const describeRoute = (r: { hops: readonly RecordHop[]; cost: number } | null): unknown =>
  r && { cost: r.cost, hops: r.hops.map((h) => [nodeOfIp(h.to.ipv6), h.origLabel]) };

// ---- properties ------------------------------------------------------------------------------

describe('best route policy: reference vs brute force (property)', () => {
  it('cjdns-like networks: the first fitting simple path, labels that walk to the destination', function () {
    this.timeout(180_000); // brute force: ~10 s on an idle 2-core machine
    const seen = { routes: 0, none: 0, detours: 0, multiHop: 0, wide: 0 };
    fc.assert(
      fc.property(arbNetwork, (topo) => {
        const table = tableOfTopology(topo);
        const hops = recordHops(table.nodesByIp);
        for (let s = 1; s <= topo.nodes; s++) {
          for (let d = 1; d <= topo.nodes; d++) {
            if (s === d) continue;
            const src = table.get(ipOf(s))!;
            const dst = table.get(ipOf(d))!;
            const got = bestRouteOnRecords(table.nodesByIp, src.ipv6, dst.ipv6, hops);
            const { fitting, any } = bruteForce(table.nodesByIp, src, dst, true);
            const ctx = `${s} -> ${d}: got ${JSON.stringify(got?.path.map(nodeOfIp))}, brute ${JSON.stringify(describeRoute(fitting))}`;
            if (!fitting) {
              expect(got, ctx).to.equal(null);
              seen.none++;
              continue;
            }
            expect(got, ctx).to.not.equal(null);
            expect(got!.cost, ctx).to.equal(fitting.cost);
            expect(got!.path, ctx).to.deep.equal([src.ipv6, ...fitting.hops.map((h) => h.to.ipv6)]);
            expect(
              got!.steps.map((x) => x.origLabel),
              ctx,
            ).to.deep.equal(fitting.hops.map((h) => h.origLabel));
            expect(new Set(got!.path).size, `${ctx}: a simple path`).to.equal(got!.path.length);
            // the label walks, switch by switch, through exactly these nodes to dst
            const label = spliceSteps(got!.steps, false).label;
            expect(walkLabel(topo, s, label), ctx).to.deep.equal(got!.path.slice(1).map(nodeOfIp));
            seen.routes++;
            if (got!.path.length > 2) seen.multiHop++;
            if (any && compareRoutes(any, fitting) !== 0) seen.detours++;
            if (got!.bits > 40) seen.wide++;
          }
        }
      }),
      { numRuns: 180, seed: 0xbe57_01 },
    );
    // the generator reaches the cases that matter
    expect(seen.multiHop).to.be.greaterThan(10_000);
    expect(seen.none).to.be.greaterThan(500);
    expect(
      seen.detours,
      'pairs whose cheapest path does not fit but another does',
    ).to.be.greaterThan(100);
    expect(seen.wide, 'routes over 40 bits').to.be.greaterThan(700);
  });

  it('hostile labels, forms and schemes: the first fitting walk that repeats no (node, arrival) state', function () {
    this.timeout(180_000);
    const seen = { routes: 0, none: 0, walks: 0 };
    fc.assert(
      fc.property(arbHostile, (spec) => {
        const table = tableOfHostile(spec);
        const hops = recordHops(table.nodesByIp);
        for (const src of table) {
          for (const dst of table) {
            if (src === dst) continue;
            const got = bestRouteOnRecords(table.nodesByIp, src.ipv6, dst.ipv6, hops);
            const { fitting } = bruteForce(table.nodesByIp, src, dst, false);
            const ctx = `${nodeOfIp(src.ipv6)} -> ${nodeOfIp(dst.ipv6)}: got ${JSON.stringify(got?.path.map(nodeOfIp))}, brute ${JSON.stringify(describeRoute(fitting))}`;
            if (!fitting) {
              expect(got, ctx).to.equal(null);
              seen.none++;
              continue;
            }
            expect(got, ctx).to.not.equal(null);
            expect(got!.cost, ctx).to.equal(fitting.cost);
            expect(got!.path, ctx).to.deep.equal([src.ipv6, ...fitting.hops.map((h) => h.to.ipv6)]);
            expect(
              got!.steps.map((x) => x.origLabel),
              ctx,
            ).to.deep.equal(fitting.hops.map((h) => h.origLabel));
            expect(fittingLabel(fitting.hops), ctx).to.not.equal(null);
            seen.routes++;
            if (new Set(got!.path).size < got!.path.length) seen.walks++;
          }
        }
      }),
      { numRuns: 400, seed: 0xbe57_02 },
    );
    expect(seen.routes).to.be.greaterThan(1000);
    expect(seen.none).to.be.greaterThan(1000);
    expect(
      seen.walks,
      'routes through a node twice (the only or the cheapest fitting)',
    ).to.be.greaterThan(0);
  });
});
