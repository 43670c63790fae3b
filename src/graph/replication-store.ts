/**
 * The replication store (docs/protocol.md §7.4): every announcement this server offers to its replication
 * peers, as an ordered hash list plus hash → bytes. A Map gives both with O(1) add/delete/has/get:
 * its iteration order is insertion order, and re-adding an existing hash keeps its position (the
 * original logs "Tried to add hash … multiple times" and changes nothing). Deletions are never
 * announced to peers.
 */
import { bytesToHex } from '../protocol/hex.ts';

export interface StoredAnnouncement {
  readonly hash: Uint8Array;
  readonly binary: Uint8Array;
}

export class ReplicationStore {
  private readonly byHash = new Map<string, StoredAnnouncement>();

  /** Add `binary` under `hash`; false (and no change) if the hash is already stored. */
  add(hash: Uint8Array, binary: Uint8Array): boolean {
    const key = bytesToHex(hash);
    if (this.byHash.has(key)) return false;
    this.byHash.set(key, { hash, binary });
    return true;
  }

  /** Remove a hash; false if it was not stored. */
  delete(hash: Uint8Array): boolean {
    return this.byHash.delete(bytesToHex(hash));
  }

  has(hash: Uint8Array): boolean {
    return this.byHash.has(bytesToHex(hash));
  }

  get(hash: Uint8Array): Uint8Array | undefined {
    return this.byHash.get(bytesToHex(hash))?.binary;
  }

  /** Number of stored announcements. */
  get size(): number {
    return this.byHash.size;
  }

  /**
   * The two counts the original reports on `/` and `/ni` (`announcements` = hash list length,
   * `annByHashLen` = map size); one structure here, so always equal.
   */
  sizes(): { announcements: number; annByHashLen: number } {
    return { announcements: this.byHash.size, annByHashLen: this.byHash.size };
  }

  /** Hashes in store order (the order INV advertises them). */
  *hashes(): IterableIterator<Uint8Array> {
    for (const v of this.byHash.values()) yield v.hash;
  }

  /** Hash and bytes in store order. */
  entries(): IterableIterator<StoredAnnouncement> {
    return this.byHash.values();
  }
}
