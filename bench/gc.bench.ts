/**
 * Garbage collection per announcement on the main thread (issue 17): what survives a scavenge is
 * what makes `gr`'s p99 under ingest, since a scavenge's pause grows with the bytes it copies.
 * A fresh process (bench/gc-child.ts) loads the 10k-node mesh, then ingests link-state updates
 * through the whole fast pipeline under `--trace-gc-nvp`; from V8's lines of the main isolate
 * during the ingest: bytes allocated, surviving a scavenge and promoted to the old generation per
 * accepted announcement, and the scavenges' pauses. The target is the storage design's: fewer
 * than 300 bytes promoted per announcement. Byte figures are stable between runs; pauses are
 * the machine's (copy speed, other load).
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, type BenchOptions, type BenchResult } from './harness.ts';
import { loadKeys } from './keys.ts';

const PROMOTED_TARGET = 300;
const here = dirname(fileURLToPath(import.meta.url));

interface Collection {
  readonly kind: string;
  readonly pause: number;
  readonly allocated: number;
  readonly promoted: number;
  readonly survived: number;
}

export interface GcFigures {
  readonly accepted: number;
  readonly ms: number;
  /** main isolate's collections during the ingest */
  readonly main: readonly Collection[];
  /** bytes promoted per accepted announcement, per worker isolate */
  readonly workersPromoted: readonly number[];
}

/** Read `--trace-gc-nvp` output: the main isolate is the first one that collects (before any worker starts). */
export function parseGcTrace(text: string): GcFigures {
  let inside = false;
  let main: string | undefined;
  let summary = { accepted: 0, ms: 0 };
  const byIsolate = new Map<string, Collection[]>();
  for (const line of text.split('\n')) {
    if (line.startsWith('### INGEST START')) inside = true;
    else if (line.startsWith('### INGEST END')) inside = false;
    else if (line.startsWith('{"accepted"')) summary = JSON.parse(line) as typeof summary;
    const m = /^\[\d+:(0x[0-9a-f]+)\]/.exec(line);
    if (!m || !line.includes('pause=')) continue;
    main ??= m[1];
    if (!inside) continue;
    const num = (k: string): number =>
      Number(new RegExp(`\\b${k}=([-\\d.]+)`).exec(line)?.[1] ?? 0);
    const c: Collection = {
      kind: /\bgc=(\w+)/.exec(line)?.[1] ?? '?',
      pause: num('pause'),
      allocated: num('allocated'),
      promoted: num('promoted'),
      survived: num('new_space_survived'),
    };
    const list = byIsolate.get(m[1]!) ?? [];
    list.push(c);
    byIsolate.set(m[1]!, list);
  }
  const per = (list: readonly Collection[]): number =>
    list.reduce((s, c) => s + c.promoted, 0) / Math.max(1, summary.accepted);
  return {
    accepted: summary.accepted,
    ms: summary.ms,
    main: byIsolate.get(main ?? '') ?? [],
    workersPromoted: [...byIsolate].filter(([iso]) => iso !== main).map(([, list]) => per(list)),
  };
}

function runChild(n: number, count: number, window: number, seed: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--expose-gc',
        '--trace-gc-nvp',
        '--import',
        'tsx',
        join(here, 'gc-child.ts'),
        String(n),
        String(count),
        String(window),
        String(seed),
      ],
      { encoding: 'utf8', maxBuffer: 256 << 20 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const log = (s: string): void => void process.stdout.write(`# ${s}\n`);
  const n = opts.quick ? 2000 : 10_000;
  const count = opts.quick ? 5000 : 30_000;
  const window = 1024;
  await loadKeys(n + 1, opts.seed, log);
  const g = parseGcTrace(await runChild(n, count, window, opts.seed));
  const scav = g.main.filter((c) => c.kind === 's');
  const others = g.main.filter((c) => c.kind !== 's');
  const sum = (list: readonly Collection[], k: keyof Omit<Collection, 'kind'>): number =>
    list.reduce((s, c) => s + c[k], 0);
  const perAnn = (b: number): number => b / Math.max(1, g.accepted);
  const promoted = perAnn(sum(g.main, 'promoted'));
  const pauses = scav.map((c) => c.pause).sort((a, b) => a - b);
  const workers = g.workersPromoted.map((b) => Math.round(b)).join(', ');
  return [
    {
      name: `bytes promoted to the old generation per announcement, main thread, ${n} nodes`,
      value: promoted,
      unit: 'bytes',
      baseline: { name: 'target', value: PROMOTED_TARGET, unit: 'bytes' },
      ratio: PROMOTED_TARGET / Math.max(1, promoted),
      target: `< ${PROMOTED_TARGET} bytes (ratio > 1)`,
      met: promoted < PROMOTED_TARGET,
      notes:
        `${g.accepted} link-state announcements accepted in ${(g.ms / 1000).toFixed(1)} s (${window} in flight); per announcement: ` +
        `allocated ${Math.round(perAnn(sum(g.main, 'allocated')))} B, survived a scavenge ${Math.round(perAnn(sum(scav, 'survived')))} B; ` +
        `worker isolates promoted ${workers} B`,
    },
    {
      name: `scavenge pause p99 while ingesting, main thread, ${n} nodes`,
      value: percentile(pauses, 99),
      unit: 'ms',
      notes: `${scav.length} scavenges (p50 ${percentile(pauses, 50).toFixed(1)} ms, max ${(pauses.at(-1) ?? 0).toFixed(1)} ms, ${(sum(scav, 'promoted') / Math.max(1, scav.length) / 1024).toFixed(0)} KB promoted each), ${others.length} other collections (${sum(others, 'pause').toFixed(0)} ms in all); pauses depend on the machine's load`,
    },
  ];
}
