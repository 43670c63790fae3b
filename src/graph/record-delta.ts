/**
 * A node record's change as the cluster bus carries it (docs/cluster.md, "Deltas"): the process
 * that accepted a node's announcement describes the record right after it — the kept list (the
 * announcement, then hash prefixes of the announcements it kept), the stateHash, the links with
 * their values — and the other processes install that in their copy of the record instead of
 * applying the announcement: no entity parsing, no keep rules, no stateHash fold
 * (CompactNodeTable.applyDelta). This file makes the description; the protocol's
 * cluster-delta.ts writes it.
 */
import type {
  ClusterDelta,
  ClusterDeltaLinkUpdate,
  ClusterDeltaPeer,
} from '../protocol/cluster-delta.ts';
import { DELTA_HASH_PREFIX_BYTES } from '../protocol/cluster-delta.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import type { NodeRecordView } from './node-record.ts';

/** The links an announcement changed without changing the record's link structure (the table knows). */
export interface LinkUpdates {
  readonly total: number;
  readonly updates: readonly ClusterDeltaLinkUpdate[];
}

/**
 * The delta describing `record` right after it accepted `accepted` (its newest kept
 * announcement). `updates`: the links it changed, when it added, replaced or removed none —
 * then only those travel; otherwise every link of the record does.
 */
export function recordDeltaOf(
  record: NodeRecordView,
  accepted: Announcement,
  updates?: LinkUpdates,
): ClusterDelta {
  const kept = record.announcements;
  const keptAfter: Uint8Array[] = [];
  for (let i = 1; i < kept.length; i++)
    keptAfter.push(kept[i]!.hash.subarray(0, DELTA_HASH_PREFIX_BYTES));
  let links: ClusterDelta['links'];
  if (updates) links = { kind: 'updates', total: updates.total, updates: updates.updates };
  else {
    const peers: ClusterDeltaPeer[] = [];
    for (const [ipv6, ls] of record.inwardLinksByIp) peers.push({ ipv6, links: ls });
    links = { kind: 'all', peers };
  }
  return {
    isReset: accepted.isReset,
    stateHash: record.stateHash,
    annHash: accepted.hash,
    version: record.version,
    scheme: record.encodingScheme,
    keptAfter,
    links,
  };
}
