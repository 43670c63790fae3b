/**
 * Benchmark conventions: every figure is printed beside its limit or baseline measured in the
 * same run, as a ratio. A bench file `bench/<name>.bench.ts` exports `run(opts)` returning
 * BenchResult rows; `bench/run.ts` discovers and runs them. Timing assertions never go in tests.
 */
import { readFileSync } from 'node:fs';

export interface BenchResult {
  /** what was measured, e.g. "parse+verify announcements/s" */
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** the limit or baseline it is compared with, measured in the same run (or a stated target) */
  readonly baseline?: { readonly name: string; readonly value: number; readonly unit: string };
  /** value / baseline (or baseline / value for "lower is better"), compared with target */
  readonly ratio?: number;
  /** the ratio (or value) the issue asks for, e.g. ">= 0.8" */
  readonly target?: string;
  readonly met?: boolean;
  readonly notes?: string;
}

export interface BenchOptions {
  /** shorter runs (CI smoke): fewer iterations, smaller graphs */
  readonly quick: boolean;
  readonly seed: number;
}

/** Repeat `fn` for at least `minMs` (after a warm-up); returns operations per second. */
export function opsPerSecond(
  fn: () => void,
  opts: { minMs?: number; warmup?: number } = {},
): number {
  const warm = opts.warmup ?? 200;
  for (let i = 0; i < warm; i++) fn();
  const minMs = opts.minMs ?? 1000;
  let n = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return (n * 1000) / elapsed;
}

/** Deterministic PRNG (mulberry32) for reproducible inputs: the tests' (one implementation). */
export { prng } from '../test/helpers/prng.ts';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(4);
}

export function formatResult(r: BenchResult): string {
  let line = `${r.name}: ${fmt(r.value)} ${r.unit}`;
  if (r.baseline) line += ` | ${r.baseline.name}: ${fmt(r.baseline.value)} ${r.baseline.unit}`;
  if (r.ratio !== undefined) line += ` | ratio ${r.ratio.toFixed(3)}`;
  if (r.target) line += ` (target ${r.target}: ${r.met ? 'met' : 'NOT met'})`;
  if (r.notes) line += ` — ${r.notes}`;
  return line;
}

/**
 * CPU time of this process's main thread so far, in ms (Linux: /proc/self/task/<pid>/stat, 10 ms
 * ticks; elsewhere the whole process's).
 */
export function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
}
