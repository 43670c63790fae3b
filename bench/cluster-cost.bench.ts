/**
 * Issue 15's scaling model, measured in one run (docs/cluster.md, "Scaling model"): the CPU an
 * announcement costs the process that accepts it — (a) verify + apply + publish, through the
 * production wiring (verification workers, subnode actors, tree replicas, the cluster actor on a
 * real redis-server) — against what applying it costs another process of the cluster — (b) its
 * record delta, read from the record and installed (no parse, no keep rules, no stateHash fold)
 * up to the tree replicas holding the change (as (a) counts its own routing sync),
 * and, for comparison, (b full) the announcement applied in full as before deltas. r = b / a; the
 * projected speedup of N processes over one is N / (1 + (N − 1)·r) (target: r ≤ 0.1, so ≥ 4.7×
 * for 8). CPU is the process's (every thread: verification and replica workers included, Redis
 * excluded), from process.cpuUsage(). The real 2-process run through HAProxy is
 * cluster.bench.ts (`npm run bench -- --only cluster` runs both).
 *
 * How: servers A, B and C hold the same world (its initial announcements). A's cluster actor
 * starts on an empty prefix and A accepts M link-state updates as `sq: ann` from the nodes,
 * publishing each (with its delta) durably: (a). Then B's actor starts on that prefix and catches
 * up — it reads the M entries in batches and applies their deltas: (b). C does the same with a
 * sink that ignores deltas: (b full). Every figure is measured warm: before them, A accepts
 * WARM_ROUNDS rounds (one update per node each) on a prefix of their own and B and C catch up on
 * them, not measured — the JIT compiles each path once per process, which is no cost per
 * announcement (the cold figures of those rounds are printed beside).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ClusterActor } from '../src/cluster/cluster-actor.ts';
import { generateClusterKey, parseClusterKey } from '../src/cluster/envelope-auth.ts';
import { freePort, startRedisServer } from '../src/cluster/native/processes.ts';
import { RedisClusterBus } from '../src/cluster/redis-bus.ts';
import { routeServerSink, type ClusterSink } from '../src/cluster/sink.ts';
import type { RouteServer } from '../src/server/route-server.ts';
import type { BenchOptions, BenchResult } from './harness.ts';
import { buildWorld, feed, linkStateUpdate, serverFor, T0, type World } from './world.ts';

const TARGET_R = 0.1;
/** the warm-up rounds' prefix on the bus (the measured entries are under `cost`) */
const WARM_PREFIX = 'warm';
/** rounds (one update per node each) accepted and caught up on before anything is measured:
 *  with one, (b) still paid the JIT's optimising compiles (~+6 µs/ann on V8's threads) */
const WARM_ROUNDS = 3;

