/**
 * The fast engine (ReplicaModel → CSR snapshot → per-destination shortest-path tree → label)
 * answers exactly what the reference (`buildRouteGraph` + `computeRoute`, node-dijkstra
 * tie-breaks) answers on the same records: same path, same label, same hops, same misses.
 * Random graphs include zero-valued links (cost Infinity: breadth-first ties), equal-cost ties,
 * Infinity values (cost 0: the edge is left out), several links per peer (the in-place stable
 * sort picks `[0]`), one-way links, labels the scheme cannot re-encode, and other schemes.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { newGraphTables } from '../../src/graph/id-tables.ts';
import { NodeTable } from '../../src/graph/apply-announcement.ts';
import { nodeUpdateOf } from '../../src/routing/node-update.ts';
import { ReplicaModel } from '../../src/routing/replica-model.ts';
import { buildRouteGraph } from '../../src/routing/reference/route-graph.ts';
import { computeRoute } from '../../src/routing/reference/route-engine.ts';
import { RouteSnapshot, type RouteSnapshotOptions } from '../../src/routing/route-snapshot.ts';
import { SptSolver } from '../../src/routing/shortest-path-tree.ts';
import { routeJsonBytes } from '../../src/server/route-json-bytes.ts';
import type { EncodingScheme } from '../../src/protocol/encoding-scheme-types.ts';
import { SCHEMES } from '../../src/protocol/encoding-scheme.ts';
import type { Entity } from '../../src/protocol/entity-types.ts';
import { ipOf, mkReset, peer, SNODE_IP, T0 } from '../unit/graph/fixtures.ts';

const v358Label = fc.oneof(
  fc.integer({ min: 0, max: 7 }).map((d) => (((1 << 3) | d) << 1) | 1),
  fc.integer({ min: 0, max: 31 }).map((d) => (((1 << 5) | d) << 2) | 2),
  fc.integer({ min: 0, max: 255 }).map((d) => ((1 << 8) | d) << 2),
);

/** Link values: mostly few distinct ones (ties), zeros (Infinity cost), some odd ones. */
const arbValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 2, 4) },
  { weight: 2, arbitrary: fc.double({ min: 0.001, max: 1000, noNaN: true }) },
  { weight: 1, arbitrary: fc.constant(Number.POSITIVE_INFINITY) },
);

interface GraphSpec {
  nodes: number;
  /** [a, b, labelAB, labelBA, formA, formB, parallel] — a two-way (or one-way) link */
  links: [number, number, number, number, number, number, boolean, boolean][];
  values: number[];
  schemes: number[];
}

const SCHEME_CHOICES: EncodingScheme[] = [
  SCHEMES.v358,
  SCHEMES.v358,
  SCHEMES.v358,
  SCHEMES.f8,
  SCHEMES.v48,
];

const arbGraph: fc.Arbitrary<GraphSpec> = fc.integer({ min: 2, max: 12 }).chain((nodes) =>
  fc.record({
    nodes: fc.constant(nodes),
    links: fc.array(
      fc.tuple(
        fc.integer({ min: 1, max: nodes }),
        fc.integer({ min: 1, max: nodes }),
        v358Label,
        v358Label,
        fc.nat(2),
        fc.nat(2),
        fc.boolean(), // a second link between the same pair (several links per peer)
        fc.oneof(
          { weight: 6, arbitrary: fc.constant(false) },
          { weight: 1, arbitrary: fc.constant(true) },
        ), // one-way
      ),
      { maxLength: nodes * 3 },
    ),
    values: fc.array(arbValue, { minLength: 64, maxLength: 64 }),
    schemes: fc.array(fc.nat(SCHEME_CHOICES.length - 1), { minLength: nodes, maxLength: nodes }),
  }),
);

/** Records for the spec, link values set directly (as link state would have grown them). */
function tableOf(spec: GraphSpec): NodeTable {
  const t = new NodeTable();
  const peers = new Map<number, Entity[]>();
  for (let n = 1; n <= spec.nodes; n++) peers.set(n, []);
  let peerNum = 1;
  for (const [a, b, lab, lba, fa, fb, parallel, oneWay] of spec.links) {
    peers.get(a)!.push(peer(ipOf(b), lab, peerNum++, fa));
    if (parallel) peers.get(a)!.push(peer(ipOf(b), lba, peerNum++, fb));
    if (!oneWay) peers.get(b)!.push(peer(ipOf(a), lba, peerNum++, fb));
  }
  for (let n = 1; n <= spec.nodes; n++) {
    const scheme = SCHEME_CHOICES[spec.schemes[n - 1]!]!;
    const out = t.handleAnnounce(
      { ann: mkReset(ipOf(n), T0, peers.get(n)!, scheme) },
      { fromNode: true, now: T0, selfIp: SNODE_IP },
    );
    expect(out.error).to.equal('none');
  }
  let i = 0;
  for (const rec of t)
    for (const links of rec.inwardLinksByIp.values())
      for (const l of links) l.value = spec.values[i++ % spec.values.length]!;
  return t;
}

