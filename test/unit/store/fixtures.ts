/** Material for the store's tests: a logger whose lines the test reads, and announcement-shaped bytes. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { annHash, buildTimestampField } from '../../../src/protocol/announcement.ts';
import { MemoryLogMedium } from '../../../src/store/memory-log-medium.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
export function captureLogger(): { log: Logger; lines: any[]; events: () => string[] } {
  const lines: any[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  const log = pino({ level: 'debug' }, dest);
  return { log, lines, events: () => lines.map((l) => l.event as string) };
}

/**
 * Announcement-shaped bytes (not signed: the store never verifies): node `node`'s signing key in
 * bytes 64..96, the timestamp word at 112, `size` bytes in all. Returns the bytes and their hash.
 */
export function fakeAnn(
  node: number,
  timestamp: number,
  size = 160,
  salt = 0,
): { hash: Uint8Array; binary: Uint8Array; nodeKey: Uint8Array } {
  const b = new Uint8Array(size).map((_x, i) => (i * 13 + salt * 7 + node) & 0xff);
  b.fill(node & 0xff, 64, 96);
  b.set(buildTimestampField(timestamp, false, 1), 112);
  return { hash: annHash(b), binary: b, nodeKey: new Uint8Array(32).fill((node * 3 + 1) & 0xff) };
}

/** A live set backed by a Map in insertion order (what the replication store is). */
type Live = { hash: Uint8Array; binary: Uint8Array; nodeKey: Uint8Array };
export class LiveMap {
  readonly map = new Map<string, Live>();
  add(a: Live): void {
    const k = Buffer.from(a.hash).toString('hex');
    if (!this.map.has(k)) this.map.set(k, a);
  }
  delete(hash: Uint8Array): void {
    this.map.delete(Buffer.from(hash).toString('hex'));
  }
  entries(): Iterable<Live> {
    return this.map.values();
  }
  hexes(): string[] {
    return [...this.map.keys()];
  }
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** hex of a stored announcement's hash (its latin1 key) */
export const keyHex = (s: { key: string }): string => Buffer.from(s.key, 'latin1').toString('hex');

/** A memory medium whose syncs wait until the test opens the gate. */
export class GatedMedium extends MemoryLogMedium {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  waiting = 0;
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    const o = this.open;
    this.gate = undefined;
    this.open = undefined;
    o?.();
  }
  override async sync(): Promise<void> {
    if (this.gate) {
      this.waiting++;
      await this.gate;
      this.waiting--;
    }
    return super.sync();
  }
}
