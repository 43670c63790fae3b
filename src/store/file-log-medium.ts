/**
 * The announcement log in a file (production). Appends go through one descriptor opened with
 * O_APPEND; `sync` is fdatasync. A compaction writes `<path>.compact`, fdatasyncs it, renames it
 * over the log and fsyncs the directory, so a crash leaves the old file or the new one whole; a
 * `.compact` file left by a crash is removed at the next open. The file and its directory are
 * created private to the user (0600 / 0700).
 */
import { open, mkdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LogMedium, LogReplacement } from './log-medium.ts';

const READ_CHUNK_BYTES = 1024 * 1024;

/** fsync a directory, so that a file created or renamed in it stays after a crash. */
async function syncDirectory(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Write every byte of `chunks` (a write may take fewer bytes than offered). */
async function writeAll(fh: FileHandle, chunks: readonly Uint8Array[]): Promise<void> {
  let rest = chunks.filter((c) => c.length > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await fh.writev(rest as Uint8Array[]);
    const next: Uint8Array[] = [];
    for (const c of rest) {
      if (bytesWritten >= c.length) bytesWritten -= c.length;
      else {
        next.push(bytesWritten > 0 ? c.subarray(bytesWritten) : c);
        bytesWritten = 0;
      }
    }
    rest = next;
  }
}

export class FileLogMedium implements LogMedium {
  private constructor(
    readonly description: string,
    private fh: FileHandle,
  ) {}

  /** Open (or create) the log at `path`, creating its directory. */
  static async open(path: string): Promise<FileLogMedium> {
    const dir = dirname(path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await rm(`${path}.compact`, { force: true });
    const fh = await open(path, 'a+', 0o600);
    try {
      await syncDirectory(dir);
    } catch (e) {
      await fh.close();
      throw e;
    }
    return new FileLogMedium(path, fh);
  }

  async *read(): AsyncIterable<Uint8Array> {
    let position = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  }

  append(chunks: readonly Uint8Array[]): Promise<void> {
    return writeAll(this.fh, chunks);
  }

  sync(): Promise<void> {
    return this.fh.datasync();
  }

  async truncate(length: number): Promise<void> {
    await this.fh.truncate(length);
    await this.fh.sync();
  }

  async beginReplacement(): Promise<LogReplacement> {
    const path = this.description;
    const tmp = `${path}.compact`;
    const out = await open(tmp, 'w', 0o600);
    let done = false;
    return {
      append: (chunks) => writeAll(out, chunks),
      commit: async () => {
        await out.datasync();
        await out.close();
        done = true;
        await rename(tmp, path);
        await syncDirectory(dirname(path));
        const next = await open(path, 'a+', 0o600);
        const old = this.fh;
        this.fh = next;
        await old.close();
      },
      abort: async () => {
        if (done) return;
        done = true;
        await out.close().catch(() => undefined);
        await rm(tmp, { force: true });
      },
    };
  }

  async setAside(): Promise<string> {
    const path = this.description;
    const aside = `${path}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(path, aside);
    const next = await open(path, 'a+', 0o600);
    await syncDirectory(dirname(path));
    const old = this.fh;
    this.fh = next;
    await old.close();
    return aside;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
