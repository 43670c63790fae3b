/**
 * The cluster bus on Redis Sentinel (docs/cluster.md, "Redis Sentinel"): a real redis-server
 * primary and replica and three real redis-sentinel processes on loopback; simulated route-server
 * processes in this test process (each a route server behind the production sink, with its own
 * RedisClusterBus that finds the primary through the sentinels). The primary is killed -9 under
 * load; the sentinels promote the replica; the processes follow it.
 *
 * The guarantee (docs/cluster.md, "The guarantee") must hold:
 *  - waitReplicas 0: an acknowledged entry may be missing from the promoted replica (replication
 *    is asynchronous: the primary acknowledged it before the replica had it) — the test measures
 *    how many — and the processes that accepted those entries publish them again, so a process
 *    started afterwards from Redis alone holds every acknowledged announcement;
 *  - waitReplicas 1: an entry is acknowledged only once the replica has it (WAIT): none is
 *    missing from the promoted replica, so even with every accepting process gone at the moment
 *    of the failover, a process started from Redis alone holds every acknowledged announcement.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { ClusterActor } from '../../../src/cluster/cluster-actor.ts';
import { RedisClusterBus } from '../../../src/cluster/redis-bus.ts';
import { parseHostPort } from '../../../src/cluster/cluster-settings.ts';
import { generateClusterKey, parseClusterKey } from '../../../src/cluster/envelope-auth.ts';
import { systemClock } from '../../../src/lib/clock.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import {
  CoreSink,
  TreeNetwork,
  coreState,
  eventually,
  fcIdentities,
  sleep,
} from '../../helpers/cluster-fixtures.ts';
import { selfWithIp } from '../../helpers/reference-server.ts';
import { startSentinelRedis, type TestSentinelRedis } from '../../helpers/sentinel.ts';

/** the processes' shared cluster key (a Redis bus is authenticated) */
const KEY = parseClusterKey(generateClusterKey());

const SNODE = fcIdentities(1, 99)[0]!.ipv6;

interface Proc {
  readonly name: string;
  readonly sink: CoreSink;
  readonly actor: ClusterActor;
  readonly bus: RedisClusterBus;
}

