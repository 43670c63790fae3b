/**
 * Double-buffered route trees: the active snapshot answers while the standby builds (shown by
 * instrumentation — a build held open — not by timing), swaps replay what the new standby
 * missed, and a crashed replica is restarted and reloaded while queries keep being answered.
 */
import { expect } from 'chai';
import type { WorkerReplica } from '../../../src/routing/replica-backend.ts';
import { ReplicaModel } from '../../../src/routing/replica-model.ts';
import { DEFAULT_TREE_OPTIONS } from '../../../src/routing/tree-replicas.ts';
import { nodeUpdateOf } from '../../../src/routing/node-update.ts';
import { sameGraph } from '../../../src/routing/snapshot-data.ts';
import type { Entity } from '../../../src/protocol/entity-types.ts';
import type { RouteServer } from '../../../src/server/route-server.ts';
import { fastServer, until } from '../../helpers/fast-server.ts';
import { threadNice, threadNiceValues } from '../../helpers/thread-nice.ts';
import { ipOf, mkAnn, mkReset, peer, T0 } from '../graph/fixtures.ts';

/** 1 — 2 — 3 — 4 line (labels as in the route-engine tests). */
async function line(server: RouteServer, n = 4): Promise<void> {
  for (let i = 1; i <= n; i++) {
    const entities: Entity[] = [];
    if (i > 1) entities.push(peer(ipOf(i - 1), 0x13 + 2 * (i % 3), 10 + i));
    if (i < n) entities.push(peer(ipOf(i + 1), 0x15 + 2 * (i % 2), 20 + i));
    expect(
      (await server.submitAnnouncement(mkReset(ipOf(i), T0, entities), 'gossip')).error,
    ).to.equal('none');
  }
}

/** A gate the in-thread build waits for, and a signal when a build starts. */
function gate(): {
  wait: () => Promise<void>;
  open: () => void;
  started: () => Promise<void>;
  markStarted: () => void;
} {
  let open!: () => void;
  let markStarted!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const started = new Promise<void>((r) => (markStarted = r));
  return { wait: () => opened, open, started: () => started, markStarted };
}

