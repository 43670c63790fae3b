/**
 * The cluster bus seen from one process: a durable, totally ordered record of every announcement
 * any process of the cluster accepted (a Redis stream), live fan-out of each new record entry
 * (Redis pub/sub), and one snapshot per node (a Redis key) so that a process can rebuild every
 * node even after the record was trimmed. Two implementations share this interface:
 * RedisClusterBus (ioredis) and MemoryClusterBus (the embedded default, and tests).
 *
 * The bus is a transport: it never interprets envelopes. Ordering, gap repair, de-duplication
 * and catch-up live in the cluster actor (src/cluster/cluster-actor.ts).
 *
 * The bytes a bus hands over (record entries, frames, snapshots) belong to this process: copied
 * off the connection once, never a view of a network buffer, since the decoded envelope's
 * announcements and delta are views of them (decodeClusterEnvelope) and may be kept.
 */
import type { ClusterFrame } from '../protocol/cluster-envelope.ts';

/** One entry of the durable record (same shape as a live frame). */
export type ClusterRecordEntry = ClusterFrame;

export interface ClusterAppend {
  /** encoded envelope (protocol/cluster-envelope.ts) */
  readonly envelope: Uint8Array;
  /** the node the envelope is about */
  readonly nodeIp: string;
  /**
   * encoded SNAPSHOT envelope of the node after this entry, stored under the node's snapshot key
   * in the same atomic step (absent: the key is left as it is)
   */
  readonly snapshot?: Uint8Array;
  /**
   * Write `snapshot` only while the node's snapshot key names no entry newer than `upTo` (the
   * newest entry of the node this process's state reflects: its watermark); `upTo` undefined:
   * only while the node has no snapshot key. Checked in the same atomic step; the entry is
   * appended either way. For entries re-published after Redis refused writes: another process
   * may have stored newer entries of the node meanwhile, and this process's state of the node
   * lacks them. Absent: the snapshot is written unconditionally (a direct append).
   */
  readonly snapshotIf?: { readonly upTo: string | undefined };
}

export interface ClusterRecordInfo {
  /** id of the newest entry (STREAM_ID_ZERO when the record is empty) */
  readonly lastId: string;
  /** entries currently held */
  readonly length: number;
  /** true when entries were ever removed from the front (MAXLEN trimming): replaying the record
   *  from the start then no longer rebuilds every node, the snapshots are needed */
  readonly trimmed: boolean;
}

export interface ClusterSnapshotEntry {
  readonly nodeIp: string;
  /** the stream id the snapshot is current with */
  readonly id: string;
  /** encoded SNAPSHOT envelope */
  readonly envelope: Uint8Array;
}

export interface ClusterBusEvents {
  /** a live frame (possibly our own; possibly out of date — the actor checks the chain) */
  frame(frame: ClusterFrame): void;
  /** connected and subscribed (again): time to flush the backlog and repair gaps */
  up(): void;
  /** lost the connection (frames may be missed until the next `up`) */
  down(reason: string): void;
}

export interface ClusterBus {
  readonly kind: 'redis' | 'memory';
  /** Begin connecting and subscribing; events flow from now on. Resolves without waiting for
   *  the connection (an unreachable Redis is reported through `down`, then `up` when it comes). */
  start(events: ClusterBusEvents): Promise<void>;
  /** connected for commands and subscribed */
  connected(): boolean;
  /** Why writes to this bus cannot be trusted even while connected (found when it connected:
   *  e.g. Redis would evict keys under memory pressure); undefined when there is none. */
  problem?(): string | undefined;
  /** Append to the durable record and fan out; resolves with the entry's id once it is stored.
   *  Rejects at once when disconnected (no hidden offline queue: the actor keeps the backlog). */
  append(input: ClusterAppend): Promise<string>;
  /** Entries strictly after `afterId`, oldest first, at most `count`. */
  readAfter(afterId: string, count: number): Promise<ClusterRecordEntry[]>;
  info(): Promise<ClusterRecordInfo>;
  /** The record id a node's snapshot is current with (undefined: no snapshot, e.g. Redis lost it). */
  snapshotId(nodeIp: string): Promise<string | undefined>;
  /** Every node snapshot, in batches. */
  snapshots(batchSize: number): AsyncIterable<ClusterSnapshotEntry[]>;
  /** Stop, release connections. Idempotent. */
  close(): Promise<void>;
}
