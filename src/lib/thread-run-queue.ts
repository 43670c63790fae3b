/**
 * How long a thread of this process has waited on a run queue — runnable, but with no core to
 * run on — since it started: the second field of `/proc/self/task/<tid>/schedstat`, in ms.
 * Undefined where it cannot be read (not Linux, a kernel without schedstats, the thread ended).
 * The verification pool's watchdog takes it off a batch's age: a worker kept off the cores by a
 * busy machine (and under SCHED_IDLE it yields to everything) is slow, not hung.
 */
import { readFileSync } from 'node:fs';

export function runQueueWaitMs(tid: number): number | undefined {
  try {
    const waitNs = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ')[1]);
    return Number.isFinite(waitNs) ? waitNs / 1e6 : undefined;
  } catch {
    return undefined;
  }
}
