/**
 * What the route server needs of a routing engine — `fast` (routing-supervisor.ts: subnode
 * actors, verification workers, double-buffered tree replicas) or `reference` (reference/: the
 * original's one table and lazily rebuilt graph). The ingest funnel (server/ingest.ts) decides
 * everything about an announcement (parse, verify, fromNode, self-check, de-duplication,
 * cluster hooks); an engine parses where it parses best and applies each node's announcements
 * in order, telling the funnel's recorder about every outcome in that order.
 */
import type { AnnouncementSource } from '../graph/announcement-source.ts';
import type { AnnounceInput, AnnounceOutcome } from '../graph/apply-announcement.ts';
import type { NodeDirectory } from '../graph/node-directory.ts';
import type { Logger } from '../log.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import type { ClusterDelta } from '../protocol/cluster-delta.ts';
import type { NodeRecordView } from '../graph/node-record.ts';
import type { LinkUpdates } from '../graph/record-delta.ts';
import type { GrRoute, RouteJson } from './route-answer.ts';

/** How one announcement is applied (the funnel's per-source rules, docs/protocol.md §4.2). */
export interface ApplyRules {
  /** from the announcing node itself (`sq: ann`): the clock, age and snode checks apply */
  readonly fromNode: boolean;
  /** refuse an announcement naming us as its route server when it is not from the node */
  readonly selfCheck: boolean;
}

/**
 * Told about every outcome in each node's apply order (in the fast engine: inside the node's
 * actor, before the next announcement of that node), so the replication store follows the
 * records exactly.
 */
export interface ApplyRecorder {
  /** an announcement was applied (accepted or not): make its store changes, count it */
  applied(outcome: AnnounceOutcome, source: AnnouncementSource): void;
  /** nodes were forgotten by expiry: their announcements leave the store */
  expired(deleted: readonly Uint8Array[]): void;
  /** the bytes of a stored announcement (crash recovery replays a node's kept ones) */
  stored(hash: Uint8Array): Uint8Array | undefined;
}

/** What an engine is given. */
export interface EngineDeps {
  readonly now: () => number;
  /** our own cjdns node's IPv6 (JS `selfNode.ipv6`), read when an announcement is applied */
  readonly selfIp: () => string | undefined;
  readonly recorder: ApplyRecorder;
  readonly log: Logger;
}

export interface RoutingEngine {
  /** `nodesByIp` in the original's insertion order (read-only outside the engine) */
  readonly nodes: NodeDirectory;
  /**
   * Parse bytes into an announcement or its parse error, verifying the signature if asked. A
   * parse made at once is returned; one made elsewhere (a verification worker) is handed to
   * `then` when it is back, and the promise carries what `then` returns (nothing holds the
   * parsed objects while they are used: see verify-pool.ts, "Hand-off").
   */
  parse<R>(
    bytes: Uint8Array,
    verify: boolean,
    then: (input: AnnounceInput) => R | PromiseLike<R>,
  ): AnnounceInput | Promise<R>;
  /**
   * Apply a parsed announcement in its node's order; the recorder hears the outcome before this
   * resolves. May reject with a typed RsError (a full mailbox, a crashed node actor).
   */
  apply(
    ann: Announcement,
    rules: ApplyRules,
    source: AnnouncementSource,
  ): AnnounceOutcome | Promise<AnnounceOutcome>;
  /**
   * Start-up restore (docs/store.md): parse one node's stored announcements (unverified: they
   * were verified when accepted) and apply them on this thread, oldest first, each outcome
   * recorded as `apply` records it; returns each one's reply error. Undefined when the node
   * cannot be restored here (a live node actor): submit its announcements one by one then.
   */
  restore(
    bytes: readonly Uint8Array[],
    rules: ApplyRules,
    source: AnnouncementSource,
  ): string[] | undefined;
  /**
   * Apply another process's record delta (docs/cluster.md, "Deltas"): `bytes` is the announcement
   * it describes, already verified and applied by its origin. Resolves with the outcome (recorded
   * as `apply` records it, source `cluster`), or undefined when the delta does not fit the node's
   * record — then apply the announcement in full. Absent: this engine applies announcements only.
   */
  applyDelta?(
    bytes: Uint8Array,
    delta: ClusterDelta,
    nodeIp: string,
  ): AnnounceOutcome | undefined | Promise<AnnounceOutcome | undefined>;
  /**
   * For the record delta of an announcement just accepted into `record` (called right after its
   * apply, in the node's order): the links it changed when it changed no link's identity;
   * undefined when every link must travel (or the engine cannot tell).
   */
  linkUpdatesOf?(record: NodeRecordView): LinkUpdates | undefined;
  /** `/path`: the original's route object, or null */
  route(srcIp: string, dstIp: string): RouteJson | null;
  /** what a `gr` reply needs, or null */
  routeForGr(srcIp: string, dstIp: string): GrRoute | null;
  /** Forget nodes silent for GLOBAL_TIMEOUT_MS (docs/protocol.md §4.7); returns how many went. */
  expire(now: number): number;
  /** Resolves once routes reflect every announcement accepted so far. */
  sync(): Promise<void>;
  close(): Promise<void>;
}
