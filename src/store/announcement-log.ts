/**
 * The write side of the announcement log (docs/store.md): every change of the live
 * announcements — an accepted announcement (PUT), one that left them (DEL: replaced, expired) —
 * is appended in the order it happened, and `durable()` says when everything appended so far is
 * on disk.
 *
 * Group commit: records wait in the open batch; one writer appends the batch and fdatasyncs it,
 * then resolves everyone who waited for it. While that I/O runs the next batch fills, so a batch
 * is whatever arrived during the previous commit: one sync for many announcements under load, a
 * single record when idle. The main thread only encodes records (a copy and a crc32); the
 * write and the sync run in libuv's thread pool.
 *
 * Compaction: when the file has grown past `compactFactor` × what the last compaction wrote (at
 * least `minCompactBytes`), the live announcements as of a batch boundary are written to a new
 * file in slices (between other work), then the batches written to the old file since that
 * boundary, and the new file replaces the old one atomically (log-medium.ts). Only what the node
 * records still keep survives; the file stays within a small factor of the live set.
 *
 * Failure: an append or sync that fails leaves the file's end unknown, so the log stops using it.
 * `durable()` then answers `{ durable: false }` at once (the caller acknowledges anyway, as the
 * cluster does while Redis is away, and /readyz reports the store not ok), and a compaction —
 * which writes the whole live set to a new file — is retried with backoff; when it succeeds the
 * store is whole and durable again.
 */
import type { Logger } from '../log.ts';
import {
  encodeDel,
  encodeLogHeader,
  encodePut,
  LOG_HEADER_BYTES,
  storableAnnouncement,
} from './log-format.ts';
import type { LogMedium, LogReplacement } from './log-medium.ts';
import type { StoreMetrics } from './store-metrics.ts';

/** What the log must keep: the live announcements, in the order they were accepted. */
export interface LiveAnnouncements {
  entries(): Iterable<LiveAnnouncement>;
}

/** What the log keeps of an announcement: its hash, its bytes, the announcer's curve25519 key. */
export interface LiveAnnouncement {
  readonly hash: Uint8Array;
  readonly binary: Uint8Array;
  readonly nodeKey: Uint8Array;
}

export type CommitResult =
  | { readonly durable: true }
  | { readonly durable: false; readonly reason: 'store_failed' | 'closed' };

export interface AnnouncementLogOptions {
  readonly medium: LogMedium;
  readonly live: LiveAnnouncements;
  readonly log: Logger;
  /** the file's size after opening */
  readonly initialBytes: number;
  readonly metrics?: StoreMetrics;
  /** never compact a smaller file */
  readonly minCompactBytes?: number;
  /** compact when the file exceeds this multiple of what the last compaction wrote */
  readonly compactFactor?: number;
  /** records encoded per slice of a compaction */
  readonly compactSliceRecords?: number;
  /** first retry after a failure; doubles up to maxRetryMs */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
}

export const DEFAULT_MIN_COMPACT_BYTES = 32 * 1024 * 1024;
export const DEFAULT_COMPACT_FACTOR = 3;
const DEFAULT_SLICE_RECORDS = 2000;
const DEFAULT_RETRY_MS = 1000;
const DEFAULT_MAX_RETRY_MS = 60_000;

export interface AnnouncementLogStatus {
  readonly state: 'ok' | 'failed' | 'closed';
  readonly fileBytes: number;
  readonly commits: number;
  readonly compactions: number;
  readonly compacting: boolean;
  readonly lastError: string | undefined;
}

interface Batch {
  chunks: Uint8Array[];
  bytes: number;
  done: Promise<CommitResult> | undefined;
  resolve: ((r: CommitResult) => void) | undefined;
}

interface Compaction {
  readonly reason: string;
  /**
   * waiting: for a batch boundary; writing: the live set goes to the new file; ready: waits for
   * the pump to switch between batches; switching: the tail and the atomic replacement
   */
  phase: 'waiting' | 'writing' | 'ready' | 'switching';
  /** batches taken after the boundary, in order (they go into the new file too) */
  readonly tail: Uint8Array[][];
  replacement: LogReplacement | undefined;
  /** bytes of the new file so far */
  bytes: number;
  announcements: number;
  cancelled: boolean;
  readonly startedAt: number;
  /** resolves when the compaction ended, either way */
  readonly finished: Promise<void>;
  readonly end: () => void;
}

