/**
 * A route server restarted on its announcement log (in process, on the memory medium, for both
 * engines): every acknowledged announcement comes back, each node's stateHash is the one its
 * acknowledgements told it, and its next announcement continues the chain (no reset). Expired
 * nodes are not brought back.
 */
import { expect } from 'chai';
import { GLOBAL_TIMEOUT_MS } from '../../../src/graph/constants.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { defaultFastRoutingOptions } from '../../../src/routing/routing-supervisor.ts';
import { DEFAULT_TREE_OPTIONS } from '../../../src/routing/tree-replicas.ts';
import { referenceServer } from '../../helpers/reference-server.ts';
import { identityFromPrivateKey } from '../../../src/server/identity.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import { recordChanges, restoreTargetOf } from '../../../src/server/store-wiring.ts';
import { AnnouncementStore } from '../../../src/store/announcement-store.ts';
import { MemoryLogMedium } from '../../../src/store/memory-log-medium.ts';
import { coreState, TreeNetwork } from '../../helpers/cluster-fixtures.ts';
import { loadVectors } from '../../helpers/vectors.ts';
import { captureLogger } from '../store/fixtures.ts';

const T0 = 1_750_000_000_000;
const snodeVector = (
  loadVectors('route_server.json') as unknown as {
    identities: Array<{ name: string; private_hex: string }>;
  }
).identities.find((i) => i.name === 'snode')!;
const self = identityFromPrivateKey(hexToBytes(snodeVector.private_hex), 22);
/** one set of keys for every test here (making fc keys is slow) */
const NODES = 16;
const SEED = 11;

type Engine = 'reference' | 'fast';

/** Both engines restart on their log: each test runs with each. */
function newServer(engine: Engine, clock: ManualClock): RouteServer {
  if (engine === 'reference')
    return new RouteServer({ self, clock, routing: { mode: 'reference' } });
  const options = defaultFastRoutingOptions({
    tree: { ...DEFAULT_TREE_OPTIONS, backend: 'thread', swapIntervalMs: 50 },
  });
  return new RouteServer({ self, clock, routing: { mode: 'fast', options } });
}

/** A running server with its store, announcing as the `ann` path does: reply after durable(). */
async function start(engine: Engine, clock: ManualClock, medium: MemoryLogMedium) {
  const server = newServer(engine, clock);
  const cap = captureLogger();
  const store = await AnnouncementStore.open({
    medium,
    target: restoreTargetOf(server),
    log: cap.log,
    now: () => clock.now(),
    progressEveryMs: 0,
  });
  recordChanges(server, store);
  return {
    server,
    store,
    lines: cap.lines,
    async announce(bytes: Uint8Array): Promise<{ error: string; stateHash: string }> {
      const o = await server.submitAnnouncement(bytes, 'node');
      const c = await store.durable();
      if (!c.durable) throw new Error('not durable');
      return { error: o.error, stateHash: bytesToHex(o.stateHash) };
    },
    async stop() {
      await store.close();
      await server.close();
    },
  };
}

/** What the nodes were told: a reference route server fed every acknowledged announcement. */
function model() {
  const ref = referenceServer(self.ipv6);
  return {
    core: ref.server,
    async accept(bytes: Uint8Array, now: number): Promise<string> {
      const o = await ref.announce(bytes, { fromNode: true, now });
      if (o.error !== 'none') throw new Error(`model refused: ${o.error}`);
      return bytesToHex(o.stateHash);
    },
  };
}

function serverState(server: RouteServer): { stateHashes: Map<string, string>; kept: Set<string> } {
  return coreState(server);
}

