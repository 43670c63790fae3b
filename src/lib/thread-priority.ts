/**
 * The calling thread's CPU priority on Linux, where a nice value and a scheduling policy belong
 * to one thread (elsewhere the same calls would change the whole process, so nothing is done).
 * Going down in priority needs no privilege; going back up would, so a thread's priority only
 * ever goes down. Used by the verification workers, so that the main thread, which answers the
 * queries, gets a core first on a busy machine.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** A thread's priority: its nice value, and whether it runs under SCHED_IDLE (`useIdlePolicy`). */
export interface ThreadPriority {
  readonly nice: number;
  readonly idle: boolean;
}

/** Linux's SCHED_IDLE scheduling policy (sched(7)), as /proc/<tid>/stat shows it. */
export const SCHED_IDLE = 5;

/**
 * Raise the calling thread's nice value (`setpriority(PRIO_PROCESS, 0, n)` changes the calling
 * thread's on Linux). Returns whether it was applied.
 */
export function lowerThreadPriority(nice: number): boolean {
  if (nice <= 0 || process.platform !== 'linux') return false;
  try {
    setPriority(0, Math.min(19, Math.floor(nice)));
    return true;
  } catch {
    return false; // a sandbox may forbid it: the thread keeps its priority
  }
}

/** The calling thread's kernel thread id (`/proc/thread-self`); undefined outside Linux. */
export function currentThreadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** A thread's scheduling policy (0 SCHED_OTHER, 3 SCHED_BATCH, 5 SCHED_IDLE); undefined if unknown. */
export function threadPolicy(tid: number): number | undefined {
  try {
    const st = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    const policy = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[38]);
    return Number.isInteger(policy) ? policy : undefined;
  } catch {
    return undefined;
  }
}

/** What `useIdlePolicy` did: applied, or why not. */
export type IdlePolicyOutcome =
  { readonly applied: true } | { readonly applied: false; readonly reason: string };

/**
 * Put the calling thread under SCHED_IDLE: it runs only on what the process's and the machine's
 * other threads leave of a core, and any of them that wakes up takes the core back at once. A
 * nice value only weighs the share: a thread at nice 19 that holds the core when the main
 * thread wakes up may keep it until the kernel's next tick (4 ms at HZ 250), the wait that made
 * the query p99 beside ingest (docs/performance.md, "Issue 17, late night").
 *
 * Node has no call for a thread's scheduling policy, so this runs util-linux's `chrt` (present
 * wherever util-linux is: every Debian and Ubuntu system and the node images) on this thread's
 * id; `chrt` is the command's path (tests). Resolves with the outcome, never rejects: without
 * `chrt`, or where a sandbox refuses `sched_setscheduler`, the thread keeps its nice value.
 */
export function useIdlePolicy(chrt = 'chrt'): Promise<IdlePolicyOutcome> {
  const tid = currentThreadId();
  if (tid === undefined) return Promise.resolve({ applied: false, reason: 'not Linux' });
  return new Promise((resolve) => {
    execFile(
      chrt,
      ['--idle', '--pid', '0', String(tid)],
      { timeout: 10_000 },
      (err, _out, stderr) => {
        if (!err && threadPolicy(tid) === SCHED_IDLE) resolve({ applied: true });
        else
          resolve({
            applied: false,
            reason: !err
              ? `${chrt} left the policy unchanged`
              : (err as NodeJS.ErrnoException).code === 'ENOENT'
                ? `${chrt} not found (util-linux)`
                : `${chrt}: ${stderr.trim() || err.message}`,
          });
      },
    );
  });
}
