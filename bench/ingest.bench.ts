/**
 * Ingest: signed announcements accepted per second through the whole fast pipeline — bytes →
 * verification pool (worker threads) → the node's subnode actor (state machine, stateHash,
 * store) → tree replicas — next to its limit measured in the same run: the native ed25519
 * verify rate of one core × the number of verification workers (target ratio ≥ 0.8).
 *
 * Workload: a synthetic mesh (bench/topology.ts) loaded with its resets, then cjdns-style
 * link-state updates of random nodes, submitted as `sq: ann` from the nodes (snode and clock
 * checks apply) with up to 4096 in flight.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { verifyWithLibsodium } from '../src/protocol/signature.ts';
import { defaultVerifyWorkers } from '../src/routing/verify-pool.ts';
import { opsPerSecond, prng, type BenchOptions, type BenchResult } from './harness.ts';
import { buildWorld, dropWorlds, feed, linkStateUpdate, loadedServer } from './world.ts';

const SPKI = Buffer.from('302a300506032b6570032100', 'hex');

/** Accepted/s of the last full-speed run (the routes bench ingests at half of it). */
export let lastIngestRate: number | undefined;

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const log = (s: string): void => void process.stdout.write(`# ${s}\n`);
  const n = opts.quick ? 2000 : 20_000;
  const count = opts.quick ? 16_000 : 100_000;
  const world = await buildWorld(n, opts.seed, log);
  const rnd = prng(opts.seed + 1);
  const updates: Uint8Array[] = [];
  for (let k = 0; k < count; k++) updates.push(linkStateUpdate(world, Math.floor(rnd() * n)));

  // the limit: bare native verify on one core, keys imported once, same messages
  const keys = updates.slice(0, 2000).map((m) =>
    createPublicKey({
      key: Buffer.concat([SPKI, Buffer.from(m.subarray(64, 96))]),
      format: 'der',
      type: 'spki',
    }),
  );
  let i = 0;
  // measured before and after the run (the mean is the limit): on a shared machine the rate
  // drifts by several percent over a minute
  const measureBare = (): number =>
    opsPerSecond(
      () => {
        const j = i++ % keys.length;
        const m = updates[j]!;
        if (!cryptoVerify(null, m.subarray(64), keys[j]!, m.subarray(0, 64)))
          throw new Error('bad signature');
      },
      { minMs: opts.quick ? 500 : 2000 },
    );
  // what the server verifies with (src/protocol/signature.ts), beside the limit
  const measureLibsodium = (): number =>
    opsPerSecond(
      () => {
        const m = updates[i++ % keys.length]!;
        if (!verifyWithLibsodium(m.subarray(64), m.subarray(0, 64), m.subarray(64, 96)))
          throw new Error('bad signature');
      },
      { minMs: opts.quick ? 250 : 1000 },
    );
  const bareBefore = measureBare();
  const workers = defaultVerifyWorkers(availableParallelism());

  const server = await loadedServer(world);
  const lag = monitorEventLoopDelay({ resolution: 1 });
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  lag.enable();
  const t0 = performance.now();
  const r = await feed(server, world, updates);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cores = (cpu.user + cpu.system) / 1e6 / elapsed;
  lag.disable();
  const elu = performance.eventLoopUtilization(elu0);
  await server.syncRoutes();
  const rate = r.accepted / elapsed;
  lastIngestRate = rate;
  const trees = server.routing!.trees.stats;
  await server.close();
  const bareAfter = measureBare();
  const bare = (bareBefore + bareAfter) / 2;
  const libsodium = measureLibsodium();
  const limit = bare * workers;
  const ratio = rate / limit;
  dropWorlds();
  return [
    {
      name: `ingest: link-state announcements accepted/s (${n} nodes, ${workers} verify worker${workers > 1 ? 's' : ''})`,
      value: rate,
      unit: 'ann/s',
      baseline: {
        name: `native verify/s × ${workers} worker${workers > 1 ? 's' : ''}`,
        value: limit,
        unit: 'verify/s',
      },
      ratio,
      target: '>= 0.8',
      met: ratio >= 0.8,
      notes: `${r.accepted}/${count} accepted, ${r.rejected} refused; native verify ${Math.round(bareBefore)}/s before the run, ${Math.round(bareAfter)}/s after; against libsodium's verify (the server's verifier, ${Math.round(libsodium)}/s) × ${workers} ${(rate / (libsodium * workers)).toFixed(3)}; process CPU ${cores.toFixed(2)} of ${availableParallelism()} cores, main thread busy ${(elu.utilization * 100).toFixed(0)} %, event-loop lag p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms; ${trees.swaps} swaps`,
    },
  ];
}
