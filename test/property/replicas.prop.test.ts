/**
 * The swap-and-replay protocol under random interleavings (fast-check): announcements of random
 * nodes (links appear, change value, are withdrawn; resets; out-of-order gossip), swaps that are
 * started and held open while more announcements and queries arrive, swaps that complete, and
 * route queries at any point.
 *
 * Checked:
 *  - every answer a query got is the answer of one consistent snapshot: the state after the
 *    first k node updates for the k the active snapshot reflected — rebuilt from scratch, and
 *    also computed by the reference (`buildRouteGraph` + `computeRoute`) on records holding
 *    that state;
 *  - after the final replay both replicas equal a from-scratch build of the final records, and
 *    their routes equal the reference's on those records.
 * Half the runs use the route policy `original` (the reference is `computeRoute`), half `best`
 * (the reference is the plain `best` search on the records).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { GraphTables } from '../../src/graph/id-tables.ts';
import type { NodeRecord } from '../../src/graph/node-record.ts';
import { nodeUpdateOf, packed, type NodeUpdate } from '../../src/routing/node-update.ts';
import { ReplicaModel } from '../../src/routing/replica-model.ts';
import { buildRouteGraph } from '../../src/routing/reference/route-graph.ts';
import type { RouteJson } from '../../src/routing/route-answer.ts';
import { computeBestRoute, computeRoute } from '../../src/routing/reference/route-engine.ts';
import { recordHops } from '../../src/routing/reference/best-route.ts';
import { BestRouting } from '../../src/routing/best-routing.ts';
import type { RoutePolicy } from '../../src/routing/route-policy.ts';
import { RouteSnapshot } from '../../src/routing/route-snapshot.ts';
import { SptSolver } from '../../src/routing/shortest-path-tree.ts';
import { sameGraph } from '../../src/routing/snapshot-data.ts';
import type { Entity } from '../../src/protocol/entity-types.ts';
import type { RouteServer } from '../../src/server/route-server.ts';
import { fastServer, until } from '../helpers/fast-server.ts';
import {
  encodingScheme,
  ipOf,
  linkState,
  mkAnn,
  peer,
  T0,
  version,
} from '../unit/graph/fixtures.ts';

const NODES = 6;

type Cmd =
  | { kind: 'ann'; node: number; dt: number; reset: boolean; entities: Entity[] }
  | { kind: 'startSwap' }
  | { kind: 'finishSwap' }
  | { kind: 'query'; src: number; dst: number };

const v358Label = fc.oneof(
  fc.integer({ min: 0, max: 7 }).map((d) => (((1 << 3) | d) << 1) | 1),
  fc.integer({ min: 0, max: 31 }).map((d) => (((1 << 5) | d) << 2) | 2),
);

const arbEntity: fc.Arbitrary<Entity> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 1, max: NODES }),
        v358Label,
        fc.integer({ min: 1, max: 4 }),
        fc.nat(1),
        fc.oneof(
          { weight: 5, arbitrary: fc.constant(false) },
          { weight: 1, arbitrary: fc.constant(true) },
        ),
      )
      .map(([p, label, peerNum, form, wd]) => peer(ipOf(p), wd ? 0 : label, peerNum, form)),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 40 }),
            fc.constant(0),
            fc.integer({ min: 0, max: 500 }),
          ),
          { minLength: 1, maxLength: 4 },
        ),
      )
      .map(([id, samples]) => linkState(id, 0, samples as [number, number, number][])),
  },
);

const arbCmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('ann' as const),
      node: fc.integer({ min: 1, max: NODES }),
      dt: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 1, max: 20_000 }) },
        { weight: 1, arbitrary: fc.integer({ min: -5000, max: 0 }) },
      ),
      reset: fc.oneof(
        { weight: 6, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      entities: fc.array(arbEntity, { maxLength: 5 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'startSwap' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'finishSwap' as const }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('query' as const),
      src: fc.integer({ min: 1, max: NODES }),
      dst: fc.integer({ min: 1, max: NODES }),
    }),
  },
);

/** Records holding the state of `updates` (fresh objects: the reference sorts them in place). */
function recordsOf(updates: Iterable<NodeUpdate>, t: GraphTables): Map<string, NodeRecord> {
  const out = new Map<string, NodeRecord>();
  for (const u of updates) {
    if (!u.present) continue;
    const d = u.links;
    const inward = new Map<
      string,
      NodeRecord['inwardLinksByIp'] extends Map<string, infer L> ? L : never
    >();
    for (let i = 0; i < packed.peerCount(d); i++) {
      const links = [];
      for (let k = packed.linkOffset(d, i); k < packed.linkOffset(d, i + 1); k++) {
        const b = packed.linkBase(d, k);
        links.push({
          label: t.labels.textOf(d[b]!),
          encodingFormNum: d[b + 1]!,
          peerNum: k,
          linkState: new Map(),
          createTime: 0,
          mostRecentLsSlot: 0,
          time: 0,
          mtu: 0,
          flags: 0,
          value: d[b + 2]!,
        });
      }
      inward.set(t.ids.ipOf(packed.peer(d, i)), links);
    }
    const ip = t.ids.ipOf(u.id);
    out.set(ip, {
      version: u.version,
      key: ip,
      keyBytes: t.ids.keyOf(u.id)!,
      ipv6: ip,
      encodingScheme: t.schemes.get(u.schemeId),
      inwardLinksByIp: inward,
      timestamp: 0,
      timestampHex: '',
      announcements: [],
      resetMsg: undefined as unknown as NodeRecord['resetMsg'],
      stateHash: new Uint8Array(64),
    });
  }
  return out;
}

