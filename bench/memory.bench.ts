/**
 * Memory: resident set size per link once a synthetic network of 50k nodes is loaded into a
 * fast-mode route server (its node records with their kept announcements and link state, the
 * replication store, one subnode actor per node, both tree replicas — in their worker threads
 * — and the active snapshot). Measured in a fresh child process, RSS after − RSS before
 * loading, divided by the links held in node records (target ≤ 2 KB per link).
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchResult } from './harness.ts';
import { loadKeys } from './keys.ts';

const TARGET_BYTES = 2048;
const here = dirname(fileURLToPath(import.meta.url));

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const n = opts.quick ? 5000 : 50_000;
  await loadKeys(n + 1, opts.seed, (s) => void process.stdout.write(`# ${s}\n`)); // generate outside the child
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(here, 'memory-child.ts'), String(n), String(opts.seed)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  const m = JSON.parse(out.trim().split('\n').pop()!) as {
    n: number;
    links: number;
    nodes: number;
    announcements: number;
    actors: number;
    rss: number;
    rssAtRest: number;
    heap: number;
    external: number;
  };
  const perLink = m.rss / m.links;
  return [
    {
      name: `RSS per link at ${n} nodes`,
      value: perLink,
      unit: 'bytes',
      baseline: { name: 'target', value: TARGET_BYTES, unit: 'bytes' },
      ratio: TARGET_BYTES / perLink,
      target: n >= 50_000 ? `<= ${TARGET_BYTES} bytes (ratio >= 1)` : undefined,
      met: n >= 50_000 ? perLink <= TARGET_BYTES : undefined,
      notes: `${m.links} links in records, ${m.nodes} nodes, ${m.announcements} stored announcements, ${m.actors} live subnode actors; RSS +${(m.rss / 1048576).toFixed(0)} MB (main heap +${(m.heap / 1048576).toFixed(0)} MB, buffers +${(m.external / 1048576).toFixed(0)} MB); with the idle actors passivated ${Math.round(m.rssAtRest / m.links)} bytes per link`,
    },
  ];
}