function cpuMicros(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

async function loaded(w: World, messages: readonly Uint8Array[]): Promise<RouteServer> {
  const s = serverFor(w);
  w.clock.set(T0);
  const r = await feed(s, w, messages);
  if (r.accepted !== messages.length)
    throw new Error(`loading the world: ${r.accepted} of ${messages.length} accepted`);
  await s.routing!.sync();
  return s;
}

/**
 * CPU of a fresh actor catching up on `prefix` into `server` through `sink`, per entry — until
 * `server`'s tree replicas hold what the entries changed (its routing sync), as (a) counts A's.
 */
async function catchUpCost(
  url: string,
  prefix: string,
  key: Uint8Array,
  server: RouteServer,
  sink: ClusterSink,
  entries: number,
): Promise<{ us: number; syncUs: number; registry: Registry }> {
  const registry = new Registry();
  const t0 = process.cpuUsage();
  const actor = await ClusterActor.start({
    bus: new RedisClusterBus({ url, prefix }),
    sink,
    key,
    registry,
    antiEntropyIntervalMs: 60_000,
  });
  try {
    if (!(await actor.whenReady(600_000))) throw new Error('catch-up did not finish');
    const t1 = process.cpuUsage();
    await server.routing!.sync();
    const syncUs = cpuMicros(t1) / entries;
    const us = cpuMicros(t0) / entries;
    return { us, syncUs, registry };
  } finally {
    await actor.close();
  }
}

/**
 * CPU of `server` accepting `rounds` from the nodes as `sq: ann`, each made durable on `prefix`
 * (with its delta) before its reply, per announcement — until its tree replicas hold them.
 */
async function acceptCost(
  server: RouteServer,
  w: World,
  url: string,
  prefix: string,
  key: Uint8Array,
  rounds: readonly Uint8Array[][],
  n: number,
): Promise<{ us: number }> {
  const actor = await ClusterActor.start({
    bus: new RedisClusterBus({ url, prefix }),
    sink: routeServerSink(server),
    key,
    antiEntropyIntervalMs: 60_000,
  });
  try {
    if (!(await actor.whenReady(30_000))) throw new Error('the accepting process did not start');
    server.setClusterHooks({
      beforeNodeAnnouncement: (ip) => actor.catchUpBeforeLocalApply(ip),
      afterNodeAccepted: async (bytes, ip, delta) => {
        await actor.publishDurable(bytes, ip, delta);
      },
    });
    const t0 = process.cpuUsage();
    const errors = new Map<string, number>();
    let accepted = 0;
    for (const round of rounds) {
      const r = await feed(server, w, round, n);
      accepted += r.accepted;
      for (const [e, k] of r.errors) errors.set(e, (errors.get(e) ?? 0) + k);
    }
    await server.routing!.sync();
    const us = cpuMicros(t0) / accepted;
    const total = rounds.reduce((x, r) => x + r.length, 0);
    if (accepted !== total)
      throw new Error(`accepted ${accepted} of ${total} (${JSON.stringify([...errors])})`);
    return { us };
  } finally {
    await actor.close();
  }
}

async function counted(registry: Registry, metric: string, result: string): Promise<number> {
  const m = await registry.getSingleMetric(metric)?.get();
  return m?.values.filter((v) => v.labels.result === result).reduce((a, v) => a + v.value, 0) ?? 0;
}

async function measure(opts: BenchOptions): Promise<BenchResult[]> {
  const n = opts.quick ? 300 : 2000;
  const updates = opts.quick ? 2000 : 12_000;
  const w = await buildWorld(n, opts.seed + 15);
  const initial = w.initial.flat();
  const dir = mkdtempSync(join(tmpdir(), 'snode-cluster-cost-'));
  const redis = await startRedisServer({ port: await freePort(), dir, appendfsync: 'everysec' });
  const key = parseClusterKey(generateClusterKey());
  const servers: RouteServer[] = [];
  try {
    // A, B and C hold the world's initial announcements (not measured, not on the bus)
    const a = await loaded(w, initial);
    const b = await loaded(w, initial);
    const c = await loaded(w, initial);
    servers.push(a, b, c);
    // rounds of one update per node: a node sends its next announcement once the last one was
    // answered, as cjdns does (two of one node in flight could overtake each other on the way)
    const round = (): Uint8Array[] => Array.from({ length: n }, (_x, i) => linkStateUpdate(w, i));
    const warmRounds = Array.from({ length: WARM_ROUNDS }, round);
    const rounds: Uint8Array[][] = [];
    for (let k = 0; k < updates; k += n) rounds.push(round().slice(0, Math.min(n, updates - k)));
    // (a): A accepts the updates from the nodes, each made durable (with its delta) before its
    // reply. First WARM_ROUNDS rounds on a prefix of their own, not measured: every path is
    // measured warm (the JIT compiles a path once per process, not once per announcement); B and
    // C catch up on them too
    const warmA = await acceptCost(a, w, redis.url, WARM_PREFIX, key, warmRounds, n);
    const accepted = await acceptCost(a, w, redis.url, 'cost', key, rounds, n);
    const aUs = accepted.us;
    // (b): B catches up on A's entries through their deltas; (b full): C applies them in full
    const bSink = routeServerSink(b);
    const cSink = routeServerSink(c);
    const cFull: ClusterSink = { applyRemote: cSink.applyRemote, nodeSnapshot: cSink.nodeSnapshot };
    const warmB = await catchUpCost(redis.url, WARM_PREFIX, key, b, bSink, WARM_ROUNDS * n);
    const warmC = await catchUpCost(redis.url, WARM_PREFIX, key, c, cFull, WARM_ROUNDS * n);
    const delta = await catchUpCost(redis.url, 'cost', key, b, bSink, updates);
    const viaDelta = await counted(delta.registry, 'snode_cluster_deltas_total', 'delta');
    const full = await catchUpCost(redis.url, 'cost', key, c, cFull, updates);
    const same =
      Buffer.from(b.views.dump()).equals(Buffer.from(c.views.dump())) &&
      Buffer.from(b.views.dump()).equals(Buffer.from(a.views.dump()));
    const r = delta.us / aUs;
    const rFull = full.us / aUs;
    const speedup = (procs: number, ratio: number): number => procs / (1 + (procs - 1) * ratio);
    const notes = `${n} nodes, ${updates} link-state updates; ${viaDelta} of ${updates} applied as deltas; /dump of A, B, C ${same ? 'identical' : 'DIFFERENT'}; cold (the warm-up rounds, ${WARM_ROUNDS * n} updates): a ${warmA.us.toFixed(0)}, b ${warmB.us.toFixed(1)}, b full ${warmC.us.toFixed(1)} µs/ann`;
    const rows: BenchResult[] = [
      {
        name: 'cluster: CPU to accept an announcement (a: verify + apply + publish durably)',
        value: aUs,
        unit: 'µs/ann',
        notes,
      },
      {
        name: "cluster: CPU to apply another process's delta (b)",
        value: delta.us,
        unit: 'µs/ann',
        baseline: { name: '(a)', value: aUs, unit: 'µs/ann' },
        ratio: r,
        target: `<= ${TARGET_R}`,
        met: r <= TARGET_R && viaDelta === updates && same,
        notes: `of which ${delta.syncUs.toFixed(1)} µs/ann the tree replicas' sync after the catch-up`,
      },
      {
        name: 'cluster: CPU to apply it in full, without the delta (b full, before)',
        value: full.us,
        unit: 'µs/ann',
        baseline: { name: '(a)', value: aUs, unit: 'µs/ann' },
        ratio: rFull,
        notes: `the cost deltas replace; of which ${full.syncUs.toFixed(1)} µs/ann the tree replicas' sync after the catch-up`,
      },
    ];
    for (const procs of [2, 4, 8])
      rows.push({
        name: `cluster: projected speedup of ${procs} processes, N/(1+(N-1)r) with r = b/a`,
        value: speedup(procs, r),
        unit: '×',
        baseline: {
          name: `without deltas (r = ${rFull.toFixed(2)})`,
          value: speedup(procs, rFull),
          unit: '×',
        },
        ratio: speedup(procs, r) / speedup(procs, rFull),
        ...(procs === 8
          ? {
              target: `>= ${speedup(8, TARGET_R).toFixed(1)}× (r <= ${TARGET_R})`,
              met: speedup(8, r) >= speedup(8, TARGET_R),
            }
          : {}),
        notes: `ceiling 1/r = ${(1 / r).toFixed(1)}×`,
      });
    return rows;
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    await redis.process.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  return measure(opts);
}
