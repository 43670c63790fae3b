/**
 * The cluster's guarantee (docs/cluster.md, "The guarantee") on the in-memory bus: an
 * announcement is acknowledged only once durable, and applied only once this process caught up
 * with its node. Each test here failed before the fix it names (issue 12, item 2):
 *  - a refused write (Redis at maxmemory, READONLY, …) was acknowledged (`durable: false` went
 *    out as an `ann` reply) and the process stayed ready;
 *  - a node's later append could be stored while its earlier one had failed (per-node order);
 *  - a catch-up that took longer than catchUpTimeoutMs let the node's announcement be applied
 *    locally on a stale record, after which the older record entries were ignored as older;
 *  - re-publishing the backlog raised the node's watermark to the new entry's id, so the entries
 *    other processes had stored before it (not read yet) were skipped as `covered`, and the
 *    node's next announcement was applied on a stale record (a stateHash the node never had);
 *  - re-publishing the backlog overwrote the node's snapshot with this process's older state of
 *    the node, without what another process had stored of it meanwhile (acknowledged): a process
 *    started from snapshots rebuilt the node without those announcements.
 */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ClusterActor } from '../../../src/cluster/cluster-actor.ts';
import type { ClusterAppend, ClusterBus, ClusterBusEvents } from '../../../src/cluster/bus.ts';
import { MemoryClusterBus, MemoryClusterHub } from '../../../src/cluster/memory-bus.ts';
import { clusterReadiness } from '../../../src/cluster/start-cluster.ts';
import { isRsError } from '../../../src/errors.ts';
import { bytesEqual } from '../../../src/protocol/hex.ts';
import { compareStreamIds, decodeClusterEnvelope } from '../../../src/protocol/cluster-envelope.ts';
import { CoreSink, TreeNetwork, eventually, fcIdentities } from '../../helpers/cluster-fixtures.ts';

const SNODE = fcIdentities(1, 99)[0]!.ipv6;

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isRsError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a rejection');
}

async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) =>
    Object.entries(labels).every(([k, want]) => x.labels[k] === want),
  );
  return v?.value ?? 0;
}

