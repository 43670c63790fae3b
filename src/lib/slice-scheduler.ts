/**
 * Work that shares the event loop fairly with everything else on it: tasks run in FIFO order in
 * slices, one slice per event-loop turn (setImmediate), each slice bounded in time. A slice
 * lasts `sliceMs`, or twice that when the rest of the loop took longer than `sliceMs` since the
 * previous slice ended (the deficit rule: while a backlog exists, the tasks get about as much of
 * the thread as everything else, and never hold it for more than 2 × `sliceMs` at a time).
 *
 * Between two tasks the slice yields to the microtask queue, so what a task's promises resolve
 * (the continuations that follow it) runs inside the slice and is timed with it. Tasks must not
 * throw (a throw is reported to `onError` and the slice goes on).
 */
import { Deque } from './deque.ts';

export interface SliceSchedulerStats {
  slices: number;
  tasks: number;
  /** longest slice so far, ms (continuations included) */
  maxSliceMs: number;
}

export class SliceScheduler {
  readonly stats: SliceSchedulerStats = { slices: 0, tasks: 0, maxSliceMs: 0 };
  private readonly queue = new Deque<() => void>();
  private scheduled = false;
  /** when the previous slice ended (0: no backlog since) */
  private lastEnd = 0;

  constructor(
    private readonly sliceMs: number,
    private readonly onError: (e: unknown) => void = () => undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Tasks waiting for a slice. */
  get backlog(): number {
    return this.queue.length;
  }

  enqueue(task: () => void): void {
    this.queue.push(task);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.slice());
  }

  private async slice(): Promise<void> {
    const start = this.now();
    const others = this.lastEnd === 0 ? 0 : start - this.lastEnd;
    const budget = others > this.sliceMs ? 2 * this.sliceMs : this.sliceMs;
    let n = 0;
    while (this.queue.length > 0) {
      const task = this.queue.shift()!;
      try {
        task();
      } catch (e) {
        this.onError(e);
      }
      n++;
      await Promise.resolve(); // the task's continuations run here, inside the slice
      if (this.now() - start >= budget) break;
    }
    const end = this.now();
    this.stats.slices++;
    this.stats.tasks += n;
    this.stats.maxSliceMs = Math.max(this.stats.maxSliceMs, end - start);
    if (this.queue.length > 0) {
      this.lastEnd = end;
      setImmediate(() => void this.slice());
    } else {
      this.lastEnd = 0;
      this.scheduled = false;
    }
  }
}