describe('tree replicas', () => {
  let server: RouteServer;
  afterEach(async () => server.close());

  describe('TreeReplicas#swap()', () => {
    it('answers queries from the active snapshot while the standby is rebuilding (in-thread build held open)', async () => {
      const g = gate();
      let holding = false;
      ({ server } = fastServer({
        tree: {
          instrumentation: {
            gate: () => (holding ? g.wait() : Promise.resolve()),
            onBuildStarted: () => holding && g.markStarted(),
          },
        },
      }));
      await line(server);
      await server.syncRoutes();
      const trees = server.routing!.trees;
      const before = server.getRoute(ipOf(1), ipOf(4));
      expect(before?.path).to.deep.equal([ipOf(1), ipOf(2), ipOf(3), ipOf(4)]);

      // node 4 withdraws its link to 3: the next snapshot has no route 1 → 4
      await server.submitAnnouncement(
        mkAnn({ nodeIp: ipOf(4), timestamp: T0 + 1000, entities: [peer(ipOf(3), 0, 14)] }),
        'gossip',
      );
      holding = true;
      const swapped = trees.swap();
      await g.started();
      // the build is in progress: it has started and cannot finish before the gate opens
      const standby = trees.backendOf(
        trees.activeReplica === 'tree-replica-a' ? 'tree-replica-b' : 'tree-replica-a',
      )!;
      expect(standby.building).to.equal(true);
      const during = server.getRoute(ipOf(1), ipOf(4));
      const grDuring = server.routeForGr(ipOf(1), ipOf(4));
      expect(standby.building).to.equal(true);
      expect(during).to.deep.equal(before); // the old, consistent snapshot
      expect(grDuring).to.not.equal(null);
      expect(trees.active.seq).to.be.lessThan(trees.latestSeq);
      g.open();
      expect(await swapped).to.equal(true);
      expect(server.getRoute(ipOf(1), ipOf(4))).to.equal(null);
      expect(trees.stats.swaps).to.be.greaterThan(0);
    });

    it('answers queries while a worker replica is rebuilding (worker build held open)', async () => {
      const started: string[] = [];
      ({ server } = fastServer({
        tree: {
          backend: 'worker',
          instrumentation: { onBuildStarted: () => started.push('build') },
        },
      }));
      await line(server);
      await server.syncRoutes();
      const trees = server.routing!.trees;
      const before = server.getRoute(ipOf(1), ipOf(4));
      await server.submitAnnouncement(
        mkAnn({ nodeIp: ipOf(4), timestamp: T0 + 1000, entities: [peer(ipOf(3), 0, 14)] }),
        'gossip',
      );
      const standbyName =
        trees.activeReplica === 'tree-replica-a' ? 'tree-replica-b' : 'tree-replica-a';
      const hold = (trees.backendOf(standbyName) as WorkerReplica).hold();
      const n = started.length;
      const swapped = trees.swap();
      await until(() => started.length > n, 'the worker started building');
      expect(trees.backendOf(standbyName)!.building).to.equal(true);
      expect(server.getRoute(ipOf(1), ipOf(4))).to.deep.equal(before);
      expect(trees.backendOf(standbyName)!.building).to.equal(true);
      hold.release();
      expect(await swapped).to.equal(true);
      expect(server.getRoute(ipOf(1), ipOf(4))).to.equal(null);
    });

    it('replays into the new standby the updates it missed, so both replicas equal a from-scratch build', async () => {
      ({ server } = fastServer());
      await line(server, 6);
      const trees = server.routing!.trees;
      expect(await trees.swap()).to.equal(true);
      await server.submitAnnouncement(
        mkAnn({ nodeIp: ipOf(2), timestamp: T0 + 1000, entities: [peer(ipOf(5), 0x19, 30)] }),
        'gossip',
      );
      await server.submitAnnouncement(
        mkAnn({ nodeIp: ipOf(5), timestamp: T0 + 1000, entities: [peer(ipOf(2), 0x1b, 31)] }),
        'gossip',
      );
      expect(await trees.swap()).to.equal(true);
      expect(trees.stats.updatesReplayed).to.be.greaterThan(0);
      const a = trees.active.data;
      expect(await trees.swap(true)).to.equal(true);
      const b = trees.active.data;
      const scratch = new ReplicaModel({ policy: DEFAULT_TREE_OPTIONS.policy });
      for (const rec of server.nodes) scratch.apply(nodeUpdateOf(rec, server.routing!.tables));
      const s = scratch.build();
      expect(sameGraph(a, s)).to.equal(true);
      expect(sameGraph(b, s)).to.equal(true);
      expect(server.getRoute(ipOf(1), ipOf(6))?.path).to.deep.equal([
        ipOf(1),
        ipOf(2),
        ipOf(5),
        ipOf(6),
      ]);
    });
  });

  describe('TreeReplicas#hold()', () => {
    /** A line of 6 nodes with a swap due every 2 updates; how many builds it took. */
    async function loadLine(held: boolean): Promise<{ builds: number; release: () => void }> {
      let builds = 0;
      ({ server } = fastServer({
        tree: { maxUpdatesPerSwap: 2, instrumentation: { onBuildStarted: () => builds++ } },
      }));
      const release = held ? server.holdRouteUpdates() : () => {};
      await line(server, 6);
      // let every swap the updates started run to its end
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      return { builds, release };
    }

    it('without a hold, the standby builds while the nodes come in (maxUpdatesPerSwap reached)', async () => {
      expect((await loadLine(false)).builds).to.be.greaterThan(0);
    });

    it('holds every update and every swap until released, then builds once and answers from everything', async () => {
      const { builds, release } = await loadLine(true);
      const trees = server.routing!.trees;
      expect(builds, 'no build while held').to.equal(0);
      expect(trees.stats.swaps).to.equal(0);
      expect(trees.lagUpdates, 'one update per node waits').to.equal(6);
      expect(
        server.getRoute(ipOf(1), ipOf(6)),
        'the active snapshot is the one from before',
      ).to.equal(null);
      release();
      release(); // idempotent
      await until(() => trees.stats.swaps === 1, 'the swap after the release');
      expect(server.getRoute(ipOf(1), ipOf(6))?.path).to.deep.equal(
        [1, 2, 3, 4, 5, 6].map((i) => ipOf(i)),
      );
      await server.syncRoutes();
      expect(trees.lagUpdates).to.equal(0);
    });

    it('a hold released while another is still held waits for that one', async () => {
      ({ server } = fastServer({ tree: { maxUpdatesPerSwap: 2 } }));
      const outer = server.holdRouteUpdates();
      const inner = server.holdRouteUpdates();
      await line(server, 3);
      inner();
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      expect(server.routing!.trees.stats.swaps).to.equal(0);
      outer();
      await until(() => server.routing!.trees.stats.swaps === 1, 'the swap after the last release');
    });
  });

  describe('hot destinations', () => {
    it("grows a hot destination's whole tree between queries, then answers from it", async () => {
      ({ server } = fastServer({ tree: { hotDestinationQueries: 3 } }));
      await line(server, 6);
      await server.syncRoutes();
      const trees = server.routing!.trees;
      // sources nearest first: each query needs more of the tree than the last one settled
      for (const s of [5, 4, 3]) expect(server.getRoute(ipOf(s), ipOf(6))).to.not.equal(null);
      // (the fixtures' links carry no link state: value 0, cost Infinity, so tree searches answer)
      const before = trees.treeCacheTotals();
      expect(before.pairs + before.misses).to.equal(3);
      await until(() => trees.treeCacheTotals().grown === 1, 'the hot tree grown');
      expect(trees.active.cachedTrees).to.equal(1);
      const hits = trees.treeCacheTotals().hits;
      const whole = [1, 2, 3, 4, 5, 6].map(ipOf);
      expect(server.getRoute(ipOf(1), ipOf(6))?.path).to.deep.equal(whole);
      expect(server.getRoute(ipOf(2), ipOf(6))?.path).to.deep.equal(whole.slice(1));
      const after = trees.treeCacheTotals();
      expect(after.hits).to.equal(hits + 2);
      expect(after.pairs + after.misses).to.equal(3);
    });
  });

  describe('priority', () => {
    it("runs each replica's worker thread at routing.replicaNice, the main thread unchanged", async () => {
      const count = (n: number): number => threadNiceValues().filter((x) => x === n).length;
      const before = count(6);
      ({ server } = fastServer({ tree: { backend: 'worker', nice: 6 } }));
      await line(server);
      await server.syncRoutes(); // both workers started and built
      await until(() => count(6) - before === 2, 'two threads at nice 6');
      expect(threadNice().get(process.pid)).to.equal(0);
    });
  });

  describe('supervision', () => {
    it('restarts a replica whose worker died, reloads it, and keeps answering meanwhile', async () => {
      ({ server } = fastServer({ tree: { backend: 'worker' } }));
      await line(server);
      await server.syncRoutes();
      const trees = server.routing!.trees;
      const route = server.getRoute(ipOf(1), ipOf(4));
      const standbyName =
        trees.activeReplica === 'tree-replica-a' ? 'tree-replica-b' : 'tree-replica-a';
      await (trees.backendOf(standbyName) as WorkerReplica).crashForTest();
      // the standby's next message fails; its supervisor restarts it with a new worker
      await server.submitAnnouncement(
        mkAnn({ nodeIp: ipOf(2), timestamp: T0 + 1000, entities: [] }),
        'gossip',
      );
      await until(() => trees.stats.replicaRestarts === 1, 'the replica restarted');
      expect(server.getRoute(ipOf(1), ipOf(4))).to.deep.equal(route);
      await server.syncRoutes();
      expect(server.getRoute(ipOf(1), ipOf(4))).to.deep.equal(route);
      const scratch = new ReplicaModel({ policy: DEFAULT_TREE_OPTIONS.policy });
      for (const rec of server.nodes) scratch.apply(nodeUpdateOf(rec, server.routing!.tables));
      expect(sameGraph(trees.active.data, scratch.build())).to.equal(true);
    });
  });
});
