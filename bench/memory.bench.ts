/**
 * Memory of a route server that joined a network: a source process holds a synthetic mesh
 * (bench/mesh-source.ts) and a fresh process (bench/memory-child.ts: the whole app, default
 * settings) pulls it over the replication websocket, so every byte it keeps came from the
 * socket. Per directional link in its node records, the RSS growth from the started, idle
 * server to the loaded one (target ≤ 2,048 bytes, issue 17), at 10k and 50k nodes; beside it the
 * total RSS and what the started server costs before any node (its worker threads).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchResult } from './harness.ts';
import { loadKeys } from './keys.ts';
import { defaultReplicationSettings } from '../src/replication/replication-settings.ts';

const TARGET_BYTES = 2048;
const MB = 1024 * 1024;
const WANTED_DEFAULT = defaultReplicationSettings().maxWantedPerPeer;
const here = dirname(fileURLToPath(import.meta.url));

interface SourceReady {
  readonly port: number;
  readonly store: number;
  readonly nodes: number;
  readonly links: number;
}

interface Measured {
  readonly stored: number;
  readonly expected: number;
  readonly syncMs: number;
  readonly links: number;
  readonly nodes: number;
  readonly actors: number;
  readonly rssProcess: number;
  readonly rssIdle: number;
  readonly rssLoaded: number;
  readonly rssAtRest: number;
  readonly rssPeak: number;
  readonly heapIdle: number;
  readonly heapLoaded: number;
  readonly arrayBuffersIdle: number;
  readonly arrayBuffersLoaded: number;
  readonly workersIdle: { verify: number[]; replicas: number[] };
  readonly workersLoaded: { verify: number[]; replicas: number[] };
}

function startSource(
  n: number,
  seed: number,
): { child: ChildProcess; ready: Promise<SourceReady> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'mesh-source.ts'), String(n), String(seed)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const ready = new Promise<SourceReady>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (l) => resolve(JSON.parse(l) as SourceReady));
    child.once('exit', (code) =>
      reject(new Error(`mesh source exited (${code}) before it was ready`)),
    );
  });
  return { child, ready };
}

function measureChild(
  url: string,
  expected: number,
  replication: Record<string, unknown>,
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        join(here, 'memory-child.ts'),
        url,
        String(expected),
        JSON.stringify(replication),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
      (err, stdout) => {
        if (err) reject(err);
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Measured);
      },
    );
  });
}

async function measure(n: number, seed: number, log: (s: string) => void): Promise<BenchResult[]> {
  const source = startSource(n, seed);
  try {
    const ready = await source.ready;
    log(`  source: ${ready.nodes} nodes, ${ready.links} links, ${ready.store} announcements`);
    // a want list longer than maxWantedPerPeer pauses the socket with the answers behind it and the
    // sync never completes (issue 12, being fixed in the pull path): room for the whole inventory
    const replication = ready.store > WANTED_DEFAULT ? { maxWantedPerPeer: 2 * ready.store } : {};
    const m = await measureChild(
      `ws://127.0.0.1:${ready.port}/cjdnsnode_websocket`,
      ready.store,
      replication,
    );
    const growth = m.rssLoaded - m.rssIdle;
    const perLink = growth / m.links;
    const atRest = (m.rssAtRest - m.rssIdle) / m.links;
    const complete = m.stored === m.expected && m.links === ready.links;
    const mb = (b: number): string => (b / MB).toFixed(0);
    const workers = (w: { verify: number[]; replicas: number[] }): string =>
      `verify ${w.verify.map(mb).join('/')} MB, replicas ${w.replicas.map(mb).join('/')} MB`;
    return [
      {
        name: `RSS growth per directional link, ${n} nodes pulled over the replication websocket`,
        value: perLink,
        unit: 'bytes',
        baseline: { name: 'target', value: TARGET_BYTES, unit: 'bytes' },
        ratio: TARGET_BYTES / perLink,
        target: `<= ${TARGET_BYTES} bytes (ratio >= 1)`,
        met: complete && perLink <= TARGET_BYTES,
        notes:
          `${m.stored} of ${m.expected} announcements${'maxWantedPerPeer' in replication ? ` (maxWantedPerPeer ${replication.maxWantedPerPeer})` : ''} in ${(m.syncMs / 1000).toFixed(1)} s, ${m.links} links, ${m.nodes} nodes; ` +
          `RSS ${mb(m.rssIdle)} → ${mb(m.rssLoaded)} MB (+${mb(growth)} MB; peak ${mb(m.rssPeak)} MB); ` +
          `main heap +${mb(m.heapLoaded - m.heapIdle)} MB, array buffers +${mb(m.arrayBuffersLoaded - m.arrayBuffersIdle)} MB; ` +
          `worker heaps idle ${workers(m.workersIdle)}, loaded ${workers(m.workersLoaded)}; ` +
          `${m.actors} live subnode actors, ${Math.round(atRest)} bytes per link once they are passivated`,
      },
      {
        name: `total RSS, ${n} nodes pulled over the replication websocket`,
        value: m.rssLoaded / MB,
        unit: 'MB',
        notes: `the bare process ${mb(m.rssProcess)} MB, the started idle server ${mb(m.rssIdle)} MB (+${mb(m.rssIdle - m.rssProcess)} MB: worker threads, listeners); ${((m.rssLoaded - m.rssProcess) / m.links).toFixed(0)} bytes per link from the bare process`,
      },
    ];
  } finally {
    source.child.kill('SIGTERM');
    await new Promise<void>((r) => {
      if (source.child.exitCode !== null) r();
      else source.child.once('exit', () => r());
    });
  }
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const log = (s: string): void => void process.stdout.write(`# ${s}\n`);
  const sizes = opts.quick ? [2000] : [10_000, 50_000];
  await loadKeys(Math.max(...sizes) + 1, opts.seed, log); // generate outside the children
  const out: BenchResult[] = [];
  for (const n of sizes) out.push(...(await measure(n, opts.seed, log)));
  return out;
}
