/**
 * The measured server of the sync and ingest benchmarks, as a process of its own (the sources
 * are other processes: bench/sync-peer.ts), so that its CPU time per thread is its own.
 *
 *   SINK_WORLD=<nodes>,<seed> node --import tsx bench/sync-sink.ts sync   <expected> <url>…
 *   SINK_WORLD=<nodes>,<seed> node --import tsx bench/sync-sink.ts ingest <expected> <churn> <rounds> <clients> <url>
 *
 * `sync`: a fresh server pulls the peers' stores; the clock runs from the start until it holds
 * `expected` announcements; `/readyz` is polled throughout (it must turn 200 only then).
 * `ingest`: after the same sync, the source ingests `churn` link-state updates `rounds` times
 * (a stdout line `{"churn":M}` asks the parent to tell the source) with no queries, then
 * `rounds` times again with `clients` keep-alive clients asking `/path` continuously
 * (bench/query-load.ts, another process; their queries of the 1.5 s before the rounds, with no
 * ingest, are the baseline); the replication ingest rate of each phase and the queries' latency.
 *
 * Both measure one core's native ed25519 verify rate in this process before and after (bare
 * `crypto.verify` on ~600-byte messages with imported keys), by wall clock and by CPU time, and
 * report the CPU seconds of each of this process's threads over the measured window: on a shared
 * machine the wall-clock rates move with the load, the CPU time per announcement does not.
 *
 * `SINK_HEAP_PROF=<file>` writes what the idle rounds promoted (see `promotedProfile`).
 * `SINK_WARM_SYNC=1` (sync): first the same sync into a server that is then closed, so that the
 * measured one runs in a process whose main thread has run and compiled the pipeline already
 * (its worker threads are new): the difference is what a cold process costs the sync.
 * `SINK_REPLICATION` and `SINK_ROUTING` (JSON) replace settings of the configuration's
 * `replication` and `routing` sections (say `{"verifyWorkers":1}`).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { get as httpGet } from 'node:http';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { startApp, type App } from '../src/app.ts';
import { RoutingSupervisor } from '../src/routing/routing-supervisor.ts';
import { validateConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { bytesToHex } from '../src/protocol/hex.ts';
import { verifyWithLibsodium } from '../src/protocol/signature.ts';
import { loadKeys } from './keys.ts';

const here = dirname(fileURLToPath(import.meta.url));
const [mode, ...rest] = process.argv.slice(2);

/** CPU seconds of each thread of this process (/proc/self/task), by thread id, with its name. */
function threadCpu(): Map<number, { name: string; s: number }> {
  const out = new Map<number, { name: string; s: number }>();
  const hz = 100;
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.set(Number(t), { name, s: (Number(f[11]) + Number(f[12])) / hz });
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

/**
 * CPU seconds since `a`: the main thread, the busiest other thread (a verify worker), all, and
 * by thread name (V8's GC helpers, libuv's pool, the workers).
 */
function cpuSince(a: Map<number, { name: string; s: number }>): {
  main: number;
  busiestWorker: number;
  total: number;
  byName: Record<string, number>;
} {
  const b = threadCpu();
  let main = 0;
  let busiest = 0;
  let total = 0;
  const byName: Record<string, number> = {};
  for (const [tid, { name, s }] of b) {
    const d = s - (a.get(tid)?.s ?? 0);
    total += d;
    if (tid === process.pid) main = d;
    else busiest = Math.max(busiest, d);
    if (d >= 0.02)
      byName[tid === process.pid ? 'main' : `${name}:${tid - process.pid}`] = +d.toFixed(2);
  }
  return { main, busiestWorker: busiest, total, byName };
}

/**
 * One core's native verify rate: wall clock, and per CPU second of this thread — Node's
 * `crypto.verify` (OpenSSL) on imported keys, the limit; and, by wall clock, that of
 * libsodium (`verifyWithLibsodium`), what the server verifies with.
 */
function verifyRate(ms: number): { wall: number; cpu: number; libsodium: number } {
  const msgs = Array.from({ length: 256 }, () => {
    const k = generateKeyPairSync('ed25519');
    const m = randomBytes(530);
    const raw = Buffer.from(k.publicKey.export({ format: 'jwk' }).x!, 'base64url');
    return { m, s: sign(null, m, k.privateKey), k: k.publicKey, raw };
  });
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 100; i++) {
      const x = msgs[(n + i) & 255]!;
      if (!verify(null, x.m, x.k, x.s)) throw new Error('verify failed');
    }
    n += 100;
  }
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  let ns = 0;
  const t1 = performance.now();
  while (performance.now() - t1 < ms / 2) {
    for (let i = 0; i < 100; i++) {
      const x = msgs[(ns + i) & 255]!;
      if (!verifyWithLibsodium(x.m, x.s, x.raw)) throw new Error('libsodium verify failed');
    }
    ns += 100;
  }
  return {
    wall: (n * 1000) / wall,
    cpu: (n * 1e6) / (c.user + c.system),
    libsodium: (ns * 1000) / (performance.now() - t1),
  };
}

