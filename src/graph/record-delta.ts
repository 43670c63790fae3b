/**
 * A node record's change as the cluster bus carries it (docs/cluster.md, "Deltas"): the process
 * that accepted a node's announcement describes the record right after it — the kept list (the
 * announcement, then hash prefixes of the announcements it kept), the stateHash, the links with
 * their values — and the other processes install that in their copy of the record instead of
 * applying the announcement: no entity parsing, no keep rules, no stateHash fold
 * (CompactNodeTable.applyDelta). This file makes the description; the protocol's
 * cluster-delta.ts writes it.
 */
import type { ClusterDelta, ClusterDeltaPeer } from '../protocol/cluster-delta.ts';
import { DELTA_HASH_PREFIX_BYTES } from '../protocol/cluster-delta.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import type { NodeRecordView } from './node-record.ts';

/** The delta describing `record` right after it accepted `accepted` (its newest kept announcement). */
export function recordDeltaOf(record: NodeRecordView, accepted: Announcement): ClusterDelta {
  const kept = record.announcements;
  const keptAfter: Uint8Array[] = [];
  for (let i = 1; i < kept.length; i++) keptAfter.push(kept[i]!.hash.subarray(0, DELTA_HASH_PREFIX_BYTES));
  const peers: ClusterDeltaPeer[] = [];
  for (const [ipv6, links] of record.inwardLinksByIp) peers.push({ ipv6, links });
  return {
    isReset: accepted.isReset,
    stateHash: record.stateHash,
    annHash: accepted.hash,
    version: record.version,
    scheme: record.encodingScheme,
    keptAfter,
    peers,
  };
}

/** `hash` starts with `prefix` (DELTA_HASH_PREFIX_BYTES). */
export function hashHasPrefix(hash: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < DELTA_HASH_PREFIX_BYTES; i++) if (hash[i] !== prefix[i]) return false;
  return true;
}
