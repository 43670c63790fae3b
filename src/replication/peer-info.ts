/** What `/` and `/ni` report about replication peers (the original's `peer` / `peerInfo`). */
import type { InitialSyncSnapshot } from './initial-sync.ts';

export interface PeerInfo {
  peers: Array<{ addr: string; outstandingRequests: number; msgsOnWire: number; msgQueue: number }>;
  announcements: number;
  annByHashLen: number;
}

/** One peerInfo entry: the original's four fields, plus the initial sync of an outbound peer. */
export type PeerInfoEntry = PeerInfo['peers'][number] & { sync?: InitialSyncSnapshot };
