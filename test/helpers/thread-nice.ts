/** Scheduling facts of this process's threads, read from /proc (Linux). */
import { readdirSync, readFileSync } from 'node:fs';

/** Nice values of this process's threads (Linux: field 19 of /proc/self/task/<tid>/stat), by thread id. */
export function threadNice(): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'latin1');
      out.set(Number(t), Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** The nice values of this process's threads. */
export function threadNiceValues(): number[] {
  return [...threadNice().values()];
}
