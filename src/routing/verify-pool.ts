/**
 * A pool of worker threads that parse and verify announcements (ed25519 is the costliest thing
 * the route server does per message). Callers `await parse(bytes)`; the main thread never
 * verifies while the pool runs. A worker returns the verdict (the exact parse error, or
 * "verified" with the identity derived from the key); for a verified message the main thread
 * re-reads the bytes without the signature check (its key cache seeded with the worker's
 * derivation), which costs a quarter of copying the parsed objects back (verify-worker.ts).
 *
 * - Routing: a message goes to the worker chosen by its signing key (bytes 64..96), so every
 *   key's derived identity (and, on the OpenSSL fallback, its imported KeyObject) is cached in
 *   exactly one worker.
 * - Order: results are handed back in submission order across all workers, as one worker (and
 *   the original, which verifies one message at a time) would: a result that comes back before
 *   an earlier message's waits for it. The subnode actors rely on per-node order, and the node
 *   table's insertion order (the original's `nodesByIp` order, which the read API and route
 *   ties follow) is the order announcements arrived in, whatever the number of workers and
 *   whichever batch finishes first.
 * - Batching: messages submitted in one synchronous run (a burst of replicated DATA, say) leave
 *   together: a lane is flushed in a microtask, not per message. A worker has at most
 *   `maxInFlight` batches outstanding; while it is busy, new messages queue and leave together
 *   (up to `batchSize`), so batches grow with the load and a lone message still leaves at once.
 * - Delivery: with a SliceScheduler (lib/slice-scheduler.ts), a batch's results are parsed and
 *   handed back (with what their callers do next: the apply) in time-bounded slices, one per
 *   event-loop turn, instead of all in the turn the batch came back in: ingest then shares the
 *   main thread with queries instead of holding it for a whole batch. Per-node order holds: the
 *   scheduler is FIFO, and each result is delivered before the next one's.
 * - Bounds: at most `maxQueued` messages are held (queued, at a worker, or verified and waiting for
 *   their turn or their delivery slice); beyond that `parse` rejects with
 *   RS_ERR_VERIFY_QUEUE_FULL (the caller refuses the announcement; cjdns retries).
 * - A worker that dies fails its outstanding batches (RS_ERR_WORKER_FAILED) and is replaced. So
 *   does one that leaves a batch unanswered for `batchTimeoutMs` (taken for hung, and stopped):
 *   results are handed back in submission order, so a hung worker would hold back every later
 *   result of every worker for good. The time a worker spent waiting for a core (runnable, not
 *   running: Linux's schedstat) does not count: on a busy machine it is slow, not hung.
 * - Priority: `priority` (a nice value, and SCHED_IDLE or not) goes with every batch, and a
 *   worker applies it before the batch when it changed (lib/thread-priority.ts).
 * - Size: `resize` adds workers or retires the last ones (a retiring worker takes nothing new,
 *   finishes what it holds, then stops). A key may then go to another worker than its earlier
 *   announcements did; the hand-back order above keeps every node's order all the same. The
 *   route server runs more workers while an initial sync is pulling, and fewer once it serves
 *   (routing-supervisor.ts).
 */
import type { Worker } from 'node:worker_threads';
import { isRsError, RsError } from '../errors.ts';
import type { AnnounceInput } from '../graph/apply-announcement.ts';
import { parseAnnouncement, rememberDerivedNode } from '../protocol/announcement.ts';
import { Deque } from '../lib/deque.ts';
import type { SliceScheduler } from '../lib/slice-scheduler.ts';
import { spawnWorker } from '../lib/spawn-worker.ts';
import type { IdlePolicyOutcome, ThreadPriority } from '../lib/thread-priority.ts';
import { runQueueWaitMs } from '../lib/thread-run-queue.ts';
import type { RoutingSettings } from './routing-settings.ts';
import type { VerifyResult } from './verify-worker.ts';

