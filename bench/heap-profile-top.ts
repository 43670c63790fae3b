/**
 * Sums a sampling heap profile (`HeapProfiler.stopSampling`'s `profile`, as
 * bench/sync-sink.ts writes it with SINK_HEAP_PROF) by allocating function and by call stack:
 * the sites that allocate what a run kept.
 *
 *   node --import tsx bench/heap-profile-top.ts <profile.json> [divide-by] [rows]
 *
 * `divide-by` turns bytes into bytes per unit (say, per announcement of the round).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const [file, per = '1', rows = '25'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: heap-profile-top.ts <profile.json> [divide-by] [rows]\n');
  process.exit(1);
}
const head = (JSON.parse(readFileSync(file, 'utf8')) as { head: ProfileNode }).head;
const name = (n: ProfileNode): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').at(-1)}:${n.callFrame.lineNumber + 1}`;
const bySite = new Map<string, number>();
const byStack = new Map<string, number>();
let total = 0;
const walk = (n: ProfileNode, path: string[]): void => {
  const here = [...path, name(n)];
  if (n.selfSize > 0) {
    total += n.selfSize;
    bySite.set(name(n), (bySite.get(name(n)) ?? 0) + n.selfSize);
    const stack = here.slice(-6).reverse().join(' < ');
    byStack.set(stack, (byStack.get(stack) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, here);
};
walk(head, []);
const unit = Number(per);
const top = (m: Map<string, number>): string =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(rows))
    .map(([k, v]) => `${(v / unit).toFixed(0).padStart(8)}  ${k}`)
    .join('\n');
process.stdout.write(
  `total ${(total / unit).toFixed(0)}\n\nby function:\n${top(bySite)}\n\nby stack:\n${top(byStack)}\n`,
);