function newBatch(): Batch {
  return { chunks: [], bytes: 0, done: undefined, resolve: undefined };
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class AnnouncementLog {
  private state: 'ok' | 'failed' | 'closed' = 'ok';
  private open: Batch = newBatch();
  private writing: Batch | undefined;
  private pumping = false;
  private compaction: Compaction | undefined;
  private fileBytes: number;
  private lastCompactedBytes: number;
  private commits = 0;
  private compactions = 0;
  private failures = 0;
  private lastError: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private skippedUnstorable = 0;
  private readonly o: Required<Omit<AnnouncementLogOptions, 'metrics'>> & {
    metrics: StoreMetrics | undefined;
  };

  constructor(opts: AnnouncementLogOptions) {
    this.o = {
      minCompactBytes: DEFAULT_MIN_COMPACT_BYTES,
      compactFactor: DEFAULT_COMPACT_FACTOR,
      compactSliceRecords: DEFAULT_SLICE_RECORDS,
      retryMs: DEFAULT_RETRY_MS,
      maxRetryMs: DEFAULT_MAX_RETRY_MS,
      ...opts,
      metrics: opts.metrics,
    };
    this.fileBytes = opts.initialBytes;
    this.lastCompactedBytes = opts.initialBytes;
    this.o.metrics?.fileBytes.set(this.fileBytes);
    this.o.metrics?.healthy.set(1);
  }

  /** An announcement entered the live set. */
  put(ann: LiveAnnouncement): void {
    if (this.state === 'closed') return;
    if (!storableAnnouncement(ann.binary)) {
      this.unstorable(ann.binary.length);
      return;
    }
    this.add(encodePut(ann.hash, ann.binary, ann.nodeKey), 'put');
  }

  /** An announcement left the live set (replaced, expired, a node's reset). */
  delete(hash: Uint8Array): void {
    if (this.state === 'closed') return;
    this.add(encodeDel(hash), 'del');
  }

  /** Resolves once every record added so far is durable (or the store failed / closed). */
  durable(): Promise<CommitResult> {
    if (this.state === 'closed') return Promise.resolve({ durable: false, reason: 'closed' });
    const b = this.open.chunks.length > 0 ? this.open : this.writing;
    if (!b)
      return Promise.resolve(
        this.state === 'ok' ? { durable: true } : { durable: false, reason: 'store_failed' },
      );
    b.done ??= new Promise((r) => (b.resolve = r));
    return b.done;
  }

  status(): AnnouncementLogStatus {
    return {
      state: this.state,
      fileBytes: this.fileBytes,
      commits: this.commits,
      compactions: this.compactions,
      compacting: this.compaction !== undefined,
      lastError: this.lastError,
    };
  }

  /** Compact now (after a reload that dropped records; tests). Resolves when it ended, either way. */
  async compact(reason = 'requested'): Promise<void> {
    this.requestCompaction(reason);
    await this.compaction?.finished;
  }

  /** Write what is pending, stop, release the medium. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    await this.durable();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.state = 'closed';
    const c = this.compaction;
    if (c) {
      c.cancelled = true;
      if (c.phase === 'waiting' || c.phase === 'ready') await this.abandon(c, undefined);
      else await c.finished;
    }
    await this.o.medium.close();
  }

  // ---- writing ----------------------------------------------------------------------------------

  private add(record: Uint8Array, kind: 'put' | 'del'): void {
    this.open.chunks.push(record);
    this.open.bytes += record.length;
    this.o.metrics?.records.inc({ kind });
    // the pump starts on the next turn: what the rest of this turn adds joins the same batch
    this.wake();
  }

  private wake(): void {
    if (this.pumping) return;
    this.pumping = true;
    setImmediate(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const c = this.compaction;
        if (c?.phase === 'ready') {
          await this.switchOver(c);
          continue;
        }
        if (this.open.chunks.length === 0) {
          // a boundary with nothing in flight
          if (c?.phase === 'waiting') this.capture(c);
          break;
        }
        const b = this.open;
        this.open = newBatch();
        this.writing = b;
        if (c?.phase === 'waiting') this.capture(c);
        else if (c?.phase === 'writing') c.tail.push(b.chunks);
        await this.commit(b);
        this.writing = undefined;
      }
    } finally {
      this.pumping = false;
    }
  }

  private async commit(b: Batch): Promise<void> {
    let result: CommitResult;
    if (this.state === 'ok') {
      const t0 = performance.now();
      try {
        await this.o.medium.append(b.chunks);
        await this.o.medium.sync();
        this.fileBytes += b.bytes;
        this.commits++;
        this.o.metrics?.commits.inc();
        this.o.metrics?.commitSeconds.observe((performance.now() - t0) / 1000);
        this.o.metrics?.fileBytes.set(this.fileBytes);
        result = { durable: true };
      } catch (e) {
        this.fail(e);
        result = { durable: false, reason: 'store_failed' };
      }
    } else {
      result = { durable: false, reason: this.state === 'closed' ? 'closed' : 'store_failed' };
    }
    b.resolve?.(result);
    if (
      this.state === 'ok' &&
      !this.compaction &&
      this.fileBytes >
        Math.max(this.o.minCompactBytes, this.o.compactFactor * this.lastCompactedBytes)
    ) {
      this.requestCompaction('size');
    }
  }

  private fail(e: unknown): void {
    this.state = 'failed';
    this.lastError = errText(e);
    this.o.metrics?.healthy.set(0);
    this.o.log.error(
      { event: 'store:log:write_failed', file: this.o.medium.description, err: this.lastError },
      'writing the announcement log failed; announcements are acknowledged without being durable until the log is rewritten',
    );
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.state === 'closed') return;
    const delay = Math.min(this.o.maxRetryMs, this.o.retryMs * 2 ** Math.min(this.failures++, 20));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.requestCompaction('recovery');
    }, delay);
    this.retryTimer.unref();
  }

  // ---- compaction -------------------------------------------------------------------------------

  private requestCompaction(reason: string): void {
    if (this.compaction || this.state === 'closed') return;
    let end!: () => void;
    const finished = new Promise<void>((r) => (end = r));
    const c: Compaction = {
      reason,
      phase: 'waiting',
      tail: [],
      replacement: undefined,
      bytes: 0,
      announcements: 0,
      cancelled: false,
      startedAt: performance.now(),
      finished,
      end,
    };
    this.compaction = c;
    // the boundary: now if nothing is being written or waits to be, else when the pump takes the
    // next batch (every record added before it is then in a batch the old file receives)
    if (!this.pumping && this.open.chunks.length === 0) this.capture(c);
    else this.wake();
  }

  /** At a batch boundary: take the live set (references; announcements are immutable) and write it. */
  private capture(c: Compaction): void {
    c.phase = 'writing';
    void this.writeSnapshot(c, [...this.o.live.entries()]);
  }

  private async writeSnapshot(c: Compaction, refs: readonly LiveAnnouncement[]): Promise<void> {
    try {
      c.replacement = await this.o.medium.beginReplacement();
      await c.replacement.append([encodeLogHeader()]);
      c.bytes = LOG_HEADER_BYTES;
      const slice = this.o.compactSliceRecords;
      for (let i = 0; i < refs.length; i += slice) {
        if (c.cancelled) throw new Error('the log was closed');
        const chunks: Uint8Array[] = [];
        for (let k = i; k < Math.min(refs.length, i + slice); k++) {
          const r = refs[k]!;
          if (!storableAnnouncement(r.binary)) continue;
          const rec = encodePut(r.hash, r.binary, r.nodeKey);
          chunks.push(rec);
          c.bytes += rec.length;
          c.announcements++;
        }
        await c.replacement.append(chunks);
        // announcements and queries run between slices
        await new Promise<void>((r) => setImmediate(r));
      }
      if (c.cancelled) throw new Error('the log was closed');
      c.phase = 'ready';
      this.wake();
    } catch (e) {
      await this.abandon(c, e);
    }
  }

  /** In the pump, between batches: the batches written since the boundary, then the atomic swap. */
  private async switchOver(c: Compaction): Promise<void> {
    c.phase = 'switching';
    try {
      const tail = c.tail.flat();
      for (const t of tail) c.bytes += t.length;
      await c.replacement!.append(tail);
      await c.replacement!.commit();
    } catch (e) {
      await this.abandon(c, e);
      return;
    }
    this.fileBytes = this.lastCompactedBytes = c.bytes;
    this.compactions++;
    this.failures = 0;
    this.compaction = undefined;
    this.o.metrics?.compactions.inc({ result: 'done' });
    this.o.metrics?.fileBytes.set(this.fileBytes);
    this.o.log.info(
      {
        event: 'store:compaction:done',
        reason: c.reason,
        file: this.o.medium.description,
        announcements: c.announcements,
        bytes: c.bytes,
        ms: Math.round(performance.now() - c.startedAt),
      },
      'announcement log compacted',
    );
    if (this.state === 'failed') {
      this.state = 'ok';
      this.lastError = undefined;
      this.o.metrics?.healthy.set(1);
      this.o.log.warn(
        { event: 'store:log:recovered', file: this.o.medium.description },
        'the announcement log was rewritten whole; announcements are durable again',
      );
    }
    c.end();
  }

  private async abandon(c: Compaction, e: unknown): Promise<void> {
    if (this.compaction === c) this.compaction = undefined;
    await c.replacement?.abort().catch(() => undefined);
    if (!c.cancelled) {
      this.lastError = errText(e);
      this.o.metrics?.compactions.inc({ result: 'failed' });
      this.o.log.warn(
        {
          event: 'store:compaction:failed',
          reason: c.reason,
          file: this.o.medium.description,
          err: this.lastError,
        },
        'compacting the announcement log failed',
      );
      this.scheduleRetry();
    }
    c.end();
  }

  private unstorable(bytes: number): void {
    if (this.skippedUnstorable++ === 0) {
      this.o.log.warn(
        { event: 'store:log:unstorable', bytes },
        'an announcement too large for the log was not stored (logged once)',
      );
    }
  }
}