describe('cluster bus on Redis Sentinel (primary + replica + 3 sentinels, failover under load)', function () {
  this.timeout(120_000);
  let redis: TestSentinelRedis;
  let prefix: string;
  let testNo = 0;
  const started: ClusterActor[] = [];

  beforeEach(async function () {
    this.timeout(60_000);
    redis = await startSentinelRedis({ replicas: 1, sentinels: 3 });
    prefix = `s${++testNo}`;
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((a) => a.close().catch(() => undefined)));
    await redis.stop();
  });

  async function proc(name: string, waitReplicas: number): Promise<Proc> {
    const sink = new CoreSink(SNODE);
    const bus = new RedisClusterBus({
      sentinels: redis.sentinelAddresses.map(parseHostPort),
      sentinelMaster: redis.masterName,
      password: redis.password,
      prefix,
      waitReplicas,
      waitTimeoutMs: 500,
    });
    const actor = await ClusterActor.start({
      bus,
      sink,
      key: KEY,
      origin: name,
      antiEntropyIntervalMs: 200,
    });
    started.push(actor);
    expect(await actor.whenReady(15_000), `${name} ready`).to.equal(true);
    return { name, sink, actor, bus };
  }

  /**
   * Load: each process announces for its own nodes, update after update; an announcement that is
   * not acknowledged (RS_ERR_CLUSTER_NOT_DURABLE during the failover) is sent again, as cjdns does.
   * Every acknowledged one goes into `acked`, with the stream id Redis gave it.
   */
  function load(net: TreeNetwork, procs: Array<{ p: Proc; nodes: number[] }>) {
    const acked: Array<{ bytes: Uint8Array; id: string; at: number }> = [];
    /** applied and sent to Redis but never acknowledged when the load stopped: Redis may hold it
     *  (stored by the primary, its WAIT failed) — a node would send it again, these are not */
    const unacked: Uint8Array[] = [];
    const refused = new Map<string, number>();
    let stopped = false;
    const loops = procs.map(async ({ p, nodes }) => {
      while (!stopped) {
        for (const i of nodes) {
          const bytes = net.update(i, Date.now());
          const ip = net.nodes[i]!.ipv6;
          for (;;) {
            try {
              await p.actor.catchUpBeforeLocalApply(ip);
              const r = await p.sink.local(bytes);
              if (r.error !== 'none') throw new Error(`${p.name}: local apply ${r.error}`);
              const id = await p.actor.publishDurable(bytes, ip);
              acked.push({ bytes, id, at: Date.now() });
              break;
            } catch (e) {
              const code = (e as { code?: string }).code;
              if (code !== 'RS_ERR_CLUSTER_NOT_DURABLE' && code !== 'RS_ERR_CLUSTER_CATCHING_UP')
                throw e;
              refused.set(code, (refused.get(code) ?? 0) + 1);
              if (stopped) {
                unacked.push(bytes);
                return;
              }
              await sleep(50); // not acknowledged: send it again
            }
          }
        }
        await sleep(5);
      }
    });
    return {
      acked,
      unacked,
      refused,
      stop: async (): Promise<void> => {
        stopped = true;
        await Promise.all(loops);
      },
    };
  }

  /** The acknowledged state: a route server fed every acknowledged announcement in order. */
  async function modelOf(
    acked: ReadonlyArray<{ bytes: Uint8Array }>,
    resets: Uint8Array[],
  ): Promise<RouteServer> {
    // the oracle: the reference engine
    const m = new RouteServer({
      self: selfWithIp(SNODE),
      clock: systemClock,
      routing: { mode: 'reference' },
    });
    for (const b of resets) await m.submitAnnouncement(b, 'node');
    for (const a of acked) {
      const o = await m.submitAnnouncement(a.bytes, 'node');
      if (o.error !== 'none')
        throw new Error(`the model refused an acknowledged announcement: ${o.error}`);
    }
    return m;
  }

  /** Acknowledged entries whose stream id the (new) primary does not hold. */
  async function missingIds(ids: readonly string[]): Promise<number> {
    const c = new Redis({
      port: await redis.primaryPort(),
      password: redis.password,
      lazyConnect: true,
    });
    await c.connect();
    try {
      let missing = 0;
      for (const id of ids)
        if ((await c.xrange(`${prefix}:record`, id, id)).length === 0) missing++;
      return missing;
    } finally {
      c.disconnect();
    }
  }

  async function seed(
    net: TreeNetwork,
    procs: Array<{ p: Proc; nodes: number[] }>,
  ): Promise<Uint8Array[]> {
    const resets: Uint8Array[] = [];
    for (const { p, nodes } of procs) {
      for (const i of nodes) {
        const bytes = net.reset(i, Date.now());
        await p.sink.local(bytes);
        await p.actor.publishDurable(bytes, net.nodes[i]!.ipv6);
        resets.push(bytes);
      }
    }
    return resets;
  }

  /**
   * Acknowledged state `sink` lacks: every node's stateHash must be the model's — or, for a node
   * whose last announcement was sent but never acknowledged (`withUnacked`: the model plus those),
   * that one's, since Redis may hold an entry it never acknowledged — and every announcement both
   * models keep must be kept.
   */
  function holds(
    model: RouteServer,
    sink: CoreSink,
    withUnacked?: RouteServer,
  ): { missing: number; hashes: number } {
    const want = coreState(model);
    const alt = withUnacked ? coreState(withUnacked) : want;
    const got = sink.state();
    let missing = [...want.kept].filter((h) => alt.kept.has(h) && !got.kept.has(h)).length;
    for (const [ip, h] of want.stateHashes) {
      const g = got.stateHashes.get(ip);
      if (g !== h && g !== alt.stateHashes.get(ip)) missing++;
    }
    return { missing, hashes: want.kept.size };
  }

  it('waitReplicas 0: what the promoted replica lacked is published again by the processes that accepted it; a process started afterwards holds every acknowledged announcement', async () => {
    const net = new TreeNetwork(12, SNODE, 61);
    const a = await proc('a', 0);
    const b = await proc('b', 0);
    const split = [
      { p: a, nodes: [0, 1, 2, 3, 4, 5] },
      { p: b, nodes: [6, 7, 8, 9, 10, 11] },
    ];
    const resets = await seed(net, split);
    const run = load(net, split);
    await eventually('load under way', () => run.acked.length > 200, 30_000);
    const { from, to } = await redis.failOver();
    await eventually(
      'both processes write to the new primary',
      () => a.actor.status().writable && b.actor.status().writable,
      30_000,
    ).catch((e: Error) => {
      // what each process is waiting for, should it ever time out (it did, rarely, in full runs)
      const why = [a, b].map((p) => {
        const s = p.actor.status();
        const { connected, backlog, dirtyNodes, failed, lastWriteFailure, busProblem } = s;
        // the Redis clients' own states (ioredis: ready, reconnecting, end, …)
        const clients = p.bus as unknown as Record<'cmd' | 'sub', { status: string } | undefined>;
        const redisClients = { cmd: clients.cmd?.status, sub: clients.sub?.status };
        return `${p.name}: ${JSON.stringify({ connected, backlog, dirtyNodes, failed, lastWriteFailure, busProblem, redisClients })}`;
      });
      throw new Error(`${e.message} (:${from} → :${to}); ${why.join('; ')}`);
    });
    const after = run.acked.length;
    await eventually(
      'more acknowledged after the failover',
      () => run.acked.length > after + 100,
      30_000,
    );
    await run.stop();
    const lost = await missingIds(run.acked.map((x) => x.id));
    let pause = 0;
    for (let k = 1; k < run.acked.length; k++)
      pause = Math.max(pause, run.acked[k]!.at - run.acked[k - 1]!.at);
    process.stdout.write(
      `      sentinel failover :${from} → :${to}, waitReplicas 0: ${run.acked.length} acknowledged, ${lost} of them not on the promoted replica (published again), longest pause between acknowledgements ${pause} ms, not acknowledged meanwhile ${JSON.stringify([...run.refused])}\n`,
    );
    const model = await modelOf(run.acked, resets);
    const withUnacked = await modelOf(
      [...run.acked, ...run.unacked.map((bytes) => ({ bytes }))],
      resets,
    );
    const c = await proc('c', 0);
    await eventually(
      'a process started from Redis alone holds every acknowledged announcement',
      () => holds(model, c.sink, withUnacked).missing === 0,
      30_000,
    );
    expect(holds(model, a.sink, withUnacked).missing).to.equal(0);
    await eventually('b too', () => holds(model, b.sink, withUnacked).missing === 0);
  });

  it('waitReplicas 1: nothing acknowledged is missing from the promoted replica, even with every accepting process gone', async () => {
    const net = new TreeNetwork(12, SNODE, 62);
    const a = await proc('a', 1);
    const b = await proc('b', 1);
    const split = [
      { p: a, nodes: [0, 1, 2, 3, 4, 5] },
      { p: b, nodes: [6, 7, 8, 9, 10, 11] },
    ];
    const resets = await seed(net, split);
    const run = load(net, split);
    await eventually('load under way', () => run.acked.length > 200, 30_000);
    // the primary dies, and with it every process that accepted announcements: nobody can
    // publish anything again, Redis must hold it all
    const ackedAtFailure = run.acked.length;
    const failing = redis.failOver();
    await run.stop();
    await Promise.all([a.actor.close(), b.actor.close()]);
    const { from, to } = await failing;
    const lost = await missingIds(run.acked.map((x) => x.id));
    process.stdout.write(
      `      sentinel failover :${from} → :${to}, waitReplicas 1: ${run.acked.length} acknowledged (${ackedAtFailure} before the kill), ${lost} of them not on the promoted replica\n`,
    );
    expect(lost, 'acknowledged entries the promoted replica lacks').to.equal(0);
    const model = await modelOf(run.acked, resets);
    const withUnacked = await modelOf(
      [...run.acked, ...run.unacked.map((bytes) => ({ bytes }))],
      resets,
    );
    const c = await proc('c', 1);
    await eventually(
      'a process started from Redis alone holds every acknowledged announcement',
      () => holds(model, c.sink, withUnacked).missing === 0,
      30_000,
    );
  });
});