function referenceRoute(
  records: Map<string, NodeRecord>,
  s: string,
  d: string,
  policy: RoutePolicy,
): RouteJson | null {
  const src = records.get(s);
  const dst = records.get(d);
  if (!src || !dst) return null;
  if (src === dst) return { label: '0000.0000.0000.0001', hops: [] };
  if (policy === 'best')
    return computeBestRoute(recordHops(records), records, src, dst)?.json ?? null;
  return computeRoute(buildRouteGraph(records, 0), records, src, dst)?.json ?? null;
}

function scratchSnapshot(
  updates: Iterable<NodeUpdate>,
  t: GraphTables,
  policy: RoutePolicy,
): RouteSnapshot {
  const m = new ReplicaModel({ policy });
  for (const u of updates) m.apply({ ...u, links: u.links.slice() });
  return new RouteSnapshot(m.build(), t, new SptSolver(), {
    treeCacheSize: 0,
    best: policy === 'best' ? new BestRouting(t) : undefined,
  });
}

let runCount = 0;

async function runInterleaving(cmds: Cmd[]): Promise<{ queries: number; heldQueries: number }> {
  let holding = false;
  let open: (() => void) | undefined;
  let started = false;
  const policy: RoutePolicy = runCount % 4 < 2 ? 'original' : 'best';
  const { server } = fastServer({
    tree: {
      policy,
      instrumentation: {
        model: { fullRebuildFraction: runCount++ % 2 === 0 ? 1 : 0.125 }, // patched rows, or the default
        gate: () => (holding ? new Promise<void>((r) => (open = r)) : Promise.resolve()),
        onBuildStarted: () => {
          started = true;
        },
      },
    },
  });
  const trees = server.routing!.trees;
  const tables = server.routing!.tables;
  // capture every node update with its seq: the history snapshots are checked against
  const history: NodeUpdate[] = [];
  const changed = trees.nodeChanged.bind(trees);
  trees.nodeChanged = (rec: NodeRecord): number => {
    const seq = changed(rec);
    history.push({ ...nodeUpdateOf(rec, tables), seq });
    return seq;
  };
  const stateAt = (seq: number): Map<number, NodeUpdate> => {
    const m = new Map<number, NodeUpdate>();
    for (const u of history) if (u.seq <= seq) m.set(u.id, u);
    return m;
  };
  const clocks = new Map<number, number>();
  let inFlight: Promise<boolean> | undefined;
  let queries = 0;
  let heldQueries = 0;
  const finish = async (): Promise<void> => {
    if (!inFlight) return;
    holding = false;
    open?.();
    await inFlight;
    inFlight = undefined;
    open = undefined;
  };
  try {
    for (const c of cmds) {
      switch (c.kind) {
        case 'ann': {
          // a node's first announcement is a reset (it creates the record)
          const isReset = !clocks.has(c.node) || c.reset;
          const t = (clocks.get(c.node) ?? T0) + c.dt;
          clocks.set(c.node, Math.max(t, clocks.get(c.node) ?? T0));
          const entities = isReset ? [version(22), encodingScheme(), ...c.entities] : c.entities;
          await submit(server, mkAnn({ nodeIp: ipOf(c.node), timestamp: t, isReset, entities }));
          break;
        }
        case 'startSwap':
          if (inFlight) break;
          holding = true;
          started = false;
          inFlight = trees.swap(true);
          await until(() => started || !holding, 'the build started');
          break;
        case 'finishSwap':
          await finish();
          break;
        case 'query': {
          const s = ipOf(c.src);
          const d = ipOf(c.dst);
          const seq = trees.active.seq;
          const got = server.getRoute(s, d);
          const gr = server.routeForGr(s, d);
          queries++;
          if (inFlight) heldQueries++;
          const state = stateAt(seq);
          expect(got, `query ${c.src}->${c.dst} at seq ${seq}`).to.deep.equal(
            scratchSnapshot(state.values(), tables, policy).route(s, d),
          );
          expect(got).to.deep.equal(
            referenceRoute(recordsOf(state.values(), tables), s, d, policy),
          );
          expect(gr === null).to.equal(got === null);
          break;
        }
      }
    }
    await finish();
    // the final replay: both replicas, built after it, equal a from-scratch build
    await trees.sync();
    const final = [...server.nodes].map((r) => nodeUpdateOf(r, tables));
    const scratch = scratchSnapshot(final, tables, policy);
    const first = trees.active.data;
    expect(await trees.swap(true)).to.equal(true);
    const second = trees.active.data;
    expect(sameGraph(first, scratch.data), 'replica 1 = scratch').to.equal(true);
    expect(sameGraph(second, scratch.data), 'replica 2 = scratch').to.equal(true);
    const records = recordsOf(final, tables);
    for (let a = 1; a <= NODES; a++)
      for (let b = 1; b <= NODES; b++)
        expect(server.getRoute(ipOf(a), ipOf(b))).to.deep.equal(
          referenceRoute(records, ipOf(a), ipOf(b), policy),
        );
  } finally {
    holding = false;
    open?.();
    await server.close();
  }
  return { queries, heldQueries };
}

async function submit(server: RouteServer, ann: ReturnType<typeof mkAnn>): Promise<void> {
  const o = await server.submitAnnouncement(ann, 'gossip');
  expect(['none', 'no_encodingScheme', 'no_version', 'unknown_node']).to.include(o.error);
}

describe('tree replicas under random interleavings (property)', () => {
  it('answer every query from a consistent snapshot and end equal to a from-scratch build', async () => {
    let queries = 0;
    let held = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(arbCmd, { minLength: 5, maxLength: 40 }), async (cmds) => {
        const r = await runInterleaving(cmds);
        queries += r.queries;
        held += r.heldQueries;
      }),
      { numRuns: 120, seed: 0x5eed03 },
    );
    // the runs did query, and did query while a rebuild was held open
    expect(queries).to.be.greaterThan(200);
    expect(held).to.be.greaterThan(20);
  });
});
