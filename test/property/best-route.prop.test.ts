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
import type { NodeTable } from '../../src/graph/apply-announcement.ts';
import type { NodeRecord } from '../../src/graph/node-record.ts';
import { spliceSteps } from '../../src/routing/route-label.ts';
import type { EncodingScheme } from '../../src/protocol/encoding-scheme-types.ts';
import { SCHEMES } from '../../src/protocol/encoding-scheme.ts';
import type { Entity } from '../../src/protocol/entity-types.ts';
import { parseLabel } from '../../src/protocol/routing-label.ts';
import {
  bestRouteOnRecords,
  compareRoutes,
  recordHops,
  stepOf,
  type RecordHop,
} from '../../src/routing/reference/best-route.ts';
import {
  nodeOfIp,
  tableOfTopology,
  walkLabel,
  type Topology,
  type TopologyLink,
} from '../helpers/route-topology.ts';
import { ipOf, mkReset, peer, SNODE_IP, T0 } from '../unit/graph/fixtures.ts';
import { NodeTable as Table } from '../../src/graph/apply-announcement.ts';

// ---- generators ------------------------------------------------------------------------------

/** Link values: unmeasured (0), a few repeated ones (cost ties), anything. */
const arbValue = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.constantFrom(1, 40, 300, 2000) },
  { weight: 2, arbitrary: fc.double({ min: 0.01, max: 5000, noNaN: true }) },
);

/** First interface number of a node: small nodes use form 0, hubs the wide forms of v358. */
const arbFirstIface = fc.constantFrom(2, 2, 6, 30, 120, 240, 240, 240);

const SANE_SCHEMES: EncodingScheme[] = [
  SCHEMES.v358,
  SCHEMES.v358,
  SCHEMES.v358,
  SCHEMES.v48,
  SCHEMES.f8,
];

/**
 * A chain 1 — 2 — … — n (a few links missing) plus shortcuts, mostly local: long paths whose
 * labels overflow, and alternatives of other costs and widths.
 */
const arbTopology: fc.Arbitrary<Topology> = fc.integer({ min: 3, max: 14 }).chain((nodes) =>
  fc
    .record({
      chain: fc.array(
        fc.tuple(
          fc.oneof(
            { weight: 9, arbitrary: fc.constant(true) },
            { weight: 1, arbitrary: fc.constant(false) },
          ),
          arbValue,
          arbValue,
        ),
        { minLength: nodes - 1, maxLength: nodes - 1 },
      ),
      extra: fc.array(
        fc.tuple(
          fc.integer({ min: 1, max: nodes }),
          fc.oneof(
            { weight: 4, arbitrary: fc.integer({ min: 2, max: 4 }) },
            { weight: 1, arbitrary: fc.integer({ min: 1, max: nodes }) },
          ),
          arbValue,
          arbValue,
          fc.oneof(
            { weight: 12, arbitrary: fc.constant(false) },
            { weight: 1, arbitrary: fc.constant(true) },
          ),
        ),
        { maxLength: nodes },
      ),
      first: fc.array(arbFirstIface, { minLength: nodes, maxLength: nodes }),
      schemes: fc.array(fc.nat(SANE_SCHEMES.length - 1), { minLength: nodes, maxLength: nodes }),
    })
    .map(({ chain, extra, first, schemes }) => {
      const next = first.slice();
      const links: TopologyLink[] = [];
      const add = (a: number, b: number, valueA: number, valueB: number, oneWay: boolean): void => {
        if (a === b) return;
        links.push({
          a,
          b,
          ifaceA: next[a - 1]!++,
          ifaceB: next[b - 1]!++,
          valueA,
          valueB,
          oneWay,
        });
      };
      chain.forEach(
        ([present, valueA, valueB], i) => present && add(i + 1, i + 2, valueA, valueB, false),
      );
      for (const [a, step, valueA, valueB, oneWay] of extra)
        add(a, ((a - 1 + step) % nodes) + 1, valueA, valueB, oneWay);
      return { nodes, schemes: schemes.map((i) => SANE_SCHEMES[i]!), links };
    }),
);

/**
 * A ladder: a rail of hubs (every interface in v358's widest form, 10 bits a hop) and a rail of
 * small nodes (4 bits a hop) joined by rungs. Along the hub rail 6 hops already overflow the
 * label, so the cheapest route often does not fit and a longer one over the small nodes does.
 */
