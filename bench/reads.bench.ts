/**
 * Bounded reads (issue 12 item 3): a route server holding the synthetic network of 20k nodes
 * (loaded through the fast pipeline in a child process, so RSS is the server's), then 64 clients
 * that each request `/walk` and never read, from 64 different loopback addresses (so the
 * per-address cap does not turn them away). Meanwhile `/healthz` is asked every 20 ms from
 * another connection. Targets: `/healthz` p99 < 50 ms, RSS growth < 100 MB.
 *
 * Two runs: the default limits (16 whole-table answers at a time: the other 48 clients get 503),
 * and the caps raised to 64 so that every client holds an answer — what streaming with
 * back-pressure bounds by itself. Also printed: the event-loop delay p99 during the hold, and the
 * RSS left once the clients are gone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, type BenchOptions, type BenchResult } from './harness.ts';
import { loadKeys } from './keys.ts';

const here = dirname(fileURLToPath(import.meta.url));
const CLIENTS = 64;
const P99_TARGET_MS = 50;
const RSS_TARGET_MB = 100;
const MB = 1024 * 1024;

interface Ready {
  port: number;
  rss: number;
  nodes: number;
  links: number;
  walkBytes: number;
}

function ask<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string } & T): void => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    if (type !== 'ready') child.send({ type });
  });
}

/** GET /healthz every `everyMs` for `forMs`: latencies in ms, and how many were not 200. */
async function sampleHealthz(
  port: number,
  forMs: number,
  everyMs = 20,
): Promise<{ ms: number[]; failed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const ms: number[] = [];
  let failed = 0;
  const end = Date.now() + forMs;
  while (Date.now() < end) {
    const t0 = process.hrtime.bigint();
    const status = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.setTimeout(30_000, () => req.destroy());
      req.on('error', () => resolve(0));
      req.end();
    });
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (status !== 200) failed++;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  agent.destroy();
  return { ms: ms.sort((a, b) => a - b), failed };
}

/** A client that requests `/walk` from `localAddress` and never reads. */
function stalledClient(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress }, () => {
      s.pause();
      s.write('GET /walk HTTP/1.1\r\nHost: bench\r\n\r\n');
      resolve(s);
    });
    s.on('error', reject);
  });
}

interface Scenario {
  readonly name: string;
  readonly heavy: Record<string, number>;
}

async function measure(
  n: number,
  seed: number,
  sc: Scenario,
  log: (s: string) => void,
): Promise<BenchResult[]> {
  const child = fork(
    join(here, 'reads-child.ts'),
    [String(n), String(seed), JSON.stringify(sc.heavy)],
    {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  try {
    const ready = await ask<Ready>(child, 'ready');
    const base = (await ask<{ rss: number }>(child, 'gc')).rss;
    const idle = await sampleHealthz(ready.port, 3000);
    await ask(child, 'lag');
    log(
      `  ${sc.name}: ${ready.nodes} nodes, ${ready.links} links, /walk ${(ready.walkBytes / MB).toFixed(1)} MB; RSS ${(base / MB).toFixed(0)} MB loaded`,
    );

    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => stalledClient(ready.port, `127.0.1.${i + 1}`)),
    );
    let peak = base;
    const poll = setInterval(
      () => void ask<{ rss: number }>(child, 'rss').then((m) => (peak = Math.max(peak, m.rss))),
      250,
    );
    const held = await sampleHealthz(ready.port, 15_000);
    clearInterval(poll);
    peak = Math.max(peak, (await ask<{ rss: number }>(child, 'rss')).rss);
    const lag = await ask<{ p99: number; max: number }>(child, 'lag');
    // what each client got: a 200 being streamed, or a refusal (read the status line now)
    const statuses = await Promise.all(
      clients.map(
        (s) =>
          new Promise<string>((resolve) => {
            const t = setTimeout(() => resolve('?'), 5000);
            s.once('data', (d: Buffer) => {
              clearTimeout(t);
              resolve(d.toString('latin1').slice(9, 12));
            });
            s.resume();
          }),
      ),
    );
    for (const s of clients) s.destroy();
    const after = (await ask<{ rss: number }>(child, 'gc')).rss;
    const count = (code: string): number => statuses.filter((x) => x === code).length;

    const p99 = percentile(held.ms, 99);
    const growthMb = (peak - base) / MB;
    const note = `${count('200')} answers held, ${count('503')} refused 503, ${count('429')} refused 429; ${held.ms.length} /healthz samples (${held.failed} failed), p50 ${percentile(held.ms, 50).toFixed(2)} ms, max ${held.ms.at(-1)!.toFixed(1)} ms; idle p99 ${percentile(idle.ms, 99).toFixed(2)} ms`;
    return [
      {
        name: `/healthz p99 while ${CLIENTS} clients hold /walk, ${n} nodes, ${sc.name}`,
        value: p99,
        unit: 'ms',
        baseline: { name: 'target', value: P99_TARGET_MS, unit: 'ms' },
        ratio: P99_TARGET_MS / p99,
        target: `< ${P99_TARGET_MS} ms (ratio > 1)`,
        met: p99 < P99_TARGET_MS && held.failed === 0,
        notes: note,
      },
      {
        name: `RSS growth while ${CLIENTS} clients hold /walk, ${n} nodes, ${sc.name}`,
        value: growthMb,
        unit: 'MB',
        baseline: { name: 'target', value: RSS_TARGET_MB, unit: 'MB' },
        ratio: RSS_TARGET_MB / Math.max(growthMb, 0.1),
        target: `< ${RSS_TARGET_MB} MB (ratio > 1)`,
        met: growthMb < RSS_TARGET_MB,
        notes: `loaded ${(base / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB, ${((after - base) / MB).toFixed(1)} MB above loaded once the clients are gone; event-loop delay during the hold p99 ${lag.p99.toFixed(1)} ms, max ${lag.max.toFixed(1)} ms`,
      },
    ];
  } finally {
    child.send({ type: 'stop' });
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        r();
      }, 10_000);
      child.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
  }
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const n = opts.quick ? 5000 : 20_000;
  const log = (s: string): void => void process.stdout.write(`# ${s}\n`);
  await loadKeys(n + 1, opts.seed, log); // generate outside the child
  const out: BenchResult[] = [];
  const scenarios: Scenario[] = [
    { name: 'default limits (16 at a time, 2 per address)', heavy: {} },
    { name: 'caps raised to 64', heavy: { perAddress: 64, total: 64 } },
  ];
  for (const sc of scenarios) {
    out.push(...(await measure(n, opts.seed, sc, log)));
  }
  return out;
}
