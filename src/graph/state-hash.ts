/**
 * The per-node stateHash (docs/protocol.md §4.5): a sha512 chain over the raw bytes of the kept
 * announcements, oldest first, starting from 64 zero bytes. The cjdns client folds its own copy
 * the same way and resets when the two differ, so this must match the original bit for bit.
 */
import { hash } from 'node:crypto';
import type { Announcement } from '../protocol/announcement-types.ts';
import { STATE_HASH_BYTES } from './constants.ts';
import type { NodeRecord } from './node-record.ts';

/** 64 zero bytes: the hash of an unknown node (a fresh copy each time: callers may keep it). */
export function zeroStateHash(): Uint8Array {
  return new Uint8Array(STATE_HASH_BYTES);
}

/** One step of the chain: sha512(carry || binary). */
export function foldStateHash(carry: Uint8Array, binary: Uint8Array): Uint8Array {
  const input = Buffer.allocUnsafe(carry.length + binary.length);
  input.set(carry, 0);
  input.set(binary, carry.length);
  const d = hash('sha512', input, 'buffer');
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Fold sha512(h || binary) over raw announcements given oldest first. */
export function chainStateHash(binariesOldestFirst: Iterable<Uint8Array>): Uint8Array {
  let carry = zeroStateHash();
  for (const binary of binariesOldestFirst) carry = foldStateHash(carry, binary);
  return carry;
}

/** The hash of a kept list given newest first, as a record stores it. */
export function announcementsStateHash(newestFirst: readonly Announcement[]): Uint8Array {
  const binaries: Uint8Array[] = [];
  for (let i = newestFirst.length - 1; i >= 0; i--) binaries.push(newestFirst[i]!.binary);
  return chainStateHash(binaries);
}

/** JS `nodeAnnouncementHash(node)`: 64 zero bytes for no record. Does not store the result. */
export function stateHash(record: NodeRecord | undefined): Uint8Array {
  return record ? announcementsStateHash(record.announcements) : zeroStateHash();
}
