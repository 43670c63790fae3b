/**
 * The follower's delta path end to end, on the in-memory bus with the cluster key: a process
 * catching up on a record of DELTA entries — batch reads, each envelope's tag checked, the delta
 * installed without a parse — ends with the bytes and records of the process that accepted them;
 * an entry in the middle of a batch that was not sealed with the key is refused and counted, and
 * every other entry of the batch is applied.
 */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ClusterActor } from '../../../src/cluster/cluster-actor.ts';
import {
  EnvelopeAuth,
  generateClusterKey,
  parseClusterKey,
} from '../../../src/cluster/envelope-auth.ts';
import { MemoryClusterBus, MemoryClusterHub } from '../../../src/cluster/memory-bus.ts';
import { routeServerSink } from '../../../src/cluster/sink.ts';
import { encodeClusterEnvelope } from '../../../src/protocol/cluster-envelope.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import type { ManualClock } from '../../../src/lib/clock.ts';
import type { RouteServer } from '../../../src/server/route-server.ts';
import {
  Announcer,
  NODES,
  homeProcess,
  state,
  type Op,
  type Published,
} from '../../helpers/cluster-delta-fixtures.ts';
import { fastServer } from '../../helpers/fast-server.ts';

async function counted(registry: Registry, metric: string, result: string): Promise<number> {
  const m = await registry.getSingleMetric(metric)?.get();
  return m?.values.filter((v) => v.labels.result === result).reduce((a, v) => a + v.value, 0) ?? 0;
}

