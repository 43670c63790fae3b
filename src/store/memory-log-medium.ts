/**
 * The announcement log in memory: `store.mode: memory` (nothing on disk; the same code path as
 * the file) and the tests' medium. It tracks what was synced, so a test can take the image a
 * crash would leave (`crashImage`: the synced bytes plus any part of the unsynced ones) and open a
 * new medium on it, and it can fail chosen operations (`failNext`).
 */
import type { LogMedium, LogReplacement } from './log-medium.ts';

export type MediumOperation = 'append' | 'sync' | 'truncate' | 'replace' | 'commit' | 'setAside';

export class MemoryLogMedium implements LogMedium {
  readonly description = 'memory';
  private content: Uint8Array[] = [];
  private length = 0;
  private synced = 0;
  private readonly faults = new Map<MediumOperation, number>();
  /** operations done, by kind (tests) */
  readonly counts: Record<MediumOperation, number> = {
    append: 0,
    sync: 0,
    truncate: 0,
    replace: 0,
    commit: 0,
    setAside: 0,
  };

  /** A medium holding `bytes`, all of them durable (a restart on what a crash left). */
  static holding(bytes: Uint8Array): MemoryLogMedium {
    const m = new MemoryLogMedium();
    m.content = [new Uint8Array(bytes)];
    m.length = m.synced = bytes.length;
    return m;
  }

  /** The next `times` operations of this kind throw (an I/O error). */
  failNext(op: MediumOperation, times = 1): void {
    this.faults.set(op, (this.faults.get(op) ?? 0) + times);
  }

  /** Everything appended, synced or not. */
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.content));
  }

  get syncedBytes(): number {
    return this.synced;
  }

  /** What a crash could leave: the synced bytes and the first `unsyncedKept` of the others. */
  crashImage(unsyncedKept = 0): Uint8Array {
    return this.bytes().subarray(0, Math.min(this.length, this.synced + Math.max(0, unsyncedKept)));
  }

  async *read(): AsyncIterable<Uint8Array> {
    const all = this.bytes();
    for (let i = 0; i < all.length; i += 4096) yield all.subarray(i, i + 4096);
  }

  async append(chunks: readonly Uint8Array[]): Promise<void> {
    this.fault('append');
    for (const c of chunks) {
      this.content.push(new Uint8Array(c));
      this.length += c.length;
    }
  }

  async sync(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    this.fault('sync');
    this.synced = this.length;
  }

  async truncate(length: number): Promise<void> {
    this.fault('truncate');
    const kept = this.bytes().subarray(0, length);
    this.content = [kept];
    this.length = this.synced = kept.length;
  }

  async beginReplacement(): Promise<LogReplacement> {
    this.fault('replace');
    const next: Uint8Array[] = [];
    let size = 0;
    let done = false;
    return {
      append: async (chunks) => {
        if (done) throw new Error('replacement already finished');
        for (const c of chunks) {
          next.push(new Uint8Array(c));
          size += c.length;
        }
      },
      commit: async () => {
        if (done) throw new Error('replacement already finished');
        await new Promise<void>((r) => setImmediate(r));
        this.fault('commit');
        done = true;
        this.content = next;
        this.length = this.synced = size;
      },
      abort: async () => {
        done = true;
      },
    };
  }

  async setAside(): Promise<string> {
    this.fault('setAside');
    this.content = [];
    this.length = this.synced = 0;
    return 'memory (discarded)';
  }

  async close(): Promise<void> {}

  private fault(op: MediumOperation): void {
    this.counts[op]++;
    const n = this.faults.get(op) ?? 0;
    if (n > 0) {
      this.faults.set(op, n - 1);
      throw new Error(`injected ${op} failure`);
    }
  }
}
