/**
 * The cluster actor over the in-memory bus: several simulated processes (each a CoreSink — the
 * real graph core with the "cluster" apply mode) on one MemoryClusterHub standing in for Redis.
 * Every recovery path: gaps, duplicates, startup catch-up, trimmed record, bus outage with a
 * bounded backlog, backlog overflow, failover, Redis data loss.
 */
import { expect } from 'chai';
import { ClusterActor, type PublishResult } from '../../../src/cluster/cluster-actor.ts';
import { MemoryClusterBus, MemoryClusterHub } from '../../../src/cluster/memory-bus.ts';
import {
  decodeClusterEnvelope,
  encodeClusterEnvelope,
} from '../../../src/protocol/cluster-envelope.ts';
import {
  CoreSink,
  RecordingSink,
  TreeNetwork,
  eventually,
  fcIdentities,
} from '../../helpers/cluster-fixtures.ts';

const SNODE = fcIdentities(1, 99)[0]!.ipv6;

interface Proc {
  readonly sink: CoreSink;
  readonly actor: ClusterActor;
}

describe('cluster actor (memory bus)', () => {
  let hub: MemoryClusterHub;
  let net: TreeNetwork;
  const started: ClusterActor[] = [];

  async function proc(
    opts: { backlogLimit?: number; name?: string; antiEntropyIntervalMs?: number } = {},
  ): Promise<Proc> {
    const sink = new CoreSink(SNODE);
    const actor = await ClusterActor.start({
      bus: new MemoryClusterBus(hub),
      sink,
      origin: opts.name,
      antiEntropyIntervalMs: opts.antiEntropyIntervalMs ?? 50,
      backlogLimit: opts.backlogLimit,
    });
    started.push(actor);
    return { sink, actor };
  }

  /** what the route server does for an announcement from the node itself */
  /** `inFlight`: applied before the bus went away (the catch-up check passed): straight to publish */
  async function ingest(
    p: Proc,
    nodeIndex: number,
    bytes: Uint8Array,
    inFlight = false,
  ): Promise<{ stateHash: string; publish: PublishResult }> {
    const ip = net.nodes[nodeIndex]!.ipv6;
    if (!inFlight) await p.actor.catchUpBeforeLocalApply(ip);
    const r = await p.sink.local(bytes);
    expect(r.error, 'local apply').to.equal('none');
    const publish = await p.actor.publishAccepted(bytes, ip);
    return { stateHash: r.stateHash, publish };
  }

  async function ingestRound(
    p: Proc,
    nodes: number[],
    kind: 'reset' | 'update',
    inFlight = false,
  ): Promise<PublishResult[]> {
    const out: PublishResult[] = [];
    for (const i of nodes)
      out.push(
        (
          await ingest(
            p,
            i,
            kind === 'reset' ? net.reset(i, Date.now()) : net.update(i, Date.now()),
            inFlight,
          )
        ).publish,
      );
    return out;
  }

  function sameState(a: CoreSink, b: CoreSink): boolean {
    const x = a.state();
    const y = b.state();
    if (x.kept.size !== y.kept.size || x.stateHashes.size !== y.stateHashes.size) return false;
    for (const h of x.kept) if (!y.kept.has(h)) return false;
    for (const [ip, h] of x.stateHashes) if (y.stateHashes.get(ip) !== h) return false;
    return true;
  }

  async function converged(a: Proc, b: Proc, what = 'convergence'): Promise<void> {
    await eventually(what, () => sameState(a.sink, b.sink));
    expect(b.sink.state().stateHashes).to.deep.equal(a.sink.state().stateHashes);
  }

  const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

  beforeEach(() => {
    hub = new MemoryClusterHub();
    net = new TreeNetwork(7, SNODE);
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((a) => a.close()));
  });

  describe('#publishAccepted()', () => {
    it('makes an announcement durable and applies it in every other process, in order', async () => {
      const a = await proc();
      const b = await proc();
      const rec = new RecordingSink();
      started.push(
        await ClusterActor.start({
          bus: new MemoryClusterBus(hub),
          sink: rec,
          antiEntropyIntervalMs: 50,
        }),
      );
      const results = [
        ...(await ingestRound(a, all(7), 'reset')),
        ...(await ingestRound(a, all(7), 'update')),
        ...(await ingestRound(a, [0, 0, 1, 1], 'update')),
      ];
      for (const r of results) expect(r.durable).to.equal(true);
      await converged(a, b);
      await eventually(
        'recording sink saw every entry',
        () => rec.applied.length === results.length,
      );
      // record order = the origin's order (for one origin, per-origin seq order)
      expect(hub.length).to.equal(results.length);
      expect(a.sink.remoteApplied, 'own entries are not re-applied').to.equal(0);
      expect(b.actor.status()).to.include({
        ready: true,
        connected: true,
        backlog: 0,
        appliedRemote: results.length,
      });
    });

    it('publishes from several origins and every process converges', async () => {
      const a = await proc();
      const b = await proc();
      const c = await proc();
      await ingestRound(a, [0, 1, 2], 'reset');
      await ingestRound(b, [3, 4], 'reset');
      await ingestRound(c, [5, 6], 'reset');
      await ingestRound(a, [0, 1, 2, 0], 'update');
      await ingestRound(b, [3, 4, 3], 'update');
      await converged(a, b);
      await converged(a, c);
    });
  });

  describe('gap repair', () => {
    it('detects missed frames from the chain of ids and reads them from the record', async () => {
      const a = await proc();
      const b = await proc({ antiEntropyIntervalMs: 60_000 }); // only the chain can notice
      await ingestRound(a, all(7), 'reset');
      await converged(a, b);
      hub.dropNextFrames(4);
      await ingestRound(a, [0, 1, 2, 3, 4], 'update'); // the last frame arrives with a broken chain
      await converged(a, b, 'repair after a gap');
      expect(b.actor.status().gapsRepaired).to.be.greaterThan(0);
    });

    it('repairs a silent loss (no later frame) on the anti-entropy tick', async () => {
      const a = await proc();
      const b = await proc();
      await ingestRound(a, all(7), 'reset');
      hub.dropNextFrames(3);
      await ingestRound(a, [4, 5, 6], 'update');
      await converged(a, b, 'anti-entropy repair');
    });

    it('applies an entry published twice (reply lost, re-published) only once', async () => {
      const rec = new RecordingSink();
      started.push(
        await ClusterActor.start({
          bus: new MemoryClusterBus(hub),
          sink: rec,
          antiEntropyIntervalMs: 50,
        }),
      );
      const bytes = net.reset(0, Date.now());
      const envelope = encodeClusterEnvelope({
        kind: 'ann',
        origin: 'other',
        seq: 1,
        acceptedAtMs: Date.now(),
        nodeIp: net.nodes[0]!.ipv6,
        ann: bytes,
      });
      const bus = new MemoryClusterBus(hub);
      await bus.append({ envelope, nodeIp: net.nodes[0]!.ipv6 });
      await bus.append({ envelope, nodeIp: net.nodes[0]!.ipv6 });
      await bus.append({
        envelope: encodeClusterEnvelope({
          kind: 'ann',
          origin: 'other',
          seq: 2,
          acceptedAtMs: Date.now(),
          nodeIp: net.nodes[1]!.ipv6,
          ann: net.reset(1, Date.now()),
        }),
        nodeIp: net.nodes[1]!.ipv6,
      });
      await eventually('second entry applied', () => rec.applied.length >= 2);
      expect(rec.applied).to.have.length(2);
    });

    it('reflects the id of an entry published again (a write reported failed but stored): the node is not stuck waiting for it', async () => {
      const rec = new RecordingSink();
      const actor = await ClusterActor.start({
        bus: new MemoryClusterBus(hub),
        sink: rec,
        antiEntropyIntervalMs: 50,
        catchUpTimeoutMs: 2000,
      });
      started.push(actor);
      expect(await actor.whenReady(5000)).to.equal(true);
      const ip = net.nodes[0]!.ipv6;
      const bytes = net.reset(0, Date.now());
      const envelope = encodeClusterEnvelope({
        kind: 'ann',
        origin: 'other',
        seq: 1,
        acceptedAtMs: Date.now(),
        nodeIp: ip,
        ann: bytes,
      });
      const snapshot = encodeClusterEnvelope({
        kind: 'snapshot',
        origin: 'other',
        seq: 1,
        acceptedAtMs: Date.now(),
        nodeIp: ip,
        resetMsg: bytes,
        keptOldestFirst: [],
      });
      const bus = new MemoryClusterBus(hub);
      await bus.append({ envelope, nodeIp: ip, snapshot });
      // the re-publication: the same envelope under a newer id, which the node's snapshot now names
      const second = await bus.append({ envelope, nodeIp: ip, snapshot });
      expect(await bus.snapshotId(ip)).to.equal(second);
      await eventually('applied once', () => rec.applied.length >= 1);
      // this process now takes the node (failover): it must not wait for an entry it already holds
      await actor.catchUpBeforeLocalApply(ip);
      expect(rec.applied).to.have.length(1);
    });
  });

  describe('startup catch-up', () => {
    it('replays the record before it reports ready', async () => {
      const a = await proc();
      await ingestRound(a, all(7), 'reset');
      await ingestRound(a, all(7), 'update');
      const c = await proc();
      expect(await c.actor.whenReady(5000)).to.equal(true);
      expect(sameState(a.sink, c.sink), 'caught up when ready').to.equal(true);
    });

    it('rebuilds every node from its snapshot when the record was trimmed', async () => {
      const a = await proc();
      await ingestRound(a, all(7), 'reset');
      for (let k = 0; k < 3; k++) await ingestRound(a, all(7), 'update');
      hub.trim(2);
      const c = await proc();
      expect(await c.actor.whenReady(5000)).to.equal(true);
      expect(c.actor.status().resyncs).to.be.greaterThan(0);
      expect(sameState(a.sink, c.sink), 'same kept sets and stateHash from snapshots').to.equal(
        true,
      );
      // and it keeps following afterwards
      await ingestRound(a, [2, 3], 'update');
      await converged(a, c);
    });

    it('falls back to the snapshots when the record was trimmed past its position', async () => {
      const a = await proc();
      const b = await proc();
      await ingestRound(a, all(7), 'reset');
      await converged(a, b);
      hub.setAvailable(false); // b stops hearing anything
      hub.setAvailable(true);
      hub.dropNextFrames(1_000);
      await ingestRound(a, all(7), 'update');
      await ingestRound(a, all(7), 'update');
      hub.trim(1);
      await converged(a, b, 'resync from snapshots after trimming');
    });
  });

  describe('bus outage', () => {
    it('keeps what it applied before the bus went away in a bounded backlog (never acknowledged), says so, and converges when the bus returns', async () => {
      const a = await proc();
      const b = await proc();
      await ingestRound(a, all(7), 'reset');
      await converged(a, b);
      hub.setAvailable(false);
      await eventually('a sees the bus down', () => !a.actor.status().connected);
      const results = await ingestRound(a, all(7), 'update', true);
      for (const r of results) expect(r).to.include({ durable: false, reason: 'bus_unavailable' });
      expect(a.actor.status().backlog).to.equal(7);
      hub.setAvailable(true);
      await converged(a, b, 'convergence after the outage');
      expect(a.actor.status().backlog).to.equal(0);
    });

    it('re-publishes nodes as snapshots when the backlog overflowed', async () => {
      const a = await proc({ backlogLimit: 3 });
      const b = await proc();
      await ingestRound(a, all(7), 'reset');
      await converged(a, b);
      hub.setAvailable(false);
      await eventually('a sees the bus down', () => !a.actor.status().connected);
      const results = await ingestRound(a, all(7), 'update', true);
      expect(results.filter((r) => !r.durable && r.reason === 'backlog_full')).to.have.length(4);
      expect(a.actor.status().dirtyNodes).to.equal(4);
      hub.setAvailable(true);
      await converged(a, b, 'convergence after an overflow');
      expect(a.actor.status()).to.include({ backlog: 0, dirtyNodes: 0 });
    });

    it('re-publishes the nodes it changed last when Redis lost its data', async () => {
      const a = await proc();
      await ingestRound(a, all(7), 'reset');
      await ingestRound(a, [1, 2], 'update');
      hub.setAvailable(false);
      hub.wipe();
      hub.setAvailable(true);
      await eventually('a re-published its nodes', () => hub.length >= 7);
      const c = await proc();
      expect(await c.actor.whenReady(5000)).to.equal(true);
      await converged(a, c, 'a fresh process rebuilt from the re-published snapshots');
    });
  });

  describe('back-pressure', () => {
    it('publishes in call order even when the mailbox is full', async () => {
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const blocked = {
        applied: 0,
        async applyRemote(): Promise<void> {
          await gate; // the actor is stuck applying a remote entry
          this.applied++;
        },
        nodeSnapshot: () => undefined,
      };
      // the smallest mailbox: 1024 slots for callers (the rest is reserved), so 476 calls wait in line
      const a = await ClusterActor.start({
        bus: new MemoryClusterBus(hub),
        sink: blocked,
        origin: 'a',
        antiEntropyIntervalMs: 60_000,
        mailboxLimit: 2048,
      });
      started.push(a);
      const b = await proc({ name: 'b' });
      await a.whenReady(5000);
      await ingestRound(b, [0], 'reset'); // a starts applying it and blocks
      await eventually('a is blocked', () => hub.length === 1);
      const ip = net.nodes[1]!.ipv6;
      const calls = Array.from({ length: 1500 }, (_, k) =>
        a.publishAccepted(new Uint8Array(120).fill(k & 0xff), ip),
      );
      await new Promise((r) => setTimeout(r, 50));
      open();
      const results = await Promise.all(calls);
      expect(results.every((r) => r.durable)).to.equal(true);
      const seqs: number[] = [];
      for (const e of await new MemoryClusterBus(hub).readAfter('0-0', 10_000)) {
        const env = decodeClusterEnvelope(e.envelope);
        if (env.origin === 'a') seqs.push(env.seq);
      }
      expect(seqs).to.deep.equal(Array.from({ length: 1500 }, (_, k) => k + 1));
    });
  });

  describe('#catchUpBeforeLocalApply()', () => {
    it('catches a failed-over node up first, so its stateHash continues', async () => {
      const a = await proc();
      const b = await proc();
      const model = new CoreSink(SNODE); // the node's own view: every announcement it sent, in order
      const send = async (p: Proc, i: number, bytes: Uint8Array): Promise<string> => {
        const expected = (await model.local(bytes)).stateHash;
        const { stateHash } = await ingest(p, i, bytes);
        return stateHash === expected ? 'continuous' : 'diverged';
      };
      expect(await send(a, 0, net.reset(0, Date.now()))).to.equal('continuous');
      expect(await send(a, 0, net.update(0, Date.now()))).to.equal('continuous');
      await converged(a, b);
      hub.dropNextFrames(2); // b misses a's last two announcements of node 0
      expect(await send(a, 0, net.update(0, Date.now()))).to.equal('continuous');
      expect(await send(a, 0, net.update(0, Date.now()))).to.equal('continuous');
      // a fails; node 0 now talks to b, which must first read what it missed
      expect(await send(b, 0, net.update(0, Date.now()))).to.equal('continuous');
      expect(await send(b, 0, net.update(0, Date.now()))).to.equal('continuous');
      await converged(b, a);
    });

    it('returns at once for a node this process changed last', async () => {
      const a = await proc();
      await ingestRound(a, [0], 'reset');
      const t0 = process.hrtime.bigint();
      await a.actor.catchUpBeforeLocalApply(net.nodes[0]!.ipv6);
      expect(Number(process.hrtime.bigint() - t0) / 1e6).to.be.lessThan(50);
    });
  });

  describe('#status()', () => {
    it('lists the other processes seen on the bus, most recently active first', async () => {
      const a = await proc({ name: 'proc-a' });
      const b = await proc({ name: 'proc-b' });
      const c = await proc({ name: 'proc-c' });
      await ingestRound(a, [0, 1], 'reset');
      await ingestRound(b, [2], 'reset');
      await converged(a, c);
      await converged(b, c);
      const seen = c.actor.status().processes;
      expect(seen.map((p) => [p.origin, p.entries])).to.deep.equal([
        ['proc-b', 1],
        ['proc-a', 2],
      ]);
      for (const p of seen) expect(p.lastAcceptedAt).to.be.greaterThan(0);
      expect(a.actor.status().processes.map((p) => p.origin)).to.deep.equal(['proc-b']);
    });

    it('reports not ready until the startup catch-up is done', async () => {
      hub.setAvailable(false);
      const a = await proc();
      await new Promise((r) => setTimeout(r, 100));
      expect(a.actor.status()).to.include({ ready: false, connected: false, bus: 'memory' });
      hub.setAvailable(true);
      expect(await a.actor.whenReady(5000)).to.equal(true);
      expect(a.actor.status()).to.include({ ready: true, connected: true });
    });
  });
});