/**
 * Announcements the sink has answered `none` since it started: accepted, or already superseded
 * by a newer one of the same node (which three interleaved streams can bring first) — every
 * advertised announcement handled once is the sync's end.
 */
async function handled(app: App): Promise<number> {
  const { values } = await app.server.metrics.announcements.get();
  return values.find((v) => v.labels.source === 'gossip' && v.labels.result === 'none')?.value ?? 0;
}

async function startSink(urls: string[]): Promise<App> {
  // an identity of the world's key list that no node and no source uses
  const [n, seed] = (process.env.SINK_WORLD ?? '0,42').split(',').map(Number) as [number, number];
  const keys = await loadKeys(n + 16, seed);
  return startApp(
    validateConfig({
      http: { host: '127.0.0.1', port: 0 },
      admin: { enabled: false },
      identity: { privateKey: bytesToHex(keys[n + 12]!.priv) },
      peers: urls,
      log: { level: 'silent' },
      store: { mode: 'off' }, // no announcement log (the benches measure the pipeline)
      replication: JSON.parse(process.env.SINK_REPLICATION ?? '{}'),
      ...(process.env.SINK_ROUTING ? { routing: JSON.parse(process.env.SINK_ROUTING) } : {}),
    }),
    silentLogger(),
    { expiryTimer: false },
  );
}

/**
 * `/readyz`'s status, by node:http (not fetch: undici's first use costs the measured main
 * thread tens of milliseconds of loading and compiling in the middle of a 1.5 s sync).
 */
function readyzStatus(app: App): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port: app.address().port, path: '/readyz' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Pull until `expected` are stored; /readyz must not be 200 before. */
async function sync(app: App, expected: number): Promise<Record<string, unknown>> {
  const cpu0 = threadCpu();
  const t0 = performance.now();
  let readyEarly = false;
  let lastPoll = 0;
  let seen = 0;
  let grewAt = t0;
  // every advertised announcement handled once: the store may keep fewer when several peers'
  // streams interleave (a node's announcements applied out of timestamp order keep another set,
  // as the original's would)
  let done = 0;
  while (done < expected) {
    await sleep(10);
    done = await handled(app);
    if (done !== seen) [seen, grewAt] = [done, performance.now()];
    if (performance.now() - lastPoll > 200) {
      lastPoll = performance.now();
      if ((await readyzStatus(app)) === 200 && done < expected) readyEarly = true;
    }
    // ready (synced) and nothing new for 10 s: what is missing will not come (reported)
    if (readyEarly && performance.now() - grewAt > 10_000) break;
    if (performance.now() - t0 > 900_000) throw new Error(`sync stalled at ${done} of ${expected}`);
  }
  const missing = expected - done;
  if (missing > 0) {
    // what the replication counters say about it, for whoever looks into the loss (stderr)
    const text = await app.server.metrics.registry.metrics();
    const lines = text
      .split('\n')
      .filter((l) => /gossip|request|sync/.test(l) && !l.startsWith('#'));
    process.stderr.write(`sync-sink: ${missing} missing; ${lines.join('; ')}\n`);
  }
  const secs = ((missing > 0 ? grewAt : performance.now()) - t0) / 1000;
  const cpu = cpuSince(cpu0);
  // readiness follows once the sync is settled (quiet for syncQuietMs)
  const tr = performance.now();
  while ((await readyzStatus(app)) !== 200) {
    await sleep(50);
    if (performance.now() - tr > 60_000) throw new Error('not ready after the sync');
  }
  return {
    stored: app.server.store.size,
    missing,
    secs,
    rate: done / secs,
    cpu,
    readyEarly,
    readyAfterSecs: (performance.now() - tr) / 1000,
  };
}

