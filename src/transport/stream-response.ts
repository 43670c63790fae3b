/**
 * Write an answer chunk by chunk with back-pressure: the next chunk is made only once the
 * client has taken the previous ones, so a reader that stops holds one chunk of ours, not the
 * whole body.
 *
 * Every stream of the process makes its chunks inside one shared ChunkPump: it runs the streams
 * that can write, round robin, for at most `budgetMs` per event-loop turn, then lets the loop
 * poll for I/O. However many answers are being streamed, the loop is never held for more than
 * the budget (plus one chunk), and `/healthz` or a `gr` waits at most that long behind them.
 *
 * Two limits cut an answer (the socket is destroyed, the chunk source closed): the client took
 * nothing for `writeTimeoutMs` (this includes the last bytes after the final chunk), or the whole
 * answer is not done after `deadlineMs`.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Deque } from '../lib/deque.ts';

/** Main-thread time all streams together may take per event-loop turn. */
export const CHUNK_TURN_BUDGET_MS = 4;

export class ChunkPump {
  private readonly ready = new Deque<() => void>();
  private scheduled = false;

  constructor(
    private readonly budgetMs = CHUNK_TURN_BUDGET_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Run `step` (which makes and writes one chunk) in a coming turn. */
  request(step: () => void): void {
    this.ready.push(step);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const end = this.now() + this.budgetMs;
    do {
      const step = this.ready.shift();
      if (!step) return;
      step();
    } while (this.now() < end);
    if (this.ready.length > 0) this.schedule();
  };
}

/** The process's pump: every listener's streams share the budget. */
export const sharedChunkPump = new ChunkPump();

export interface StreamLimits {
  readonly writeTimeoutMs: number;
  readonly deadlineMs: number;
}

/** How a stream ended: sent in full, the client went away, or one of the two limits cut it. */
export type StreamEnd = 'done' | 'closed' | 'write_timeout' | 'deadline';

/**
 * Stream `chunks` as the body of `res` (whose head the caller wrote) and end it. Resolves how it
 * ended; rejects only when `chunks` throws (a bug: the socket is destroyed). `chunks.return()` is
 * always called, so a generator releases what it holds.
 */
export function streamChunks(
  res: ServerResponse,
  chunks: Iterator<string | Uint8Array, unknown, undefined>,
  limits: StreamLimits,
  pump: ChunkPump = sharedChunkPump,
): Promise<StreamEnd> {
  return new Promise<StreamEnd>((resolve, reject) => {
    let over = false;
    let wait: NodeJS.Timeout | undefined;
    const finish = (end: StreamEnd, err?: unknown): void => {
      if (over) return;
      over = true;
      clearTimeout(deadline);
      clearTimeout(wait);
      res.off('close', onClose);
      try {
        chunks.return?.();
      } catch {
        // the source failed while closing: nothing more to release
      }
      if (err !== undefined || end === 'write_timeout' || end === 'deadline') res.destroy();
      if (err !== undefined) reject(err);
      else resolve(end);
    };
    const onClose = (): void => finish(res.writableFinished ? 'done' : 'closed');
    const deadline = setTimeout(() => finish('deadline'), limits.deadlineMs);
    deadline.unref();
    /** Wait for `event` (the client took data), or cut the stream after the write timeout. */
    const progress = (event: 'drain' | 'finish', then: () => void): void => {
      wait = setTimeout(() => finish('write_timeout'), limits.writeTimeoutMs);
      res.once(event, () => {
        clearTimeout(wait);
        if (!over) then();
      });
    };
    const step = (): void => {
      if (over) return;
      if (res.destroyed) return finish('closed');
      let next: IteratorResult<string | Uint8Array, unknown>;
      let more: boolean;
      try {
        next = chunks.next();
        more = next.done ? false : res.write(next.value);
      } catch (e) {
        // a bug of the source (or a chunk of the wrong type): this stream ends, the others go on
        return finish('closed', e);
      }
      if (next.done) {
        res.end();
        if (res.writableFinished) finish('done');
        else progress('finish', () => finish('done'));
        return;
      }
      if (more) pump.request(step);
      else progress('drain', () => pump.request(step));
    };
    res.on('close', onClose);
    pump.request(step);
  });
}
