/**
 * What the cluster actor needs from the route server of its process (the lead wires it in
 * app.ts). `routeServerSink` adapts a RouteServer that has the third apply mode, "cluster".
 */

/** A node's durable state: replaying resetMsg, then the kept announcements oldest first, through
 *  the "cluster" apply mode reproduces the same kept set and the same stateHash. */
export interface ClusterNodeSnapshot {
  readonly resetMsg: Uint8Array;
  /** kept announcements, oldest first (docs/protocol.md §4.5 hashing order); may start with resetMsg */
  readonly keptOldestFirst: readonly Uint8Array[];
}

/** How an entry with a delta was applied: the delta itself, the announcement in full, or already held. */
export type DeltaResult = 'delta' | 'full' | 'stored';

export interface ClusterSink {
  /**
   * Apply an announcement another process accepted, in mode "cluster": like gossip (no clock-skew
   * and no old_message check) but without the self (`wrong_snode`) check — every process of the
   * cluster shares the snode identity — and skipping an announcement whose hash is already in the
   * replication store. Resolves once applied. Must not wait for the cluster actor (it calls this
   * from inside its mailbox).
   */
  applyRemote(bytes: Uint8Array): Promise<void>;
  /**
   * Apply another process's announcement through the record delta its origin computed
   * (docs/cluster.md, "Deltas"); the sink falls back to the announcement in full when the delta
   * does not fit. Absent: the follower calls `applyRemote`. Synchronous when it can be (the
   * common case: the delta installed at once), so a catch-up makes no promise per entry.
   */
  applyDelta?(
    bytes: Uint8Array,
    delta: Uint8Array,
    nodeIp: string,
  ): DeltaResult | Promise<DeltaResult>;
  /** The node's resetMsg and kept announcements, oldest first; undefined for an unknown node. */
  nodeSnapshot(ip: string): ClusterNodeSnapshot | undefined;
}

/** The parts of RouteServer the adapter uses (structural, so this file imports no server code). */
export interface ClusterCapableServer {
  submitAnnouncement(bytes: Uint8Array, source: 'cluster'): Promise<unknown>;
  applyClusterDelta?(
    bytes: Uint8Array,
    delta: Uint8Array,
    nodeIp: string,
  ): DeltaResult | Promise<DeltaResult>;
  readonly nodes: {
    get(ip: string):
      | {
          readonly resetMsg: { readonly binary: Uint8Array };
          readonly announcements: readonly { readonly binary: Uint8Array }[];
        }
      | undefined;
  };
}

/** ClusterSink over a RouteServer that implements `submitAnnouncement(bytes, 'cluster')`. */
export function routeServerSink(server: ClusterCapableServer): ClusterSink {
  return {
    applyRemote: async (bytes) => {
      await server.submitAnnouncement(bytes, 'cluster');
    },
    ...(server.applyClusterDelta
      ? {
          applyDelta: (bytes: Uint8Array, delta: Uint8Array, nodeIp: string) =>
            server.applyClusterDelta!(bytes, delta, nodeIp),
        }
      : {}),
    nodeSnapshot: (ip) => {
      const rec = server.nodes.get(ip);
      if (!rec) return undefined;
      const kept: Uint8Array[] = [];
      for (let i = rec.announcements.length - 1; i >= 0; i--)
        kept.push(rec.announcements[i]!.binary);
      return { resetMsg: rec.resetMsg.binary, keptOldestFirst: kept };
    },
  };
}
