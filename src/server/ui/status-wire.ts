/**
 * The live status the map page shows (`GET /ui/api/status`, and every second on the
 * `/ui/api/events` stream; docs/ui.md). Shared by the server's sampler and the page (types only).
 */

/** Per-second rates over the last sampling interval and the totals since the process started. */
export interface UiRates {
  readonly perSecond: Readonly<Record<string, number>>;
  readonly total: Readonly<Record<string, number>>;
}

export interface UiPeerSync {
  readonly state: string;
  readonly advertised: number;
  readonly needed: number;
  readonly fetched: number;
  readonly failed: number;
  /** 0 … 1 */
  readonly progress: number;
}

export interface UiPeer {
  readonly addr: string;
  readonly outstandingRequests: number;
  readonly msgsOnWire: number;
  readonly msgQueue: number;
  /** the initial sync of an outbound peer (configured URL) */
  readonly sync?: UiPeerSync;
}

/**
 * A process of the cluster: this one, and every other one this process saw on the bus through
 * its record entries (a process that has published nothing since this one started is not known).
 */
export interface UiClusterProcess {
  readonly origin: string;
  /** this process */
  readonly self: boolean;
  /** ms: this process: now; another: the newest acceptance time among its entries (its clock) */
  readonly lastSeen: number;
  /** this process: the entries it published; another: its entries read here */
  readonly entries: number;
}

export interface UiStatus {
  /** ms, server clock */
  readonly time: number;
  /** seconds the rates were measured over (0 in the first sample) */
  readonly intervalSec: number;
  readonly self: { readonly key: string; readonly ipv6: string; readonly version: number };
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, { readonly ok: boolean; readonly detail?: string }>>;
  readonly nodes: number;
  readonly links: number;
  /** announcements by reply error (`none` = accepted), every source together */
  readonly announcements: UiRates;
  /** announcements by source (`node`, `gossip`, `cluster`) */
  readonly announcementSources: UiRates;
  /** subnode queries by type (`ann`, `gr`, `pn`, …) */
  readonly queries: UiRates;
  /** route lookups (`gr`, `/path`, the page's paths) by result */
  readonly routeLookups: UiRates;
  readonly replication: {
    readonly peers: readonly UiPeer[];
    readonly storedAnnouncements: number;
  };
  /** the cjdns admin link, null when not enabled */
  readonly cjdns: Readonly<Record<string, unknown>> | null;
  readonly cluster: {
    readonly bus: string;
    readonly connected: boolean;
    readonly ready: boolean;
    readonly backlog: number;
    readonly lagMs: { readonly last: number | undefined; readonly p99: number | undefined };
    readonly processes: readonly UiClusterProcess[];
  };
}
