/**
 * Route queries (`gr`) on the fast engine, at two network sizes, for both route policies side by
 * side (`best` and `original`, docs/compatibility.md "Route policy"): which sampled pairs get a
 * route, against the pairs that have a route whose label fits (computed from the topology by
 * route-quality.ts, not by the server), and how long the answers are against the fewest-hop
 * fitting route; `gr` latency idle and while announcements pour in at half the maximum ingest
 * rate with swaps running; and freshness: how long an accepted announcement takes to be visible
 * in routes. The mesh leaves 15 % of the link ends without link state (unmeasured), as a live
 * network has new links and links with drops.
 *
 * A query goes through the subnode handler (`handleSubnodeQuery` with a bencoded-shape `gr`
 * dictionary: what `POST /subnode` and the cjdns link call). Latency is "served" latency: from
 * the moment the query could run (the previous one answered) to its answer, so time spent
 * waiting behind ingest work in the event loop counts. Two query mixes:
 *  - uniform: source and destination uniformly random — nearly every query needs a new
 *    shortest-path tree (the worst case);
 *  - zipf: destinations Zipf(1)-distributed (some nodes are far more popular, as services and
 *    hubs are), sources uniform.
 *
 * `SNODE_BENCH_ROUTES_NODES` (say `50000`, or `10000,50000`) measures those sizes only, and
 * `SNODE_BENCH_GR_INGEST_RATE` ingests at that many announcements a second instead of half the
 * ingest bench's maximum (which is only known when `ingest` runs first in the same run).
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ip6FromString } from '../src/protocol/keys.ts';
import type { BDict } from '../src/protocol/bencode.ts';
import type { RouteServer } from '../src/server/route-server.ts';
import {
  mainThreadCpuMs,
  percentile,
  prng,
  type BenchOptions,
  type BenchResult,
} from './harness.ts';
import { lastIngestRate } from './ingest.bench.ts';
import { DEFAULT_TREE_OPTIONS } from '../src/routing/tree-replicas.ts';
import type { RoutePolicy } from '../src/routing/route-policy.ts';
import { FittingPaths } from './route-quality.ts';
import {
  benchRoutingOptions,
  buildWorld,
  dropWorlds,
  feed,
  linkStateUpdate,
  loadedServer,
  type World,
} from './world.ts';

const P99_TARGET_MS = 5;
const FRESHNESS_TARGET_MS = 1000;
/** issue 11: mean hop stretch of `best` over the fewest-hop fitting route */
const STRETCH_TARGET = 1.1;
/** link ends with link state in the routes bench's mesh (the others stay unmeasured) */
const MEASURED_FRACTION = 0.85;
/** both policies, side by side in one run */
const POLICIES: readonly RoutePolicy[] = ['best', 'original'];

interface Mix {
  readonly name: string;
  readonly dst: (rnd: () => number, n: number) => number;
}