const arbLadder: fc.Arbitrary<Topology> = fc.integer({ min: 4, max: 7 }).chain((len) =>
  fc
    .record({
      rails: fc.array(fc.tuple(arbValue, arbValue), {
        minLength: 2 * len - 2,
        maxLength: 2 * len - 2,
      }),
      rungs: fc.array(fc.option(fc.tuple(arbValue, arbValue), { freq: 2 }), {
        minLength: len,
        maxLength: len,
      }),
    })
    .map(({ rails, rungs }) => {
      const next = [
        ...Array.from({ length: len }, () => 200),
        ...Array.from({ length: len }, () => 2),
      ];
      const links: TopologyLink[] = [];
      const add = (a: number, b: number, [valueA, valueB]: [number, number]): void => {
        links.push({ a, b, ifaceA: next[a - 1]!++, ifaceB: next[b - 1]!++, valueA, valueB });
      };
      for (let i = 1; i < len; i++) {
        add(i, i + 1, rails[i - 1]!);
        add(len + i, len + i + 1, rails[len - 2 + i]!);
      }
      rungs.forEach((r, i) => {
        if (r || i === 0 || i === len - 1) add(i + 1, len + i + 1, r ?? [1, 1]);
      });
      return {
        nodes: 2 * len,
        schemes: Array.from({ length: 2 * len }, () => SCHEMES.v358),
        links,
      };
    }),
);

const v358AnyLabel = fc.oneof(
  fc.integer({ min: 0, max: 7 }).map((d) => (((1 << 3) | d) << 1) | 1),
  fc.integer({ min: 0, max: 31 }).map((d) => (((1 << 5) | d) << 2) | 2),
  fc.integer({ min: 0, max: 255 }).map((d) => ((1 << 8) | d) << 2),
  fc.constantFrom(1, 2, 3, 4, 0x7fff_ffff),
);

/** Forms that shrink, a prefix form first: "widening" by form number can narrow or fail. */
const SHRINKING: EncodingScheme = [
  { bitCount: 5, prefixLen: 2, prefix: 2 },
  { bitCount: 3, prefixLen: 1, prefix: 1 },
  { bitCount: 8, prefixLen: 2, prefix: 0 },
];
const HOSTILE_SCHEMES: EncodingScheme[] = [
  SCHEMES.v358,
  SCHEMES.v358,
  SHRINKING,
  SCHEMES.v48,
  SCHEMES.f4,
];

interface HostileSpec {
  nodes: number;
  /** [a, b, label a→b (in b's record), form, value] */
  links: [number, number, number, number, number][];
  schemes: number[];
}

const arbHostile: fc.Arbitrary<HostileSpec> = fc.integer({ min: 2, max: 6 }).chain((nodes) =>
  fc.record({
    nodes: fc.constant(nodes),
    links: fc.array(
      fc.tuple(
        fc.integer({ min: 1, max: nodes }),
        fc.integer({ min: 1, max: nodes }),
        v358AnyLabel,
        fc.nat(3),
        arbValue,
      ),
      { maxLength: nodes * 3 },
    ),
    schemes: fc.array(fc.nat(HOSTILE_SCHEMES.length - 1), { minLength: nodes, maxLength: nodes }),
  }),
);

/** Records for a hostile spec: every listed link a→b is one of b's links from a, both ends known. */
function tableOfHostile(spec: HostileSpec): NodeTable {
  const t = new Table();
  const peers = new Map<number, Entity[]>();
  for (let n = 1; n <= spec.nodes; n++) peers.set(n, []);
  const values: number[] = [];
  let peerNum = 1;
  for (const [a, b, label, form, value] of spec.links) {
    if (a === b) continue;
    peers.get(b)!.push(peer(ipOf(a), label, peerNum++, form));
    values.push(value);
    // the other end, so the link is known from both ends
    peers.get(a)!.push(peer(ipOf(b), label ^ 0x10, peerNum++, (form + 1) % 3));
    values.push(value);
  }
  for (let n = 1; n <= spec.nodes; n++) {
    const out = t.handleAnnounce(
      { ann: mkReset(ipOf(n), T0, peers.get(n)!, HOSTILE_SCHEMES[spec.schemes[n - 1]!]!) },
      { fromNode: true, now: T0, selfIp: SNODE_IP },
    );
    expect(out.error).to.equal('none');
  }
  let i = 0;
  for (const rec of t)
    for (const links of rec.inwardLinksByIp.values())
      for (const l of links) l.value = values[i++ % values.length]!;
  return t;
}

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
  it('cjdns-like networks: the first fitting simple path, labels that walk to the destination', () => {
    const seen = { routes: 0, none: 0, detours: 0, multiHop: 0, wide: 0 };
    fc.assert(
      fc.property(fc.oneof(arbTopology, arbLadder), (topo) => {
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
      { numRuns: 250, seed: 0xbe57_01 },
    );
    // the generator reaches the cases that matter
    expect(seen.multiHop).to.be.greaterThan(10_000);
    expect(seen.none).to.be.greaterThan(500);
    expect(
      seen.detours,
      'pairs whose cheapest path does not fit but another does',
    ).to.be.greaterThan(100);
    expect(seen.wide, 'routes over 40 bits').to.be.greaterThan(1000);
  });

  it('hostile labels, forms and schemes: the first fitting walk that repeats no (node, arrival) state', () => {
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