describe('cluster guarantee (memory bus)', () => {
  let hub: MemoryClusterHub;
  let net: TreeNetwork;
  const started: ClusterActor[] = [];

  beforeEach(() => {
    hub = new MemoryClusterHub();
    net = new TreeNetwork(7, SNODE);
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((a) => a.close()));
  });

  async function start(
    sink: CoreSink | ClusterActorSink,
    opts: {
      bus?: ClusterBus;
      catchUpTimeoutMs?: number;
      registry?: Registry;
      name?: string;
      antiEntropyIntervalMs?: number;
    } = {},
  ): Promise<ClusterActor> {
    const actor = await ClusterActor.start({
      bus: opts.bus ?? new MemoryClusterBus(hub),
      sink,
      origin: opts.name,
      antiEntropyIntervalMs: opts.antiEntropyIntervalMs ?? 30,
      catchUpTimeoutMs: opts.catchUpTimeoutMs,
      registry: opts.registry,
    });
    started.push(actor);
    return actor;
  }

  /** what the route server does for a node's own announcement (app.ts hooks) */
  async function accept(
    actor: ClusterActor,
    sink: CoreSink,
    i: number,
    bytes: Uint8Array,
  ): Promise<string> {
    const ip = net.nodes[i]!.ipv6;
    await actor.catchUpBeforeLocalApply(ip);
    const r = await sink.local(bytes);
    expect(r.error).to.equal('none');
    await actor.publishDurable(bytes, ip);
    return r.stateHash;
  }

  function same(a: CoreSink, b: CoreSink): boolean {
    const x = a.state();
    const y = b.state();
    if (x.kept.size !== y.kept.size || x.stateHashes.size !== y.stateHashes.size) return false;
    for (const h of x.kept) if (!y.kept.has(h)) return false;
    for (const [ip, h] of x.stateHashes) if (y.stateHashes.get(ip) !== h) return false;
    return true;
  }

  describe('a write Redis refuses', () => {
    it('is not acknowledged, makes the process not ready with the reason, and converges once Redis takes writes again', async () => {
      const registry = new Registry();
      const sa = new CoreSink(SNODE);
      const sb = new CoreSink(SNODE);
      const a = await start(sa, { registry });
      await start(sb);
      await a.whenReady(5000);
      for (let i = 0; i < 7; i++) await accept(a, sa, i, net.reset(i, Date.now()));
      await eventually('b has every reset', () => same(sa, sb));
      expect(clusterReadiness(a.status()).ok).to.equal(true);

      hub.refuseWrites("OOM command not allowed when used memory > 'maxmemory'.");
      const first = await rejection(accept(a, sa, 0, net.update(0, Date.now())));
      expect(first.code).to.equal('RS_ERR_CLUSTER_NOT_DURABLE');
      expect(first.message).to.include('oom');
      // every later one too (held behind the failed write), whatever the node
      expect((await rejection(accept(a, sa, 1, net.update(1, Date.now())))).code).to.equal(
        'RS_ERR_CLUSTER_NOT_DURABLE',
      );
      const s = a.status();
      expect(s).to.include({ connected: true, writable: false, backlog: 2 });
      expect(s.lastWriteFailure?.reason).to.equal('oom');
      const ready = clusterReadiness(s);
      expect(ready.ok).to.equal(false);
      expect(ready.detail).to.match(/Redis refuses writes \(oom/);
      expect(
        await metric(registry, 'snode_cluster_write_errors_total', { reason: 'oom' }),
      ).to.be.greaterThan(0);
      expect(await metric(registry, 'snode_cluster_writable', {})).to.equal(0);
      expect(
        await metric(registry, 'snode_cluster_not_acknowledged_total', {
          reason: 'write_failed_oom',
        }),
      ).to.equal(2);

      hub.refuseWrites(undefined);
      await eventually('a writable again', () => a.status().writable);
      expect(clusterReadiness(a.status()).ok).to.equal(true);
      await eventually('b converged with a', () => same(sa, sb));
      // acknowledged again
      await accept(a, sa, 2, net.update(2, Date.now()));
      await eventually('b converged with a', () => same(sa, sb));
    });

    it('READONLY (a replica after a failover) counts as refused too', async () => {
      const sa = new CoreSink(SNODE);
      const a = await start(sa);
      await a.whenReady(5000);
      hub.refuseWrites("READONLY You can't write against a read only replica.");
      const r = await rejection(accept(a, sa, 0, net.reset(0, Date.now())));
      expect(r.code).to.equal('RS_ERR_CLUSTER_NOT_DURABLE');
      expect(a.status().lastWriteFailure?.reason).to.equal('readonly');
      expect(clusterReadiness(a.status()).ok).to.equal(false);
    });

    it('with the bus away: not applied, not acknowledged, not ready', async () => {
      const sa = new CoreSink(SNODE);
      const a = await start(sa);
      await a.whenReady(5000);
      hub.setAvailable(false);
      await eventually('a sees the bus down', () => !a.status().connected);
      const r = await rejection(accept(a, sa, 0, net.reset(0, Date.now())));
      expect(r.code).to.equal('RS_ERR_CLUSTER_NOT_DURABLE');
      expect(sa.state().stateHashes.size, 'nothing applied').to.equal(0);
      expect(clusterReadiness(a.status())).to.deep.include({ ok: false });
      hub.setAvailable(true);
      await eventually('a writable again', () => a.status().writable);
    });
  });

  it("never stores a node's later append while its earlier one failed", async () => {
    // a bus whose appends the test settles by hand, in any order
    const inner = new MemoryClusterBus(hub);
    const pending: Array<{
      input: ClusterAppend;
      resolve: (id: string) => void;
      reject: (e: Error) => void;
    }> = [];
    const manual: ClusterBus = {
      kind: 'memory',
      start: (ev: ClusterBusEvents) => inner.start(ev),
      connected: () => inner.connected(),
      append: (input) => new Promise((resolve, reject) => pending.push({ input, resolve, reject })),
      readAfter: (a, c) => inner.readAfter(a, c),
      info: () => inner.info(),
      snapshots: (n) => inner.snapshots(n),
      snapshotId: (ip) => inner.snapshotId(ip),
      close: () => inner.close(),
    };
    const sa = new CoreSink(SNODE);
    const a = await start(sa, { bus: manual });
    await a.whenReady(5000);
    const ip0 = net.nodes[0]!.ipv6;
    const ip1 = net.nodes[1]!.ipv6;
    const r0 = net.reset(0, Date.now());
    await sa.local(r0);
    const p1 = a.publishAccepted(r0, ip0);
    const u0 = net.update(0, Date.now());
    await sa.local(u0);
    const p2 = a.publishAccepted(u0, ip0);
    const r1 = net.reset(1, Date.now());
    await sa.local(r1);
    const p3 = a.publishAccepted(r1, ip1);
    // node 1 goes out at once; node 0's second append waits for its first
    await eventually('two appends issued', () => pending.length === 2);
    expect(pending.map((p) => p.input.nodeIp)).to.deep.equal([ip0, ip1]);
    pending[1]!.resolve(await inner.append(pending[1]!.input));
    pending[0]!.reject(new Error("OOM command not allowed when used memory > 'maxmemory'."));
    expect(await p1).to.include({ durable: false, reason: 'write_failed', error: 'oom' });
    expect(await p2).to.include({ durable: false, reason: 'write_failed' });
    expect((await p3).durable).to.equal(true);
    expect(
      pending.slice(0, 2).map((p) => p.input.nodeIp),
      "node 0's second append was never issued on its own",
    ).to.deep.equal([ip0, ip1]);
    // the flush re-publishes node 0's entries in their order: let the rest through
    for (let settled = 2; !a.status().writable; await new Promise((r) => setTimeout(r, 5))) {
      for (; settled < pending.length; settled++)
        pending[settled]!.resolve(await inner.append(pending[settled]!.input));
    }
    const order = (await inner.readAfter('0-0', 100))
      .map((e) => decodeClusterEnvelope(e.envelope))
      .filter((e) => e.nodeIp === ip0 && e.kind === 'ann');
    expect(order.map((e) => e.seq)).to.deep.equal([1, 2]);
  });

  it('publishes again what Redis lost of its durable entries when Redis comes back from an older copy', async () => {
    const sa = new CoreSink(SNODE);
    const sb = new CoreSink(SNODE);
    const aBus = new MemoryClusterBus(hub);
    // a's position only moves with live frames (no anti-entropy tick during the test)
    const a = await start(sa, { name: 'a', bus: aBus, antiEntropyIntervalMs: 600_000 });
    const b = await start(sb, { name: 'b' });
    await a.whenReady(5000);
    await b.whenReady(5000);
    for (let i = 0; i < 4; i++) await accept(a, sa, i, net.reset(i, Date.now()));
    for (let i = 4; i < 7; i++) await accept(b, sb, i, net.reset(i, Date.now()));
    await eventually('a and b agree', () => same(sa, sb));
    const copy = hub.checkpoint(); // what a lagging replica holds
    // a makes more durable (and acknowledged); its own frames are lost (a's position stays
    // before them), b reads them from the record
    hub.dropNextFrames(4);
    for (let i = 0; i < 4; i++) await accept(a, sa, i, net.update(i, Date.now()));
    await eventually('a and b agree', () => same(sa, sb));
    // the primary dies; the replica with the older copy takes over; b reconnects and appends
    // first (newer ids), a only then: Redis' newest id is past a's position, a's own entries gone
    aBus.setLink(false);
    hub.setAvailable(false);
    hub.restore(copy);
    hub.setAvailable(true);
    await eventually('b writable', () => b.status().writable);
    await accept(b, sb, 5, net.update(5, Date.now()));
    aBus.setLink(true);
    // a fresh process built from Redis alone must see everything acknowledged
    const sc = new CoreSink(SNODE);
    const c = await start(sc, { name: 'c' });
    await c.whenReady(5000);
    await eventually('c has what a acknowledged', () => same(sa, sc));
    await eventually('b agrees', () => same(sa, sb));
  });

  describe('a node announcing before this process caught up', () => {
    /**
     * Processes a (on `aBus`, else the hub) and b, ready; a hears of b's entries only through
     * live frames or a catch-up (no anti-entropy tick during the test). `send` has a process
     * accept node 0's announcement and tells whether its stateHash is the model's.
     */
    async function twoProcesses(aBus?: ClusterBus): Promise<{
      a: ClusterActor;
      b: ClusterActor;
      sa: CoreSink;
      sb: CoreSink;
      model: CoreSink;
      send: (p: ClusterActor, sink: CoreSink, bytes: Uint8Array) => Promise<boolean>;
    }> {
      const sa = new CoreSink(SNODE);
      const sb = new CoreSink(SNODE);
      const a = await start(sa, {
        name: 'a',
        antiEntropyIntervalMs: 600_000,
        ...(aBus ? { bus: aBus } : {}),
      });
      const b = await start(sb, { name: 'b' });
      await a.whenReady(5000);
      await b.whenReady(5000);
      const model = new CoreSink(SNODE);
      const send = async (p: ClusterActor, sink: CoreSink, bytes: Uint8Array): Promise<boolean> => {
        const want = (await model.local(bytes)).stateHash;
        return (await accept(p, sink, 0, bytes)) === want;
      };
      return { a, b, sa, sb, model, send };
    }

    it('catches up on a node another process changed since, even one this process changed before (the node came back after a failover)', async () => {
      const { a, b, sa, sb, send } = await twoProcesses();
      expect(await send(a, sa, net.reset(0, Date.now())), 'a: reset').to.equal(true);
      expect(await send(a, sa, net.update(0, Date.now())), 'a: update').to.equal(true);
      await eventually('b has node 0', () => same(sa, sb));
      // a is unreachable for a moment: node 0 goes to b, whose frames a misses
      hub.dropNextFrames(2);
      expect(await send(b, sb, net.update(0, Date.now())), 'b: update').to.equal(true);
      expect(await send(b, sb, net.update(0, Date.now())), 'b: update').to.equal(true);
      // node 0 comes back to a, which changed it last as far as it has seen
      expect(
        await send(a, sa, net.update(0, Date.now())),
        'a continues the chain b extended',
      ).to.equal(true);
      await eventually('a and b agree', () => same(sa, sb));
    });

    /**
     * a applies u1 of node 0 but Redis refuses its append (answering only once b has moved on);
     * the node sends u1 again to b, then u2 (both acknowledged), and a misses their frames; a then
     * re-publishes its backlog (u1 again, after b's entries) without having read b's u2.
     */
    async function backlogBehindAnotherProcess(): Promise<{
      a: ClusterActor;
      sa: CoreSink;
      sb: CoreSink;
      model: CoreSink;
      /** the record id of b's u2 */
      u2Id: string;
      u2: Uint8Array;
      send: (p: ClusterActor, sink: CoreSink, bytes: Uint8Array) => Promise<boolean>;
    }> {
      // a's appends wait for the test: the first one is refused once b has moved on
      const inner = new MemoryClusterBus(hub);
      let refuseNext = false;
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const gated: ClusterBus = {
        kind: 'memory',
        start: (ev: ClusterBusEvents) => inner.start(ev),
        connected: () => inner.connected(),
        append: async (input) => {
          if (refuseNext) {
            refuseNext = false;
            await released;
            throw new Error("OOM command not allowed when used memory > 'maxmemory'.");
          }
          return inner.append(input);
        },
        readAfter: (x, n) => inner.readAfter(x, n),
        info: () => inner.info(),
        snapshots: (n) => inner.snapshots(n),
        snapshotId: (ip) => inner.snapshotId(ip),
        close: () => inner.close(),
      };
      const { a, b, sa, sb, model, send } = await twoProcesses(gated);
      expect(await send(a, sa, net.reset(0, Date.now())), 'a: reset').to.equal(true);
      await eventually('b has node 0', () => same(sa, sb));
      refuseNext = true;
      const u1 = net.update(0, Date.now());
      const notAcked = rejection(accept(a, sa, 0, u1));
      hub.dropNextFrames(2);
      expect(await send(b, sb, u1), 'b: u1').to.equal(true);
      const u2 = net.update(0, Date.now());
      expect(await send(b, sb, u2), 'b: u2').to.equal(true);
      const u2Id = hub.info().lastId;
      release();
      expect((await notAcked).code).to.equal('RS_ERR_CLUSTER_NOT_DURABLE');
      await eventually('a writable again', () => a.status().writable);
      expect(compareStreamIds(hub.info().lastId, u2Id), 'a re-published u1').to.equal(1);
      return { a, sa, sb, model, u2Id, u2, send };
    }

    it("catches up on a node another process changed while this one held the node's unacknowledged announcement in its backlog (the backlog's re-publication reflects only what this process read)", async () => {
      const { a, sa, sb, send } = await backlogBehindAnotherProcess();
      // the node comes back to a: a must read b's u2 before applying u3
      expect(
        await send(a, sa, net.update(0, Date.now())),
        'a continues the chain b extended',
      ).to.equal(true);
      await eventually('a and b agree', () => same(sa, sb));
    });

    it("keeps the node's snapshot that another process wrote meanwhile when re-publishing the backlog: a process started from snapshots holds what was acknowledged", async () => {
      const { model, u2Id, u2 } = await backlogBehindAnotherProcess();
      const ip0 = net.nodes[0]!.ipv6;
      // a's re-published entry is in the record, but the node's snapshot is still b's, with u2
      expect(hub.snapshotId(ip0)).to.equal(u2Id);
      const snap = hub.snapshotList().find((x) => x.nodeIp === ip0)!;
      const env = decodeClusterEnvelope(snap.envelope);
      if (env.kind !== 'snapshot') throw new Error(`a ${env.kind} envelope in the snapshot key`);
      expect(env.keptOldestFirst.some((x) => bytesEqual(x, u2))).to.equal(true);
      // a process that starts from the snapshots (the record was trimmed)
      hub.trim(1);
      const sc = new CoreSink(SNODE);
      const c = await start(sc, { name: 'c' });
      await c.whenReady(5000);
      expect(c.status().resyncs, 'c rebuilt from the snapshots').to.equal(1);
      expect(sc.state().stateHashes.get(ip0)).to.equal(model.state().stateHashes.get(ip0));
      expect(same(sc, model), 'c holds the reset, u1 and u2 as the node does').to.equal(true);
    });

    it('waits (RS_ERR_CLUSTER_CATCHING_UP, not applied) while the startup catch-up is slower than catchUpTimeoutMs, then continues the stateHash', async () => {
      const sa = new CoreSink(SNODE);
      const a = await start(sa, { name: 'a' });
      await a.whenReady(5000);
      const model = new CoreSink(SNODE);
      for (let k = 0; k < 3; k++) {
        const bytes = k === 0 ? net.reset(0, Date.now()) : net.update(0, Date.now());
        await model.local(bytes);
        await accept(a, sa, 0, bytes);
      }
      // b starts; its catch-up is stuck applying the record (a long record, a slow process)
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const sb = new CoreSink(SNODE);
      const slow: ClusterActorSink = {
        applyRemote: async (bytes) => {
          await gate;
          await sb.applyRemote(bytes);
        },
        nodeSnapshot: (ip) => sb.nodeSnapshot(ip),
      };
      const b = await start(slow, { name: 'b', catchUpTimeoutMs: 30 });
      // node 0 fails over to b (a died) and sends its next announcement
      const next = net.update(0, Date.now());
      const r = await rejection(accept(b, sb, 0, next));
      expect(r.code).to.equal('RS_ERR_CLUSTER_CATCHING_UP');
      expect(sb.state().stateHashes.size, 'nothing applied out of order').to.equal(0);
      open();
      expect(await b.whenReady(5000)).to.equal(true);
      // the node sends it again: now it continues the chain
      const want = (await model.local(next)).stateHash;
      expect(await accept(b, sb, 0, next)).to.equal(want);
      await eventually('a and b agree', () => same(sa, sb));
    });

    it("refuses a failed-over node's announcement while the bus is away instead of applying it on a stale record", async () => {
      const sa = new CoreSink(SNODE);
      const sb = new CoreSink(SNODE);
      const a = await start(sa, { name: 'a' });
      const b = await start(sb, { name: 'b' });
      await a.whenReady(5000);
      await b.whenReady(5000);
      await accept(a, sa, 0, net.reset(0, Date.now()));
      await eventually('b has node 0', () => same(sa, sb));
      hub.setAvailable(false);
      await eventually('b sees the bus down', () => !b.status().connected);
      const r = await rejection(accept(b, sb, 0, net.update(0, Date.now())));
      expect(r.code).to.equal('RS_ERR_CLUSTER_NOT_DURABLE');
    });
  });
});

type ClusterActorSink = Parameters<typeof ClusterActor.start>[0]['sink'];