function zipfSampler(n: number, s = 1): (rnd: () => number) => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / Math.pow(k + 1, s);
  return (rnd) => {
    const x = rnd() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function grDict(w: World, src: number, dst: number, q: number): BDict {
  return {
    sq: new TextEncoder().encode('gr'),
    src: ip6FromString(w.ips[src]!),
    tar: ip6FromString(w.ips[dst]!),
    txid: new Uint8Array([q & 255, (q >> 8) & 255]),
  } as unknown as BDict;
}

interface QueryStats {
  readonly qps: number;
  readonly p50: number;
  readonly p99: number;
  readonly found: number;
  /** CPU time of the main thread per query (ms): robust where other processes share the cores */
  readonly cpuMs: number;
}

/** `count` queries one after the other, each yielding to the event loop first. */
async function queries(
  server: RouteServer,
  w: World,
  count: number,
  pick: () => [number, number],
  stop?: () => boolean,
): Promise<QueryStats> {
  const lat: number[] = [];
  let found = 0;
  const sender = { key: undefined, ip: w.ips[0]!, version: 22 };
  const t0 = performance.now();
  const cpu0 = mainThreadCpuMs();
  for (let q = 0; q < count && !(stop?.() ?? false); q++) {
    const [s, d] = pick();
    const ready = performance.now();
    await new Promise<void>((r) => setImmediate(r));
    const reply = await server.handleSubnodeQuery(grDict(w, s, d, q), sender);
    lat.push(performance.now() - ready);
    if (reply && 'n' in reply) found++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpuMs = (mainThreadCpuMs() - cpu0) / Math.max(1, lat.length);
  lat.sort((a, b) => a - b);
  return {
    qps: lat.length / elapsed,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    found: found / Math.max(1, lat.length),
    cpuMs,
  };
}

/** Submit link-state updates at `rate`/s in the background until stopped. */
function backgroundIngest(
  server: RouteServer,
  w: World,
  rate: number,
  seed: number,
): { stop: () => Promise<number>; accepted: () => number } {
  const rnd = prng(seed);
  let stopped = false;
  let accepted = 0;
  const pending: Promise<unknown>[] = [];
  const tick = 10;
  let credit = 0;
  // pre-sign a pool so signing does not load the event loop during the run
  const ready: Uint8Array[] = [];
  for (let k = 0; k < Math.ceil(rate * 12); k++)
    ready.push(linkStateUpdate(w, Math.floor(rnd() * w.n)));
  // taken by index: `shift()` on an array this long (its backing store in V8's large-object
  // space, which cannot be trimmed from the front) moves the whole array each time, and at
  // ~10k/s that took most of the main thread from the queries measured beside it
  let next = 0;
  const timer = setInterval(() => {
    if (stopped) return;
    credit += (rate * tick) / 1000;
    const batch: Uint8Array[] = [];
    while (credit >= 1 && next < ready.length) {
      batch.push(ready[next++]!);
      credit--;
    }
    if (batch.length > 0)
      pending.push(feed(server, w, batch, 4096).then((r) => (accepted += r.accepted)));
  }, tick);
  return {
    accepted: () => accepted,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await Promise.all(pending);
      return accepted;
    },
  };
}

/** Sampled pairs and, computed from the topology, the fewest hops of a fitting route (-1: none). */
interface PairSample {
  readonly pairs: [number, number][];
  readonly fewest: Int32Array;
}

function samplePairs(w: World, count: number, seed: number, log: (s: string) => void): PairSample {
  const rnd = prng(seed);
  const t0 = performance.now();
  const paths = new FittingPaths(w.topo);
  const pairs: [number, number][] = [];
  const fewest = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const s = Math.floor(rnd() * w.n);
    let d = Math.floor(rnd() * (w.n - 1));
    if (d >= s) d++;
    pairs.push([s, d]);
    fewest[i] = paths.fewestFittingHops(s, d);
  }
  log(
    `  ${count} sampled pairs, fitting routes computed from the topology in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return { pairs, fewest };
}

/** The policy's answers for the sampled pairs, against the pairs that have a fitting route. */
function qualityRows(
  server: RouteServer,
  w: World,
  sample: PairSample,
  policy: RoutePolicy,
): BenchResult[] {
  const n = w.n;
  let fitting = 0;
  let answered = 0;
  let answeredFitting = 0;
  const hops: number[] = [];
  const stretch: number[] = [];
  sample.pairs.forEach(([s, d], i) => {
    const fewest = sample.fewest[i]!;
    if (fewest >= 0) fitting++;
    const r = server.getRoute(w.ips[s]!, w.ips[d]!);
    if (!r?.path) return;
    answered++;
    const h = r.path.length - 1;
    hops.push(h);
    if (fewest >= 0) {
      answeredFitting++;
      stretch.push(h / fewest);
    }
  });
  hops.sort((a, b) => a - b);
  stretch.sort((a, b) => a - b);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const total = sample.pairs.length;
  const forBest = policy === 'best';
  return [
    {
      name: `routes (${policy}) at ${n} nodes: pairs with a fitting route that are answered`,
      value: answeredFitting / Math.max(1, fitting),
      unit: 'fraction',
      baseline: {
        name: 'pairs with a fitting route (from the topology)',
        value: fitting / total,
        unit: 'of sampled pairs',
      },
      ratio: answeredFitting / Math.max(1, fitting),
      target: forBest ? '1 (every pair with a fitting route)' : undefined,
      met: forBest ? answeredFitting === fitting : undefined,
      notes: `${total} sampled pairs: ${fitting} have a fitting route, ${answered} answered (${((answered / total) * 100).toFixed(1)} %)`,
    },
    {
      name: `routes (${policy}) at ${n} nodes: mean hop stretch over the fewest-hop fitting route`,
      value: mean(stretch),
      unit: '×',
      baseline: { name: 'target', value: STRETCH_TARGET, unit: '×' },
      ratio: STRETCH_TARGET / mean(stretch),
      target: forBest ? `<= ${STRETCH_TARGET}` : undefined,
      met: forBest ? mean(stretch) <= STRETCH_TARGET : undefined,
      notes: `p99 stretch ${percentile(stretch, 99).toFixed(2)}; hops of the answers: mean ${mean(hops).toFixed(2)}, p99 ${percentile(hops, 99)}; fewest-hop fitting routes: mean ${mean([...sample.fewest].filter((f) => f >= 0)).toFixed(2)}`,
    },
  ];
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const log = (s: string): void => void process.stdout.write(`# ${s}\n`);
  const sizes = process.env.SNODE_BENCH_ROUTES_NODES
    ? process.env.SNODE_BENCH_ROUTES_NODES.split(',').map(Number)
    : opts.quick
      ? [2000, 5000]
      : [10_000, 50_000];
  const out: BenchResult[] = [];
  for (const n of sizes) {
    const w = await buildWorld(n, opts.seed, log, undefined, MEASURED_FRACTION);
    const sample = samplePairs(
      w,
      opts.quick ? 500 : n >= 50_000 ? 1000 : 2000,
      opts.seed + 3 * n,
      log,
    );
    const p99: Partial<Record<RoutePolicy, number>> = {};
    const cpu: Partial<Record<RoutePolicy, number>> = {};
    for (const policy of POLICIES) {
      const server = await loadedServer(
        w,
        benchRoutingOptions({ tree: { ...DEFAULT_TREE_OPTIONS, policy } }),
      );
      // the bench's copy of the announcements goes once the last server has them
      if (policy === POLICIES[POLICIES.length - 1]) dropWorlds(w);
      // a steady state to start from: the load's garbage collected while idle (as the rebuild
      // bench does), so the idle figures are not the collection of the load itself
      await new Promise((r) => setTimeout(r, 3000));
      out.push(...qualityRows(server, w, sample, policy));
      const rows = await latencyRows(server, w, n, opts, policy);
      p99[policy] = rows.uniformIdleP99;
      cpu[policy] = rows.uniformIdleCpuMs;
      out.push(...rows.results);
      await server.close();
    }
    if (p99.best !== undefined && p99.original !== undefined)
      out.push({
        name: `gr uniform idle at ${n} nodes: p99, best against original`,
        value: p99.best,
        unit: 'ms',
        baseline: { name: 'original, same run', value: p99.original, unit: 'ms' },
        ratio: p99.original / p99.best,
        target: n >= 50_000 ? 'not worse than original (ratio >= 1)' : undefined,
        met: n >= 50_000 ? p99.best <= p99.original : undefined,
      });
    if (cpu.best !== undefined && cpu.original !== undefined)
      out.push({
        name: `gr uniform idle at ${n} nodes: main-thread CPU per query, best against original`,
        value: cpu.best,
        unit: 'ms',
        baseline: { name: 'original, same run', value: cpu.original, unit: 'ms' },
        ratio: cpu.original / cpu.best,
        notes: 'CPU time, not latency: what the query costs whatever else shares the cores',
      });
  }
  return out;
}

/**
 * `gr` latency of one server: idle (uniform and zipf destinations), then while ingesting at
 * half the measured maximum rate with swaps running; and freshness.
 */
async function latencyRows(
  server: RouteServer,
  w: World,
  n: number,
  opts: BenchOptions,
  policy: RoutePolicy,
): Promise<{ results: BenchResult[]; uniformIdleP99: number; uniformIdleCpuMs: number }> {
  const out: BenchResult[] = [];
  const log = (s: string): void => void process.stdout.write(`# ${s}\n`);
  const rnd = prng(opts.seed + n);
  const zipf = zipfSampler(n);
  const mixes: Mix[] = [
    { name: 'uniform', dst: (r) => Math.floor(r() * n) },
    { name: 'zipf', dst: (r) => zipf(r) },
  ];
  const count = opts.quick ? 1500 : n >= 50_000 ? 3000 : 6000;
  let uniformIdleP99 = NaN;
  let uniformIdleCpuMs = NaN;
  const row = (label: string, mix: string, s: QueryStats, extra = ''): void => {
    out.push({
      name: `gr ${mix} ${label} at ${n} nodes (${policy}): p99 latency`,
      value: s.p99,
      unit: 'ms',
      baseline: { name: 'target', value: P99_TARGET_MS, unit: 'ms' },
      ratio: P99_TARGET_MS / s.p99,
      target: n >= 50_000 ? `p99 <= ${P99_TARGET_MS} ms (ratio >= 1)` : undefined,
      met: n >= 50_000 ? s.p99 <= P99_TARGET_MS : undefined,
      notes: `${Math.round(s.qps)} queries/s, p50 ${s.p50.toFixed(2)} ms, main-thread CPU ${s.cpuMs.toFixed(3)} ms/query, ${(s.found * 100).toFixed(0)} % routed${extra}`,
    });
  };
  const how = (): string => {
    const now = server.routing!.trees.treeCacheTotals();
    const d = {
      hits: now.hits - seen.hits,
      pairs: now.pairs - seen.pairs,
      misses: now.misses - seen.misses,
      fitting: now.fitting - seen.fitting,
    };
    seen = now;
    return `; answered by ${d.pairs} pair searches, ${d.hits} cached trees, ${d.misses} tree searches${policy === 'best' ? `, ${d.fitting} fitting searches` : ''}`;
  };
  let seen = server.routing!.trees.treeCacheTotals();
  for (const mix of mixes) {
    const s = await queries(server, w, count, () => [Math.floor(rnd() * n), mix.dst(rnd, n)]);
    if (mix.name === 'uniform') {
      uniformIdleP99 = s.p99;
      uniformIdleCpuMs = s.cpuMs;
    }
    row('idle', mix.name, s, how());
  }

  // while ingesting at half the max rate, with swaps running
  const rate = process.env.SNODE_BENCH_GR_INGEST_RATE
    ? Number(process.env.SNODE_BENCH_GR_INGEST_RATE)
    : Math.max(100, (lastIngestRate ?? (opts.quick ? 2000 : 4000)) / 2);
  const trees = server.routing!.trees;
  const swaps0 = trees.stats.swaps;
  const fresh: number[] = [];
  const waiting: { seq: number; at: number }[] = [];
  trees.onActivate = (snap) => {
    const now = performance.now();
    while (waiting.length > 0 && waiting[0]!.seq <= snap.seq) fresh.push(now - waiting.shift()!.at);
  };
  // sample one node update in 20: its seq, and when its announcement was accepted (the
  // update is made in the same step as the acceptance, inside the node's actor)
  const changed = trees.nodeChanged.bind(trees);
  trees.nodeChanged = (rec) => {
    const seq = changed(rec);
    if (rnd() < 0.05) waiting.push({ seq, at: performance.now() });
    return seq;
  };
  const bg = backgroundIngest(server, w, rate, opts.seed + 7);
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  for (const mix of mixes) {
    const s = await queries(server, w, count, () => [Math.floor(rnd() * n), mix.dst(rnd, n)]);
    row(
      `while ingesting ${Math.round(rate)} ann/s`,
      mix.name,
      s,
      `, ${trees.stats.swaps - swaps0} swaps so far, event-loop lag p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms${how()}`,
    );
  }
  lag.disable();
  const accepted = await bg.stop();
  await server.syncRoutes();
  trees.onActivate = undefined;
  fresh.sort((a, b) => a - b);
  const f99 = percentile(fresh, 99);
  out.push({
    name: `freshness at ${n} nodes (${policy}): accepted → visible in routes, p99`,
    value: f99,
    unit: 'ms',
    baseline: { name: 'target', value: FRESHNESS_TARGET_MS, unit: 'ms' },
    ratio: FRESHNESS_TARGET_MS / f99,
    target: n >= 50_000 ? `<= ${FRESHNESS_TARGET_MS} ms (ratio >= 1)` : undefined,
    met: n >= 50_000 ? f99 <= FRESHNESS_TARGET_MS : undefined,
    notes: `${fresh.length} samples, p50 ${percentile(fresh, 50).toFixed(0)} ms, max ${(fresh[fresh.length - 1] ?? NaN).toFixed(0)} ms; ${accepted} announcements during the run; swap interval ${server.routing!.opts.tree.swapIntervalMs} ms`,
  });
  log(`  ${policy} at ${n} nodes done`);
  return { results: out, uniformIdleP99, uniformIdleCpuMs };
}
