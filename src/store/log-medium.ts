/**
 * Where the announcement log's bytes live: a file under the state directory (file-log-medium.ts,
 * production) or memory (memory-log-medium.ts: tests and `store.mode: memory`). The log
 * (announcement-log.ts) only appends, syncs, cuts a damaged tail once at start, and replaces the
 * whole content when it compacts; the medium makes each of these steps crash-safe.
 */
export interface LogMedium {
  /** a path, or `memory` */
  readonly description: string;
  /** The current content, in order, in chunks (read once, at start). */
  read(): AsyncIterable<Uint8Array>;
  /** Append after the current end. Not durable before `sync` resolved. */
  append(chunks: readonly Uint8Array[]): Promise<void>;
  /** Make everything appended so far durable (fdatasync). */
  sync(): Promise<void>;
  /** Cut the content to its first `length` bytes, durably (a damaged tail at start). */
  truncate(length: number): Promise<void>;
  /**
   * Keep the current content somewhere else (a file that is not a log of ours, or of a format
   * this version cannot read) and start empty. Returns where it went.
   */
  setAside(): Promise<string>;
  /** Start writing a new content that will replace the current one (compaction). */
  beginReplacement(): Promise<LogReplacement>;
  close(): Promise<void>;
}

export interface LogReplacement {
  append(chunks: readonly Uint8Array[]): Promise<void>;
  /**
   * Make the new content durable, then put it in place of the old one in one atomic step; from
   * then on the medium appends to the new content. A crash at any point leaves either the old
   * content or the new one, whole.
   */
  commit(): Promise<void>;
  /** Give up: the old content stays as it is. Idempotent. */
  abort(): Promise<void>;
}
