/**
 * Child process of test/unit/lib/v8-tuning.test.ts (run with --expose-gc): after `mode` —
 * `none`, `tuning` (applyV8Tuning) or `startApp` (a route server started and closed) — allocates
 * 2,000 objects from one literal with a nested literal and prints the young-generation bytes
 * per object. While V8 tracks allocation sites for pretenuring it puts an allocation memento
 * behind each such object; with pretenuring off it does not, so the figure is smaller.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { bytesToHex } from '../../src/protocol/hex.ts';
import { SIGNED_NODES } from './signed-nodes.ts';
import { startTestApp } from './app.ts';
import { applyV8Tuning } from '../../src/lib/v8-tuning.ts';

const mode = process.argv[2];
if (mode === 'tuning') applyV8Tuning();
if (mode === 'startApp') {
  const app = await startTestApp({
    privateKeyHex: bytesToHex(SIGNED_NODES.get('alice')!.privateKey),
  });
  await app.close();
}
const gc = (globalThis as { gc?: () => void }).gc!;
const youngUsed = (): number =>
  getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;

function make(i: number): { a: number; b: number[] } {
  return { a: i, b: [i] };
}
const N = 2_000; // well inside a fresh young generation: no scavenge in between
let last: unknown;
gc();
const before = youngUsed();
for (let i = 0; i < N; i++) last = make(i);
const after = youngUsed();
process.stdout.write(JSON.stringify({ mode, bytesPerObject: (after - before) / N, last }) + '\n');