function fastSnapshot(
  t: NodeTable,
  opts: RouteSnapshotOptions = { treeCacheSize: 4 },
): RouteSnapshot {
  const tables = newGraphTables();
  const model = new ReplicaModel();
  let seq = 0;
  for (const rec of t) {
    const u = nodeUpdateOf(rec, tables);
    u.seq = ++seq;
    model.apply(u);
  }
  return new RouteSnapshot(model.build(), tables, new SptSolver(), opts);
}

describe('fast route engine (property)', () => {
  it('answers every (src, dst) exactly as the reference computeRoute on the same records', () => {
    const seen = { multiHop: 0, none: 0, labelFailure: 0 };
    fc.assert(
      fc.property(arbGraph, (spec) => {
        const t = tableOf(spec);
        const fast = fastSnapshot(t); // copies the records before the reference sorts them
        const graph = buildRouteGraph(t.nodesByIp, T0);
        for (let s = 1; s <= spec.nodes; s++) {
          for (let d = 1; d <= spec.nodes; d++) {
            const src = t.get(ipOf(s))!;
            const dst = t.get(ipOf(d))!;
            const ref =
              s === d
                ? { json: { label: '0000.0000.0000.0001', hops: [] }, label: 1n }
                : computeRoute(graph, t.nodesByIp, src, dst);
            const got = fast.route(ipOf(s), ipOf(d));
            if (ref === null) seen.none++;
            else if ((ref.json.hops.length ?? 0) > 1) seen.multiHop++;
            if (ref === null && fast.pathIds(fast.nodeId(ipOf(s))!, fast.nodeId(ipOf(d))!))
              seen.labelFailure++;
            expect(got, `route ${s} -> ${d}`).to.deep.equal(ref ? ref.json : null);
            // `/path` prints the engines' answers straight to bytes: the same bytes
            for (const json of [got, ref?.json])
              if (json)
                expect(routeJsonBytes(json).toString('utf8')).to.equal(
                  JSON.stringify(json, null, 2),
                );
            const gr = fast.routeForGr(ipOf(s), ipOf(d));
            expect(gr?.label, `gr ${s} -> ${d}`).to.equal(ref?.label);
            if (gr) expect(gr.version).to.equal(dst.version);
          }
        }
      }),
      { numRuns: 300, seed: 0x5eed01 },
    );
    // the generator reaches the interesting cases: long paths, no path, paths whose label fails
    expect(seen.multiHop).to.be.greaterThan(100);
    expect(seen.none).to.be.greaterThan(100);
    expect(seen.labelFailure).to.be.greaterThan(5);
  });

  it('gives the same answers after incremental rebuilds as a from-scratch build', () => {
    fc.assert(
      fc.property(arbGraph, arbGraph, (a, b) => {
        // model fed with graph a, then with graph b's node states; vs a fresh model fed only b
        const ta = tableOf(a);
        const tb = tableOf({
          ...b,
          nodes: Math.max(a.nodes, b.nodes),
          schemes: [...b.schemes, ...a.schemes],
        });
        const tables = newGraphTables();
        const model = new ReplicaModel({ fullRebuildFraction: 1 }); // always patch rows
        let seq = 0;
        for (const rec of ta) model.apply({ ...nodeUpdateOf(rec, tables), seq: ++seq });
        model.build();
        for (const rec of tb) model.apply({ ...nodeUpdateOf(rec, tables), seq: ++seq });
        const built = model.build();
        expect(built.stats.full).to.equal(false);
        const incremental = new RouteSnapshot(built, tables, new SptSolver(), { treeCacheSize: 0 });
        const scratch = fastSnapshot(tb);
        for (const s of tb)
          for (const d of tb)
            expect(incremental.route(s.ipv6, d.ipv6)).to.deep.equal(scratch.route(s.ipv6, d.ipv6));
      }),
      { numRuns: 150, seed: 0x5eed02 },
    );
  });

  it("answers from hot destinations' grown trees exactly as from pair searches", () => {
    let fromTrees = 0;
    fc.assert(
      fc.property(arbGraph, (spec) => {
        const t = tableOf(spec);
        const reference = fastSnapshot(t, { treeCacheSize: 0 });
        const wanted: RouteSnapshot[] = [];
        const hot = fastSnapshot(t, {
          treeCacheSize: 64,
          hotDestinationQueries: 2,
          growthWanted: (snap) => wanted.push(snap),
        });
        for (const d of t) {
          // two pair-searched queries make d hot; its tree then grows in slices of 3 pops
          for (const s of t) if (s !== d) hot.route(s.ipv6, d.ipv6);
          while (hot.growTrees(3));
          const hits = hot.stats.treeHits;
          for (const s of t)
            expect(hot.route(s.ipv6, d.ipv6), `${s.ipv6} -> ${d.ipv6}`).to.deep.equal(
              reference.route(s.ipv6, d.ipv6),
            );
          fromTrees += hot.stats.treeHits - hits;
        }
        expect(wanted.every((w) => w === hot)).to.equal(true);
        expect(hot.cachedTrees).to.be.at.most(64);
      }),
      { numRuns: 200, seed: 0x5eed03 },
    );
    expect(fromTrees).to.be.greaterThan(500);
  });
});