export interface VerifyPoolOptions {
  /** worker threads (default: defaultVerifyWorkers) */
  readonly workers: number;
  /** worker threads while an initial sync is pulling (default: defaultSyncVerifyWorkers; at least `workers`) */
  readonly syncWorkers?: number;
  /** most messages per batch */
  readonly batchSize: number;
  /** batches outstanding per worker before messages queue */
  readonly maxInFlight: number;
  /** messages queued in the pool before `parse` refuses */
  readonly maxQueued: number;
  /** check signatures (false only for pre-verified input) */
  readonly verifySignature: boolean;
  /** nice value of the worker threads (lib/thread-priority.ts; default 0: unchanged; `priority`) */
  readonly nice?: number;
  /** run the worker threads under SCHED_IDLE (lib/thread-priority.ts; default false; `priority`) */
  readonly schedIdle?: boolean;
  /**
   * a batch a worker has not answered after this many ms: the worker is taken for hung, stopped
   * and replaced, and what it held fails (RS_ERR_WORKER_FAILED); 0 or absent: never
   */
  readonly batchTimeoutMs?: number;
  /** a worker thread's run-queue wait so far, in ms (default: lib/thread-run-queue.ts; tests) */
  readonly runQueueWaitMs?: (tid: number) => number | undefined;
}

/** A batch at a worker: its messages' waiters, and when it was sent (performance.now()). */
interface Batch {
  readonly waiters: Waiter[];
  readonly sentAt: number;
}

interface Waiter {
  resolve(r: unknown): void;
  reject(e: Error): void;
  /** what the caller does with the parse, in its delivery turn (undefined: resolve with it) */
  readonly then: ((input: AnnounceInput) => unknown) | undefined;
  readonly bytes: Uint8Array;
  /** the worker's verdict is in (it waits for every earlier message's) */
  done: boolean;
  result: VerifyResult;
  /** the worker failed it */
  error: Error | undefined;
}

interface Lane {
  worker: Worker;
  /** takes no new messages; stops once it holds none */
  retiring: boolean;
  /** a microtask will send what the lane queued */
  flushScheduled: boolean;
  queue: Uint8Array[];
  waiters: Waiter[];
  inFlight: Map<number, Batch>;
  heapWaiters: ((n: number) => void)[];
  /** the watchdog stopped this lane's worker (a batch unanswered for batchTimeoutMs) */
  hung: boolean;
  /** the worker's kernel thread id (it tells it at start; undefined outside Linux) */
  tid: number | undefined;
  /** the worker runs under SCHED_IDLE (it said so) */
  idle: boolean;
  /** the oldest batch in flight when the watchdog first saw it, and the run-queue wait then */
  watched: { readonly id: number; readonly waitMs: number | undefined } | undefined;
}

/** What a worker posts besides a batch's results. */
type WorkerNote =
  | { readonly op: 'heap'; readonly heap: { used_heap_size: number } }
  | { readonly op: 'tid'; readonly tid: number | undefined }
  | { readonly op: 'idle'; readonly outcome: IdlePolicyOutcome };

export interface VerifyPoolStats {
  batches: number;
  messages: number;
  rejected: number;
  workerRestarts: number;
  /** workers stopped as hung (batchTimeoutMs); those replaced are counted in workerRestarts too */
  workerTimeouts: number;
}