/** Epoch ms spans (from, to) of the query load's report (bench/query-load.ts). */
interface QuerySpans {
  /** the queries asked while the loaded rounds ingested */
  readonly windows: Array<[number, number]>;
  /** the same clients' queries with no ingest going on, just before the rounds */
  readonly alone: [number, number];
}

/** The query clients (another process); resolves with their report when told to stop. */
function queryLoad(
  app: App,
  clients: number,
): { stop: (spans: QuerySpans) => Promise<Record<string, unknown>> } {
  const ips = [...app.server.nodes].map((r) => r.ipv6);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'query-load.ts'), String(app.address().port), String(clients)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  child.stdin.write(JSON.stringify(ips) + '\n');
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return {
    stop: async (spans) => {
      child.stdin.end(JSON.stringify(spans) + '\n');
      await new Promise((r) => child.once('exit', r));
      return JSON.parse(out.trim()) as Record<string, unknown>;
    },
  };
}

/**
 * `SINK_HEAP_PROF=<file>`: a sampling heap profile of the idle rounds that drops what scavenges
 * collected and keeps the rest — what the rounds promoted to the old generation (or left alive),
 * by allocation site (`node bench/heap-profile-top.ts <file>` sums it). Issue 17's promoted bytes
 * were traced to their sites this way (docs/performance.md).
 */
async function promotedProfile(): Promise<() => Promise<unknown>> {
  const session = new Session();
  session.connect();
  // the two `include…` flags are newer than Node 20's typings of the protocol
  const params = {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: false,
  };
  await session.post('HeapProfiler.startSampling', params);
  return async () => {
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: unknown };
    session.disconnect();
    return profile;
  };
}

const parentLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

/** Ask the parent to have the source ingest `m` updates; resolves when it reports done. */
async function churn(m: number): Promise<void> {
  process.stdout.write(JSON.stringify({ churn: m }) + '\n');
  await parentLines.next();
}

/**
 * Accepted announcements over `rounds` churn rounds of `m` updates, one after another: each from
 * its first accepted to its last, once the source is done and nothing new came for a second
 * (updates the source superseded before we asked for them are answered nil: fewer than `m` are
 * accepted, ~0.86 × the world's nodes when `m` is twice their number). The rate is that of the
 * rounds together; the event-loop delays and GC pauses include the quiet second after each
 * round, the CPU times those between rounds; each round's span is returned for the query load's
 * windows.
 */