for (const engine of ['reference', 'fast'] as const) {
  describe(`store: a restarted route server (${engine} engine)`, function () {
    this.timeout(30_000);

    it("comes back with every acknowledged announcement and continues each node's stateHash", async () => {
      const clock = new ManualClock(T0);
      const net = new TreeNetwork(NODES, self.ipv6, SEED);
      const m = model();
      const medium = new MemoryLogMedium();
      const a = await start(engine, clock, medium);
      const send = async (
        s: Awaited<ReturnType<typeof start>>,
        bytes: Uint8Array,
      ): Promise<void> => {
        const r = await s.announce(bytes);
        expect(r.error).to.equal('none');
        expect(r.stateHash).to.equal(await m.accept(bytes, clock.now()));
      };
      for (let i = 0; i < net.nodes.length; i++) await send(a, net.reset(i, clock.now()));
      for (let round = 0; round < 5; round++) {
        clock.set(clock.now() + 1000);
        await Promise.all(net.nodes.map((_n, i) => send(a, net.update(i, clock.now() + i))));
      }
      // kill -9: only what was synced survives
      const image = medium.crashImage(0);
      await a.server.close();

      clock.set(clock.now() + 60_000);
      const b = await start(engine, clock, MemoryLogMedium.holding(image));
      expect(b.store.report).to.include({ nodes: net.nodes.length, expiredNodes: 0 });
      expect(b.store.report.refused).to.deep.equal({});
      expect(b.lines.map((l) => l.event)).to.include.members([
        'store:reload:start',
        'store:reload:done',
      ]);
      const expected = coreState(m.core);
      const got = serverState(b.server);
      expect([...got.kept].sort()).to.deep.equal([...expected.kept].sort());
      expect(got.stateHashes).to.deep.equal(expected.stateHashes);
      expect(b.server.store.size).to.equal(a.server.store.size);
      // no node needs a reset: its next announcement continues the chain it was told
      for (let i = 0; i < net.nodes.length; i++) await send(b, net.update(i, clock.now() + i));
      await b.server.syncRoutes();
      expect(
        b.server.getRoute(net.nodes[0]!.ipv6, net.nodes[NODES - 1]!.ipv6),
        'routes after the restart',
      ).to.not.equal(null);
      await b.stop();
    });

    it('restores a node whose actor is live through that actor, in order', async () => {
      const clock = new ManualClock(T0);
      const net = new TreeNetwork(NODES, self.ipv6, SEED);
      const m = model();
      const a = newServer(engine, clock);
      const reset = net.reset(0, clock.now());
      const updates = [1, 2, 3].map((k) => net.update(0, clock.now() + k));
      // the node announces first (its actor is live in the fast engine), then a restore brings the rest
      expect((await a.submitAnnouncement(reset, 'node')).error).to.equal('none');
      await m.accept(reset, clock.now());
      expect(await a.restoreNode(updates)).to.deep.equal(['none', 'none', 'none']);
      for (const u of updates) await m.accept(u, clock.now());
      expect(serverState(a).stateHashes).to.deep.equal(coreState(m.core).stateHashes);
      await a.close();
    });

    it('drops the nodes that expired while it was down, and compacts them away', async () => {
      const clock = new ManualClock(T0);
      const net = new TreeNetwork(NODES, self.ipv6, SEED);
      const medium = new MemoryLogMedium();
      const a = await start(engine, clock, medium);
      for (let i = 0; i < 10; i++) await a.announce(net.reset(i, clock.now()));
      // nodes 0..4 keep announcing for a while, the others fall silent
      for (let step = 1; step <= 3; step++) {
        clock.set(T0 + step * (GLOBAL_TIMEOUT_MS / 2));
        for (let i = 0; i < 5; i++) await a.announce(net.update(i, clock.now()));
      }
      const image = medium.crashImage(0);
      await a.server.close();

      clock.set(T0 + 3 * (GLOBAL_TIMEOUT_MS / 2) + 1000);
      const medium2 = MemoryLogMedium.holding(image);
      const b = await start(engine, clock, medium2);
      expect(b.store.report).to.include({ nodes: 5, expiredNodes: 5 });
      expect(b.server.nodes.size).to.equal(5);
      for (let i = 0; i < 5; i++)
        expect(b.server.nodes.get(net.nodes[i]!.ipv6), `node ${i}`).to.not.equal(undefined);
      for (let i = 5; i < 10; i++)
        expect(b.server.nodes.get(net.nodes[i]!.ipv6), `node ${i}`).to.equal(undefined);
      await b.store.compact('test');
      const c = await start(engine, clock, MemoryLogMedium.holding(medium2.crashImage(0)));
      expect(c.store.report).to.include({ nodes: 5, expiredNodes: 0, expiredAnnouncements: 0 });
      expect(serverState(c.server).stateHashes).to.deep.equal(serverState(b.server).stateHashes);
      await b.stop();
      await c.stop();
    });
  });
}
