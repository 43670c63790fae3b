/**
 * `npm run bench [-- --quick] [-- --only <name>[,<name>…]] [-- --json <file>]`: runs every
 * bench/*.bench.ts and prints each figure beside its limit or baseline as a ratio.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatResult, type BenchOptions, type BenchResult } from './harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(
    'usage: npm run bench -- [--quick] [--only <name>[,<name>…]] [--seed <n>] [--json <file>]\n' +
      'Runs bench/*.bench.ts (--only: those whose names start with one of the names, in one process: `--only ingest,routes` gives the routes bench the ingest rate it measures at half of); each line prints a figure beside its limit/baseline as a ratio.\n',
  );
  process.exit(0);
}
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const options: BenchOptions = {
  quick: args.includes('--quick'),
  seed: Number(opt('--seed') ?? 42),
};
const only = opt('--only')?.split(',');
const jsonOut = opt('--json');

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !only || only.some((o) => f.startsWith(o)))
  .sort();

const cpu = cpus()[0]?.model ?? 'unknown cpu';
process.stdout.write(
  `# snode benchmarks — node ${process.version}, ${cpus().length} cores (${cpu}), seed ${options.seed}${options.quick ? ', quick' : ''}\n`,
);
const all: Array<BenchResult & { file: string }> = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as {
    run: (o: BenchOptions) => Promise<BenchResult[]>;
  };
  process.stdout.write(`\n## ${f.replace('.bench.ts', '')}\n`);
  const results = await mod.run(options);
  for (const r of results) {
    process.stdout.write(formatResult(r) + '\n');
    all.push({ ...r, file: f });
  }
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(all, null, 2));
process.exit(0);