describe('record follower: DELTA entries read in batches (memory bus, cluster key)', function () {
  this.timeout(30_000);
  const key = parseClusterKey(generateClusterKey());
  const seal = new EnvelopeAuth(key);
  const servers: RouteServer[] = [];
  const actors: ClusterActor[] = [];

  afterEach(async () => {
    await Promise.all(actors.splice(0).map((a) => a.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  /** The home process accepts `ops` (nodes 0–3 only); what it published, in order. */
  async function published(
    ops: Op[],
  ): Promise<{ home: ReturnType<typeof homeProcess>; out: Published[] }> {
    const home = homeProcess();
    servers.push(home.server);
    const ann = new Announcer(home.now);
    for (const op of ops) {
      home.advance(1000);
      const r = await home.server.submitAnnouncement(ann.build(op), 'node');
      expect(r.error, `${op.kind} of node ${op.node}`).to.equal('none');
    }
    return { home, out: home.published };
  }

  function deltaEnvelope(p: Published, seq: number, sealWith = seal): Uint8Array {
    return sealWith.seal(
      encodeClusterEnvelope({
        kind: 'delta',
        origin: 'home',
        seq,
        acceptedAtMs: Date.now(),
        nodeIp: p.nodeIp,
        ann: p.bytes,
        delta: p.delta!,
      }),
    );
  }

  async function follower(
    hub: MemoryClusterHub,
    clock: ManualClock,
  ): Promise<{ server: RouteServer; registry: Registry }> {
    const { server } = fastServer({ clock });
    servers.push(server);
    const registry = new Registry();
    const actor = await ClusterActor.start({
      bus: new MemoryClusterBus(hub),
      sink: routeServerSink(server),
      key,
      registry,
      readBatch: 8,
      antiEntropyIntervalMs: 60_000,
    });
    actors.push(actor);
    expect(await actor.whenReady(10_000), 'caught up').to.equal(true);
    return { server, registry };
  }

  const ops: Op[] = [
    { kind: 'reset', node: 0, peers: [1, 2, 3] },
    { kind: 'reset', node: 1, peers: [0, 2] },
    { kind: 'reset', node: 2, peers: [0, 1, 3] },
    { kind: 'reset', node: 3, peers: [0, 2] },
    { kind: 'linkState', node: 0, slot: 0, samples: [[10, 0, 100]] },
    { kind: 'peer', node: 1, peer: 3, slot: 2, mtu: 9 },
    { kind: 'linkState', node: 2, slot: 1, samples: [[20, 1, 50]] },
    { kind: 'linkState', node: 0, slot: 1, samples: [[5, 0, 10]] },
    { kind: 'withdraw', node: 2, peer: 3, slot: 2 },
    { kind: 'linkState', node: 3, slot: 0, samples: [[7, 0, 70]] },
    { kind: 'peer', node: 0, peer: 1, slot: 3, mtu: 20 },
    { kind: 'linkState', node: 1, slot: 0, samples: [[9, 2, 90]] },
  ];

  it('installs every delta of the record and ends with the origin’s records and bytes', async () => {
    const { home, out } = await published(ops);
    const hub = new MemoryClusterHub();
    const writer = new MemoryClusterBus(hub);
    for (const [i, p] of out.entries())
      await writer.append({ envelope: deltaEnvelope(p, i + 1), nodeIp: p.nodeIp });
    const { server, registry } = await follower(hub, home.clock);
    expect(await counted(registry, 'snode_cluster_deltas_total', 'delta')).to.equal(out.length);
    expect(state(server)).to.deep.equal(state(home.server));
    expect(Buffer.from(server.views.dump()).equals(Buffer.from(home.server.views.dump()))).to.equal(
      true,
    );
  });

  it('refuses an entry inside a batch that the key did not seal, and applies the rest of the batch', async () => {
    // the forged entry: a real, signed announcement of node 5, which the home process never
    // accepted — applied, it would give the follower a node the origin does not have
    const { home, out } = await published(ops);
    const other = homeProcess();
    servers.push(other.server);
    other.clock.set(home.clock.now());
    await other.server.submitAnnouncement(
      new Announcer(other.now).build({ kind: 'reset', node: 5, peers: [0] }),
      'node',
    );
    const forged = other.published[0]!;
    const hub = new MemoryClusterHub();
    const writer = new MemoryClusterBus(hub);
    const wrongKey = new EnvelopeAuth(parseClusterKey(generateClusterKey()));
    let seq = 1;
    for (const [i, p] of out.entries()) {
      if (i === 5)
        // in the middle of the follower's first batch of 8 (and a bare envelope in the second)
        await writer.append({
          envelope: deltaEnvelope(forged, 1000, wrongKey),
          nodeIp: forged.nodeIp,
        });
      if (i === 9)
        await writer.append({
          envelope: encodeClusterEnvelope({
            kind: 'ann',
            origin: 'home',
            seq: 1001,
            acceptedAtMs: Date.now(),
            nodeIp: forged.nodeIp,
            ann: forged.bytes,
          }),
          nodeIp: forged.nodeIp,
        });
      await writer.append({ envelope: deltaEnvelope(p, seq++), nodeIp: p.nodeIp });
    }
    const { server, registry } = await follower(hub, home.clock);
    expect(await counted(registry, 'snode_cluster_applied_total', 'unauthenticated')).to.equal(2);
    expect(await counted(registry, 'snode_cluster_deltas_total', 'delta')).to.equal(out.length);
    expect(server.nodes.get(NODES[5]!.ipv6), 'the forged node').to.equal(undefined);
    expect(state(server)).to.deep.equal(state(home.server));
  });

  it('keeps its own copy of the bytes: the buffer the entry was read from can be reused', async () => {
    const { home, out } = await published(ops.slice(0, 6));
    const { server } = fastServer({ clock: home.clock });
    servers.push(server);
    for (const p of out) {
      // the announcement and the delta as views of one envelope buffer, as the decoder gives them
      const buf = new Uint8Array(p.bytes.length + p.delta!.length);
      buf.set(p.bytes, 0);
      buf.set(p.delta!, p.bytes.length);
      const r = await server.applyClusterDelta(
        buf.subarray(0, p.bytes.length),
        buf.subarray(p.bytes.length),
        p.nodeIp,
      );
      expect(r).to.equal('delta');
      buf.fill(0);
    }
    for (const p of out) {
      const kept = server.nodes.get(p.nodeIp)!.announcements.map((a) => bytesToHex(a.binary));
      expect(kept).to.include(bytesToHex(p.bytes));
    }
    expect(Buffer.from(server.views.dump()).equals(Buffer.from(home.server.views.dump()))).to.equal(
      true,
    );
  });
});