export class VerifyPool {
  readonly stats: VerifyPoolStats = {
    batches: 0,
    messages: 0,
    rejected: 0,
    workerRestarts: 0,
    workerTimeouts: 0,
  };
  private readonly lanes: Lane[] = [];
  /** lanes that take new messages: the first `active` ones */
  private active = 0;
  /** every message not yet handed back, in submission order */
  private readonly order = new Deque<Waiter>();
  private queued = 0;
  private nextId = 1;
  private closed = false;
  /**
   * The workers' priority from their next batch on (every batch carries it; a worker applies it
   * before verifying when it changed). Going down always works; a worker already lowered stays
   * where it is (going back up needs a privilege), so the route server keeps the main thread's
   * priority while its initial sync pulls (no queries to make room for yet) and lowers it once
   * it serves (routing-supervisor.ts).
   */
  priority: ThreadPriority;
  /** why a worker could not use SCHED_IDLE, told once (`warn`) */
  private idleRefused = false;
  /** looks for batches older than batchTimeoutMs (one timer for the pool, not one per batch) */
  private readonly watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: VerifyPoolOptions,
    /** delivers results in time-bounded slices (undefined: all at once, as they come back) */
    private readonly delivery?: SliceScheduler,
    /**
     * told once per `parse` call, with its bytes, as its promise settles (before its
     * continuations run) or when it is refused: what a caller keeps per message in flight
     * without a `then` of its own per message
     */
    private readonly settled: (bytes: Uint8Array) => void = () => undefined,
    /** told what an operator should know (a worker that could not use SCHED_IDLE, once) */
    private readonly warn: (
      event: string,
      fields: Record<string, unknown>,
      message: string,
    ) => void = () => undefined,
  ) {
    this.priority = { nice: opts.nice ?? 0, idle: opts.schedIdle ?? false };
    this.resize(opts.workers);
    const timeout = opts.batchTimeoutMs ?? 0;
    if (timeout > 0) {
      this.watchdog = setInterval(() => this.stopHung(timeout), Math.min(1000, timeout / 2));
      this.watchdog.unref();
    }
  }

  /** Worker threads running under SCHED_IDLE. */
  get idleWorkers(): number {
    let n = 0;
    for (const l of this.lanes) if (l.idle) n++;
    return n;
  }

  /** Workers taking new messages. */
  get size(): number {
    return this.active;
  }

  /** Worker threads running, retiring ones included. */
  get threads(): number {
    return this.lanes.length;
  }

  /**
   * Run `n` workers (at least 1): start more, or retire the last ones (each stops once it holds
   * nothing; until then it finishes what it was given).
   */
  resize(n: number): void {
    if (this.closed) return;
    const want = Math.max(1, Math.floor(n));
    for (let i = 0; i < this.lanes.length; i++) this.lanes[i]!.retiring = i >= want;
    while (this.lanes.length < want) {
      const lane: Lane = {
        worker: undefined as unknown as Worker,
        retiring: false,
        flushScheduled: false,
        queue: [],
        waiters: [],
        inFlight: new Map(),
        heapWaiters: [],
        hung: false,
        tid: undefined,
        idle: false,
        watched: undefined,
      };
      this.lanes.push(lane);
      this.startWorker(lane, this.lanes.length - 1);
    }
    this.active = want;
    this.stopIdleRetired();
  }

  /** Stop retiring workers at the end of the list that hold nothing. */
  private stopIdleRetired(): void {
    for (let last = this.lanes.at(-1); last?.retiring; last = this.lanes.at(-1)) {
      if (last.queue.length > 0 || last.inFlight.size > 0 || last.heapWaiters.length > 0) return;
      this.lanes.pop();
      void last.worker.terminate();
    }
  }

  /** Messages waiting to be sent to a worker. */
  get queueDepth(): number {
    return this.queued;
  }

  /** Messages sent to workers and not answered yet. */
  get inFlight(): number {
    let n = 0;
    for (const l of this.lanes) for (const b of l.inFlight.values()) n += b.waiters.length;
    return n;
  }

  /**
   * Parse and verify `bytes` in a worker: `{ann}`, or `{parseError}` with the exact error of
   * `parseAnnouncement`. Rejects only when the pool is full (RS_ERR_VERIFY_QUEUE_FULL), closed,
   * or a worker died (RS_ERR_WORKER_FAILED).
   */
  parse(bytes: Uint8Array): Promise<AnnounceInput>;
  parse<R>(bytes: Uint8Array, then: (input: AnnounceInput) => R | PromiseLike<R>): Promise<R>;
  parse<R>(
    bytes: Uint8Array,
    then?: (input: AnnounceInput) => R | PromiseLike<R>,
  ): Promise<R | AnnounceInput> {
    if (this.closed) {
      this.settled(bytes);
      return Promise.reject(new RsError('RS_ERR_WORKER_FAILED', 'verification pool closed'));
    }
    // everything not handed back counts: queued, at a worker, and verified but waiting for an
    // earlier message's verdict (a slow worker holds every later result back)
    const held = this.order.length + (this.delivery?.backlog ?? 0);
    if (held >= this.opts.maxQueued) {
      this.stats.rejected++;
      this.settled(bytes);
      return Promise.reject(
        new RsError(
          'RS_ERR_VERIFY_QUEUE_FULL',
          `${held} announcements are waiting for verification`,
        ),
      );
    }
    const lane = this.lanes[this.laneOf(bytes)]!;
    return new Promise<R | AnnounceInput>((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        then,
        bytes,
        done: false,
        result: null,
        error: undefined,
      };
      lane.queue.push(bytes);
      lane.waiters.push(w);
      this.order.push(w);
      this.queued++;
      if (!lane.flushScheduled && lane.inFlight.size < this.opts.maxInFlight) {
        lane.flushScheduled = true;
        queueMicrotask(() => this.flush(lane));
      }
    });
  }

  /** Send what a lane queued during the synchronous run that just ended (batches of batchSize). */
  private flush(lane: Lane): void {
    lane.flushScheduled = false;
    while (lane.queue.length > 0 && lane.inFlight.size < this.opts.maxInFlight && !this.closed)
      this.send(lane);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    const err = new RsError('RS_ERR_WORKER_FAILED', 'verification pool closed');
    // every message not handed back — queued, at a worker, or verified behind an earlier one
    for (const w of this.order) this.fail(w, err);
    this.order.clear();
    for (const lane of this.lanes) {
      lane.waiters = [];
      lane.queue = [];
      lane.inFlight.clear();
    }
    await Promise.all(this.lanes.map((l) => l.worker.terminate()));
  }

  private fail(w: Waiter, err: Error): void {
    this.settled(w.bytes);
    w.reject(err);
  }

  /** V8 heap used by each worker (diagnostics). */
  heapUsed(): Promise<number[]> {
    return Promise.all(
      this.lanes.map(
        (lane) =>
          new Promise<number>((resolve) => {
            lane.heapWaiters.push(resolve);
            lane.worker.postMessage({ op: 'heap' });
          }),
      ),
    );
  }

  /** Instrumentation: make worker `i` hang (a busy loop until it is stopped). */
  hangWorkerForTest(i: number): void {
    this.lanes[i]!.worker.postMessage({ op: 'hang' });
  }

  /** Instrumentation: terminate worker `i` as if it had crashed (it is replaced). */
  async killWorkerForTest(i: number): Promise<void> {
    await this.lanes[i]!.worker.terminate();
  }

  /** Which worker a message goes to (tests). */
  workerFor(bytes: Uint8Array): number {
    return this.laneOf(bytes);
  }

  /** FNV-1a over the signing key: stable, so a key always lands on the same worker. */
  private laneOf(bytes: Uint8Array): number {
    const n = this.active;
    if (n === 1 || bytes.length < 96) return 0;
    let h = 0x811c9dc5;
    for (let i = 64; i < 96; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    return (h >>> 0) % n;
  }

  private send(lane: Lane): void {
    const count = Math.min(lane.queue.length, this.opts.batchSize);
    if (count === 0) return;
    const items = lane.queue.splice(0, count);
    const waiters = lane.waiters.splice(0, count);
    this.queued -= count;
    let total = 0;
    for (const b of items) total += b.length;
    const buf = new Uint8Array(total);
    const ends = new Int32Array(count);
    let off = 0;
    for (let i = 0; i < count; i++) {
      buf.set(items[i]!, off);
      off += items[i]!.length;
      ends[i] = off;
    }
    const id = this.nextId++;
    if (lane.inFlight.size === 0) lane.worker.ref(); // keep the process alive while work is out
    lane.inFlight.set(id, { waiters, sentAt: performance.now() });
    this.stats.batches++;
    this.stats.messages += count;
    lane.worker.postMessage(
      { id, buf, ends, verify: this.opts.verifySignature, priority: this.priority },
      [buf.buffer, ends.buffer],
    );
  }

  /** Hand back, in submission order, every message whose verdict is in and whose predecessors' are. */
  private drain(): void {
    for (let w = this.order.peek(); w?.done; w = this.order.peek()) {
      this.order.shift();
      if (w.error) this.fail(w, w.error);
      else if (this.delivery) {
        const ready = w;
        this.delivery.enqueue(() => this.deliver(ready));
      } else this.deliver(w);
    }
  }

  private deliver(w: Waiter): void {
    const r = w.result;
    this.settled(w.bytes);
    if (r !== null && 'code' in r) {
      this.hand(w, { parseError: new RsError(r.code as RsError['code'], r.message) });
      return;
    }
    let input: AnnounceInput;
    try {
      // verified in the worker: parse the entities here, without signature and key work
      // (the identity comes with a key's first verification; null: sent before)
      if (r !== null)
        rememberDerivedNode(w.bytes.subarray(64, 96), {
          nodeKey: r.id[0],
          nodePubKey: r.id[1],
          nodeIp: r.id[2],
        });
      input = {
        ann: parseAnnouncement(w.bytes, { verifySignature: false, packedLinkStates: true }),
      };
    } catch (e) {
      input = { parseError: isRsError(e) ? e : new RsError('RS_ERR_INTERNAL', String(e)) };
    }
    this.hand(w, input);
  }

  /** The parse to its caller: through `then` when it gave one (see "Hand-off" above). */
  private hand(w: Waiter, input: AnnounceInput): void {
    if (!w.then) {
      w.resolve(input);
      return;
    }
    let next: unknown;
    try {
      next = w.then(input);
    } catch (e) {
      w.reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    w.resolve(next);
  }

  /**
   * Stop the workers whose oldest batch (the first in flight) has waited `timeout` ms, less the
   * time the worker waited for a core since the watchdog first saw that batch (a tick at most
   * after it was sent): the exit handler fails what each held and starts its replacement (none
   * for a retiring worker that holds nothing more).
   */
  private stopHung(timeout: number): void {
    const now = performance.now();
    const waitOf = this.opts.runQueueWaitMs ?? runQueueWaitMs;
    for (const lane of this.lanes) {
      if (lane.hung) continue;
      const first = lane.inFlight.entries().next();
      if (first.done) {
        lane.watched = undefined;
        continue;
      }
      const [id, { sentAt }] = first.value;
      const tid = lane.tid;
      // /proc is read at a batch's first sight and once it is over the timeout, not every tick
      if (lane.watched?.id !== id)
        lane.watched = { id, waitMs: tid === undefined ? undefined : waitOf(tid) };
      if (now - sentAt < timeout) continue;
      // (a wait seen at first sight means the thread id was known then, and it is still this worker's)
      const since = lane.watched.waitMs;
      const waited = since === undefined || tid === undefined ? 0 : (waitOf(tid) ?? since) - since;
      if (now - sentAt - waited < timeout) continue;
      lane.hung = true;
      this.stats.workerTimeouts++;
      void lane.worker.terminate();
    }
  }

  private startWorker(lane: Lane, index: number): void {
    const worker = spawnWorker(
      new URL('./verify-worker.ts', import.meta.url),
      {},
      `verify-${index}`,
    );
    worker.unref();
    lane.worker = worker;
    lane.hung = false;
    lane.tid = undefined;
    lane.idle = false;
    lane.watched = undefined;
    worker.on(
      'message',
      (m: { id: number; results: VerifyResult[]; op?: undefined } | WorkerNote) => {
        if (m.op !== undefined) {
          this.noted(lane, index, m);
          return;
        }
        const waiters = lane.inFlight.get(m.id)?.waiters;
        if (!waiters) return;
        lane.inFlight.delete(m.id);
        if (lane.inFlight.size === 0) worker.unref();
        for (let i = 0; i < waiters.length; i++) {
          const w = waiters[i]!;
          w.result = m.results[i] as VerifyResult;
          w.done = true;
        }
        this.drain();
        if (lane.queue.length > 0) this.send(lane);
        else if (lane.retiring) this.stopIdleRetired();
      },
    );
    const failed = (why: string): void => {
      if (lane.worker !== worker || !this.lanes.includes(lane)) return; // replaced, or retired
      const err = new RsError(
        'RS_ERR_WORKER_FAILED',
        `verification worker ${index} ${lane.hung ? `hung (a batch unanswered for ${this.opts.batchTimeoutMs} ms)` : why}`,
      );
      for (const { waiters } of lane.inFlight.values())
        for (const w of waiters) {
          w.error = err;
          w.done = true;
        }
      lane.inFlight.clear();
      this.drain();
      if (this.closed) return;
      // a retiring worker that holds nothing more is not replaced: it was to stop anyway
      if (lane.retiring) {
        this.stopIdleRetired();
        if (!this.lanes.includes(lane)) return;
      }
      this.stats.workerRestarts++;
      this.startWorker(lane, index);
      if (lane.queue.length > 0) this.send(lane);
    };
    worker.on('error', (e) => failed(`failed: ${e.message}`));
    worker.on('exit', (code) => failed(`exited (${code})`));
  }

  private noted(lane: Lane, index: number, m: WorkerNote): void {
    if (m.op === 'heap') {
      for (const w of lane.heapWaiters.splice(0)) w(m.heap.used_heap_size);
    } else if (m.op === 'tid') {
      lane.tid = m.tid;
    } else if (m.outcome.applied) {
      lane.idle = true;
    } else if (!this.idleRefused) {
      this.idleRefused = true;
      this.warn(
        'snode:verify:sched-idle-refused',
        { worker: index, reason: m.outcome.reason, nice: this.priority.nice },
        'a verification worker cannot run under SCHED_IDLE; the workers keep their nice value',
      );
    }
  }
}

/** Default pool size: one worker per core but one (the main thread's, which serves the queries), at least one. */
export function defaultVerifyWorkers(cores: number): number {
  return Math.max(1, cores - 1);
}

/**
 * Default pool size while an initial sync pulls (the server is not ready: no queries yet): one
 * worker per core but one, as when serving. With OpenSSL verifying, a worker's share of an
 * announcement was about twice the main thread's, and one worker per core pulled a 2-core sync
 * ~8 % faster; libsodium verifies ~1.65× as fast, the main thread's share (38–59 µs of CPU) is
 * now as large as a worker's (46–54 µs), and on 2 cores one worker pulls faster than two
 * (10k: 0.58–0.60 of one core's OpenSSL verify rate against 0.53–0.57; 50k: 0.99–1.00 against
 * 0.93–0.94; docs/performance.md). `routing.syncVerifyWorkers` sets another count; once ready,
 * the pool goes back to `defaultVerifyWorkers`.
 */
export function defaultSyncVerifyWorkers(cores: number): number {
  return defaultVerifyWorkers(cores);
}

/** The pool's options for the configuration's `routing` section; undefined: verify on the main thread. */
export function verifyPoolOptionsOf(
  s: RoutingSettings,
  cores: number,
): VerifyPoolOptions | undefined {
  const workers = s.verifyWorkers === 'auto' ? defaultVerifyWorkers(cores) : s.verifyWorkers;
  if (workers === 0) return undefined;
  const sync =
    s.syncVerifyWorkers === 'auto' ? defaultSyncVerifyWorkers(cores) : s.syncVerifyWorkers;
  return {
    workers,
    syncWorkers: Math.max(workers, sync),
    batchSize: s.verifyBatchSize,
    maxInFlight: 4,
    maxQueued: s.verifyMaxQueued,
    verifySignature: true,
    nice: s.verifyWorkerNice,
    schedIdle: s.verifyWorkerSchedIdle,
    batchTimeoutMs: s.verifyBatchTimeoutMs,
  };
}