async function ingestRounds(
  app: App,
  m: number,
  rounds: number,
  accepted: () => number,
): Promise<Record<string, unknown>> {
  const cpu0 = threadCpu();
  // server side: how long the event loop made timers wait, and the longest ingest slice
  const slices =
    app.server.engine instanceof RoutingSupervisor ? app.server.engine.ingestSlices : undefined;
  if (slices) slices.stats.maxSliceMs = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  // the main thread's collections meanwhile (a pause is a main-thread task of its own length)
  const gcPauses: number[] = [];
  const gcs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) gcPauses.push(e.duration);
  });
  gcs.observe({ entryTypes: ['gc'] });
  const windows: Array<[number, number]> = [];
  let total = 0;
  let secs = 0;
  let cpu = cpuSince(cpu0);
  for (let round = 0; round < rounds; round++) {
    const a0 = accepted();
    let sourceDone = false;
    const done = churn(m).then(() => (sourceDone = true));
    while (accepted() === a0) await sleep(2);
    const tFirst = performance.now();
    let last = accepted();
    let lastAt = performance.now();
    let cpuAt = performance.now();
    for (;;) {
      await sleep(5);
      if (accepted() !== last) {
        last = accepted();
        lastAt = performance.now();
        // reading /proc for every thread costs the main thread ~1 ms: at most every 100 ms
        // (the CPU of the round's last 100 ms at most is left out)
        if (lastAt - cpuAt >= 100) {
          cpu = cpuSince(cpu0);
          cpuAt = lastAt;
        }
      } else if (sourceDone && performance.now() - lastAt > 1000) break;
      if (performance.now() - tFirst > 300_000)
        throw new Error(`ingest stalled at ${last - a0} of ${m}`);
    }
    await done;
    // epoch ms, for the query load's windows (the round, without the quiet second after it)
    windows.push([performance.timeOrigin + tFirst, performance.timeOrigin + lastAt]);
    total += last - a0;
    secs += (lastAt - tFirst) / 1000;
  }
  loop.disable();
  gcs.disconnect();
  gcPauses.sort((a, b) => a - b);
  return {
    windows,
    accepted: total,
    secs,
    rate: total / secs,
    cpu,
    loopDelayP99: loop.percentile(99) / 1e6,
    maxSliceMs: slices?.stats.maxSliceMs,
    gc: {
      count: gcPauses.length,
      p50: gcPauses[gcPauses.length >> 1] ?? 0,
      max: gcPauses.at(-1) ?? 0,
      totalMs: gcPauses.reduce((a, b) => a + b, 0),
    },
  };
}

const v0 = verifyRate(1500);
const out: Record<string, unknown> = { mode };
if (mode === 'sync') {
  const [expected, ...urls] = rest;
  if (process.env.SINK_WARM_SYNC) {
    const warm = await startSink(urls);
    out.warmSync = await sync(warm, Number(expected));
    await warm.close();
  }
  const app = await startSink(urls);
  out.sync = await sync(app, Number(expected));
  await app.close();
} else {
  const [expected, m, rounds, clients, url] = rest.map((x, i) => (i < 4 ? Number(x) : x)) as [
    number,
    number,
    number,
    number,
    string,
  ];
  const app = await startSink([url]);
  let accepted = 0;
  app.server.addListener({ accepted: () => void accepted++ });
  out.sync = await sync(app, expected);
  await app.server.syncRoutes();
  const promoted = process.env.SINK_HEAP_PROF ? await promotedProfile() : undefined;
  out.idle = await ingestRounds(app, m, rounds, () => accepted);
  if (promoted) writeFileSync(process.env.SINK_HEAP_PROF!, JSON.stringify(await promoted()));
  const load = queryLoad(app, clients);
  await sleep(1500); // the clients are up and busy
  const aloneFrom = performance.timeOrigin + performance.now();
  await sleep(1500); // the baseline: the same queries with no ingest
  const alone: [number, number] = [aloneFrom, performance.timeOrigin + performance.now()];
  out.loaded = await ingestRounds(app, m, rounds, () => accepted);
  // the queries asked while the rounds ingested (not the clients' warm-up before them, nor the
  // quiet seconds after each)
  out.queries = await load.stop({
    windows: (out.loaded as { windows: Array<[number, number]> }).windows,
    alone,
  });
  await app.close();
}
const v1 = verifyRate(1500);
out.verify = {
  wall: (v0.wall + v1.wall) / 2,
  cpu: (v0.cpu + v1.cpu) / 2,
  libsodium: (v0.libsodium + v1.libsodium) / 2,
};
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
