/**
 * Opening the announcement log at start: read every record, resolve PUTs and DELs into the
 * live announcements (in the order they were first written), and leave the medium ready for
 * appends. A damaged tail — a record torn by a crash, zeros a crashed file system left, any
 * record whose length, checksum or kind is wrong — ends the valid part: it is cut off (logged
 * with its offset and size) and the log continues after the last good record. Nothing after the
 * first bad record is used: every acknowledged record lies before it (docs/store.md,
 * "Guarantees"). A file that is not a log of ours is set aside, never overwritten.
 */
import type { Logger } from '../log.ts';
import {
  checkLogHeader,
  decodeRecord,
  encodeLogHeader,
  LOG_HEADER_BYTES,
  type DecodeStep,
} from './log-format.ts';
import type { LogMedium } from './log-medium.ts';

export interface StoredAnnouncement {
  /** the announcement's hash as a latin1 string (one char a byte) */
  readonly key: string;
  readonly announcement: Uint8Array;
  /** the announcer's curve25519 key */
  readonly nodeKey: Uint8Array;
}

export interface LogReadStats {
  /** bytes of the log after opening (header and valid records) */
  readonly bytes: number;
  readonly puts: number;
  readonly dels: number;
  /** bytes cut off after the last valid record (0: the log ended cleanly) */
  readonly droppedBytes: number;
  /** why the valid part ended early, with the offset of the first bad byte */
  readonly damage: { readonly offset: number; readonly reason: string } | undefined;
  /** where a file that was not a readable log went (it is kept, not overwritten) */
  readonly setAside: string | undefined;
}

export interface LogContents {
  /** the live announcements, in the order of their first PUT */
  readonly live: StoredAnnouncement[];
  readonly stats: LogReadStats;
}

/** Read and repair the log on `medium` (see the file comment). */
export async function openLogContents(medium: LogMedium, log: Logger): Promise<LogContents> {
  const live = new Map<string, StoredAnnouncement>();
  let puts = 0;
  let dels = 0;
  let carry: Uint8Array = new Uint8Array(0);
  /** absolute offset of carry[0] */
  let base = 0;
  let headerChecked = false;
  let damage: { offset: number; reason: string } | undefined;
  let foreign: string | undefined;

  read: for await (const chunk of medium.read()) {
    let buf = carry.length === 0 ? chunk : concat(carry, chunk);
    let at = 0;
    if (!headerChecked) {
      const h = checkLogHeader(buf);
      if (h === 'short') {
        carry = new Uint8Array(buf);
        continue;
      }
      headerChecked = true;
      if (h !== 'ok') {
        foreign = h;
        break;
      }
      at = LOG_HEADER_BYTES;
    }
    for (;;) {
      const step: DecodeStep = decodeRecord(buf, at);
      if (!step.ok) {
        if (step.reason === 'incomplete') break;
        damage = { offset: base + at, reason: step.reason };
        break read;
      }
      const r = step.record;
      const key = Buffer.from(r.hash.buffer, r.hash.byteOffset, r.hash.length).toString('latin1');
      if (r.kind === 'put') {
        puts++;
        if (!live.has(key))
          live.set(key, { key, announcement: r.announcement, nodeKey: r.nodeKey });
      } else {
        dels++;
        live.delete(key);
      }
      at += step.size;
    }
    // keep the incomplete rest (a copy: the medium may reuse its buffers)
    carry = new Uint8Array(buf.subarray(at));
    base += at;
    buf = carry;
  }

  if (foreign !== undefined) {
    const where = await medium.setAside();
    log.error(
      { event: 'store:log:set_aside', file: medium.description, movedTo: where, header: foreign },
      'the announcement log is not readable by this version; it was set aside and the store starts empty',
    );
    await writeHeader(medium);
    return {
      live: [],
      stats: {
        bytes: LOG_HEADER_BYTES,
        puts: 0,
        dels: 0,
        droppedBytes: 0,
        damage: undefined,
        setAside: where,
      },
    };
  }
  if (!headerChecked) {
    // empty, or a header torn while the file was created: start the file again
    if (carry.length > 0) await medium.truncate(0);
    await writeHeader(medium);
    return {
      live: [],
      stats: {
        bytes: LOG_HEADER_BYTES,
        puts: 0,
        dels: 0,
        droppedBytes: carry.length,
        damage: carry.length > 0 ? { offset: 0, reason: 'incomplete' } : undefined,
        setAside: undefined,
      },
    };
  }

  let droppedBytes = 0;
  let validEnd = base;
  if (damage) {
    validEnd = damage.offset;
    droppedBytes = await remainingBytes(medium, validEnd);
  } else if (carry.length > 0) {
    damage = { offset: base, reason: 'incomplete' };
    droppedBytes = carry.length;
  }
  if (damage) {
    await medium.truncate(validEnd);
    log.warn(
      {
        event: 'store:log:tail_dropped',
        file: medium.description,
        offset: damage.offset,
        reason: damage.reason,
        droppedBytes,
      },
      'the announcement log ended in a damaged record (a write cut short by a crash); the tail was dropped',
    );
  }
  return {
    live: [...live.values()],
    stats: { bytes: validEnd, puts, dels, droppedBytes, damage, setAside: undefined },
  };
}

async function writeHeader(medium: LogMedium): Promise<void> {
  await medium.append([encodeLogHeader()]);
  await medium.sync();
}

/** The medium's length past `offset` (read again: the loop above stopped early). */
async function remainingBytes(medium: LogMedium, offset: number): Promise<number> {
  let total = 0;
  for await (const chunk of medium.read()) total += chunk.length;
  return Math.max(0, total - offset);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
