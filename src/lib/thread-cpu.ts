/**
 * The CPU time the calling thread has spent running, in ms, where the platform tells it
 * (Linux: /proc/thread-self/schedstat, in ns, read on the calling thread); undefined elsewhere.
 * Wall-clock time on a shared machine counts the time other processes held the cores; this
 * does not (benchmarks report both).
 */
import { readFileSync } from 'node:fs';

let available = process.platform === 'linux';

export function threadCpuMs(): number | undefined {
  if (!available) return undefined;
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
    if (Number.isFinite(ns)) return ns / 1e6;
  } catch {
    // not mounted, or not allowed: stop asking
  }
  available = false;
  return undefined;
}
