/**
 * Lower the calling thread's CPU priority (raise its nice value), so that it yields its core to
 * the threads that answer queries when the machine is busy. Linux only: there a nice value
 * belongs to one thread, and `setpriority(PRIO_PROCESS, 0, n)` changes the calling thread's;
 * elsewhere the same call would lower the whole process, so nothing is done. Raising nice needs
 * no privilege; lowering it back would, so a thread's priority only ever goes down. Returns
 * whether it was applied.
 */
import { setPriority } from 'node:os';

export function lowerThreadPriority(nice: number): boolean {
  if (nice <= 0 || process.platform !== 'linux') return false;
  try {
    setPriority(0, Math.min(19, Math.floor(nice)));
    return true;
  } catch {
    return false; // a sandbox may forbid it: the thread keeps its priority
  }
}
