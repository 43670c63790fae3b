/**
 * The one way in for announcements. Whatever brought it — the cjdns link and `POST /subnode`
 * (both `sq: ann` from the node itself, through the subnode query handler), a replication peer,
 * or another process of our cluster on the bus — an announcement goes through `submit`, and
 * the table below decides, in this one place, everything that differs between the sources:
 *
 *   source   verify  fromNode  self-check  skip if stored  cluster hooks
 *   node     yes     yes       yes         no              catch up before, publish after
 *   gossip   yes     no        yes         no              no
 *   cluster  no      no        no          yes             no
 *
 * - verify: cluster entries were verified by the process that accepted them, and their
 *   envelopes are authenticated with the cluster key (src/cluster/envelope-auth.ts,
 *   docs/cluster.md "An authenticated bus"); the announcement store's replay at start
 *   (store-wiring.ts) uses the same row: what it holds was verified when accepted;
 * - fromNode: the clock-skew, old-message and snode checks of docs/protocol.md §4.2; and, given
 *   the sender (the subnode query handler passes it), the announcement must be signed by it —
 *   else `failed_parse_or_validate` with a zero stateHash (docs/protocol.md §5.3);
 * - self-check: gossip naming us as its route server is refused (wrong_snode); every process of
 *   a cluster shares the snode identity, so cluster entries are not checked;
 * - skip if stored: a cluster entry whose hash is already in the replication store changes
 *   nothing (re-publications, our own announcements coming back);
 * - cluster hooks: only where another process reads the bus (Redis). A node that failed over
 *   from another process is caught up from the durable record before its announcement is
 *   applied, and an accepted announcement is acknowledged only once it is durable there. The
 *   embedded bus of a single process has no other reader: nothing is published or encoded.
 * - the announcement store (a single process, docs/store.md): every change of the replication
 *   store is recorded through a listener, and the reply to a node's own announcement — accepted
 *   or not — waits for the store's commit (`setDurability`), so no reply reveals a state a
 *   crash could take back. At start the store replays each node through `restore`, with the
 *   cluster rules (verified when accepted, addressed to us, older than the clock allows).
 *
 * The walk: parse once (the engine chooses where: the verification pool, or this thread) →
 * de-duplicate → catch up → the engine applies it in the node's order and calls `applied` here
 * (the replication store, metrics, the debug log, listeners) → publish. Node expiry comes back
 * through `expired`.
 */
import type { AnnouncementSource } from '../graph/announcement-source.ts';
import {
  applyAnnouncement,
  type AnnounceInput,
  type AnnounceOutcome,
} from '../graph/apply-announcement.ts';
import type { NodeRecordView } from '../graph/node-record.ts';
import { recordDeltaOf } from '../graph/record-delta.ts';
import type { ReplicationStore } from '../graph/replication-store.ts';
import {
  decodeClusterDelta,
  encodeClusterDelta,
  type ClusterDelta,
} from '../protocol/cluster-delta.ts';
import { zeroStateHash } from '../graph/state-hash.ts';
import type { Logger } from '../log.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import { bytesToHex } from '../protocol/hex.ts';
import type { ApplyRecorder, ApplyRules, RoutingEngine } from '../routing/routing-engine.ts';
import { RsError } from '../errors.ts';
import { bytesEqual } from '../protocol/hex.ts';
import type { ServerMetrics } from './metrics.ts';
import type { Sender } from './sender.ts';

interface IngestRules extends ApplyRules {
  readonly verify: boolean;
  readonly skipIfStored: boolean;
  readonly clusterHooks: boolean;
}

export const INGEST_RULES: Readonly<Record<AnnouncementSource, IngestRules>> = {
  node: { verify: true, fromNode: true, selfCheck: true, skipIfStored: false, clusterHooks: true },
  gossip: {
    verify: true,
    fromNode: false,
    selfCheck: true,
    skipIfStored: false,
    clusterHooks: false,
  },
  cluster: {
    verify: false,
    fromNode: false,
    selfCheck: false,
    skipIfStored: true,
    clusterHooks: false,
  },
};

/**
 * A `pick` for `Ingest#submit` that keeps only the outcome's error (what replication needs): the
 * submission's promise then holds a string instead of the whole outcome.
 */
export const errorOfOutcome = (o: AnnounceOutcome): string => o.error;

/** The cluster bus's hooks around a node's own announcements (docs/cluster.md). */
export interface ClusterHooks {
  /** failover: catch up on this node from the durable record before applying its announcement */
  beforeNodeAnnouncement(nodeIp: string): Promise<void>;
  /**
   * make an accepted announcement durable for the cluster; the node is acknowledged after this.
   * `delta`: the record delta computed from it, in the node's order (docs/cluster.md, "Deltas"),
   * when the engine can apply deltas; the other processes apply it instead of the announcement
   */
  afterNodeAccepted(
    bytes: Uint8Array,
    nodeIp: string,
    delta: Uint8Array | undefined,
  ): Promise<void>;
}

/** How a cluster entry was applied: its delta, the announcement in full, or not at all (stored). */
export type ClusterApplyResult = 'delta' | 'full' | 'stored';

/** Told about every change of the replication store (replication peers, the cluster bus). */
export interface StoreListener {
  accepted?(ann: Announcement, source: AnnouncementSource, outcome: AnnounceOutcome): void;
  deleted?(hash: Uint8Array): void;
}

export interface IngestDeps {
  readonly store: ReplicationStore;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  readonly now: () => number;
}

export class Ingest implements ApplyRecorder {
  private engine: RoutingEngine | undefined;
  private hooks: ClusterHooks | undefined;
  private durability: (() => Promise<unknown>) | undefined;
  private readonly listeners = new Set<StoreListener>();
  /** the record delta of each accepted node announcement, made in the node's order, until published */
  private readonly deltas = new WeakMap<Announcement, Uint8Array>();
  /** `/debugnode/<ip>`: every announcement of this node is logged */
  debugNode: string | undefined;

  constructor(private readonly d: IngestDeps) {}

  /** The engine this funnel feeds (it records through this object). */
  feed(engine: RoutingEngine): void {
    this.engine = engine;
  }

  /** Install the cluster bus's hooks: only when another process reads the bus (app.ts). */
  setClusterHooks(hooks: ClusterHooks | undefined): void {
    this.hooks = hooks;
  }

  /** The announcement store's commit: a node's own announcement is answered after it (app.ts). */
  setDurability(durable: (() => Promise<unknown>) | undefined): void {
    this.durability = durable;
  }

  addListener(l: StoreListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * JS `handleAnnounce(bytes, fromNode)` for every source. Announcements of one node are
   * applied strictly in submission order. Rejects with a typed RsError when the engine refuses
   * (a full verification queue or node mailbox: RS_ERR_VERIFY_QUEUE_FULL, RS_ERR_MAILBOX_FULL).
   * `pick`: what the caller keeps of the outcome, taken in the apply's turn; the promise then
   * carries only that (replication keeps the error: see the comment inside).
   */
  submit(
    input: Uint8Array | Announcement,
    source: AnnouncementSource,
    sender?: Sender,
  ): Promise<AnnounceOutcome>;
  submit<R>(
    input: Uint8Array | Announcement,
    source: AnnouncementSource,
    sender: Sender | undefined,
    pick: (outcome: AnnounceOutcome) => R,
  ): Promise<R>;
  submit<R>(
    input: Uint8Array | Announcement,
    source: AnnouncementSource,
    sender?: Sender,
    pick?: (outcome: AnnounceOutcome) => R,
  ): Promise<AnnounceOutcome | R> {
    // snode_announcement_duration_seconds: received → outcome (for `node`, durable when it must
    // be), from a start time. No async function and no timer closure per announcement: what an
    // announcement holds while it waits for verification (here one closure) survives scavenges
    // into the old generation, and an async function's frame is several times that (issue 17).
    // For the same reason the outcome is best not a waiting promise's value: a promise that
    // reached the old generation keeps what it resolves with alive through two more scavenges.
    const t0 = performance.now();
    try {
      // an announcement already parsed is walked in the caller's turn (applied at once when its
      // node has nothing queued); bytes after their parse, in a continuation even when the
      // parse was synchronous, as always
      const walk = (p: AnnounceInput): AnnounceOutcome | R | Promise<AnnounceOutcome | R> => {
        const outcome = this.walk(p, source, sender, t0);
        if (!pick) return outcome;
        return outcome instanceof Promise ? outcome.then(pick) : pick(outcome);
      };
      if (!(input instanceof Uint8Array)) return Promise.resolve(walk({ ann: input }));
      const parsed = this.engine!.parse(input, INGEST_RULES[source].verify, walk);
      return parsed instanceof Promise ? parsed : Promise.resolve(parsed).then(walk);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** After the parse: refuse, skip, or have the engine apply it (in the node's order). */
  private walk(
    input: AnnounceInput,
    source: AnnouncementSource,
    sender: Sender | undefined,
    t0: number,
  ): AnnounceOutcome | Promise<AnnounceOutcome> {
    const rules = INGEST_RULES[source];
    let parsed = input;
    if (sender && 'ann' in parsed && !signedBy(parsed.ann, sender)) {
      this.d.log.debug(
        { event: 'snode:ann:not_sender', sender: sender.ip, node: parsed.ann.nodeIp },
        'announcement refused: signed by another node than its sender',
      );
      parsed = {
        parseError: new RsError(
          'RS_ERR_ANN_NOT_SENDER',
          `announcement of ${parsed.ann.nodeIp} sent by ${sender.ip}`,
        ),
      };
    }
    if ('parseError' in parsed) {
      // no node is involved after a parse failure (docs/protocol.md §4.2 step 7)
      const { outcome } = applyAnnouncement(undefined, parsed, {
        fromNode: rules.fromNode,
        now: this.d.now(),
        selfIp: undefined,
      });
      this.applied(outcome, source);
      return this.timed(outcome, source, t0);
    }
    const ann = parsed.ann;
    if (rules.skipIfStored && this.d.store.has(ann.hash))
      return this.timed(this.unchanged(ann), source, t0);
    const hooks = rules.clusterHooks ? this.hooks : undefined;
    if (hooks || (rules.fromNode && this.durability))
      return this.applyDurably(ann, rules, source, hooks, t0);
    const outcome = this.engine!.apply(ann, rules, source);
    return outcome instanceof Promise
      ? outcome.then((o) => this.timed(o, source, t0))
      : this.timed(outcome, source, t0);
  }

  /** A node's own announcement with the cluster's hooks or the store's commit around the apply. */
  private async applyDurably(
    ann: Announcement,
    rules: IngestRules,
    source: AnnouncementSource,
    hooks: ClusterHooks | undefined,
    t0: number,
  ): Promise<AnnounceOutcome> {
    // before queueing into the node's order: the catch-up applies the node's entries first
    if (hooks) await hooks.beforeNodeAnnouncement(ann.nodeIp);
    const outcome = await this.engine!.apply(ann, rules, source);
    if (hooks && outcome.accepted) {
      const delta = this.deltas.get(outcome.accepted);
      this.deltas.delete(outcome.accepted);
      await hooks.afterNodeAccepted(outcome.accepted.binary, outcome.accepted.nodeIp, delta);
    }
    if (rules.fromNode && this.durability) await this.durability();
    return this.timed(outcome, source, t0);
  }

  /** `value`, once its time since `t0` is observed (snode_announcement_duration_seconds). */
  private timed<T>(value: T, source: AnnouncementSource, t0: number): T {
    this.d.metrics.announcementSeconds.observe({ source }, (performance.now() - t0) / 1000);
    return value;
  }

  /**
   * Another process's entry that carries a record delta (docs/cluster.md, "Deltas"): apply the
   * delta to the node's record when the engine can and it fits, else the announcement in full
   * (the `cluster` row). Skipped when the announcement is already stored.
   */
  applyClusterDelta(
    bytes: Uint8Array,
    deltaBytes: Uint8Array,
    nodeIp: string,
  ): ClusterApplyResult | Promise<ClusterApplyResult> {
    const engine = this.engine!;
    let delta: ClusterDelta | undefined;
    try {
      delta = decodeClusterDelta(deltaBytes);
    } catch (e) {
      this.d.log.warn(
        { event: 'cluster:delta:malformed', node: nodeIp, err: (e as Error).message },
        'malformed record delta; applying the announcement in full',
      );
    }
    if (delta) {
      if (this.d.store.has(delta.annHash)) return 'stored';
      if (engine.applyDelta) {
        const t0 = performance.now();
        // synchronous unless the node's actor has announcements queued: no promise per entry
        const outcome = engine.applyDelta(bytes, delta, nodeIp);
        if (outcome instanceof Promise) return outcome.then((o) => this.deltaApplied(o, t0, bytes));
        return this.deltaApplied(outcome, t0, bytes);
      }
    }
    return this.applyInFull(bytes);
  }

  /** A delta's outcome: installed (timed as an apply), or not fitting — the announcement in full. */
  private deltaApplied(
    outcome: AnnounceOutcome | undefined,
    t0: number,
    bytes: Uint8Array,
  ): ClusterApplyResult | Promise<ClusterApplyResult> {
    if (!outcome) return this.applyInFull(bytes);
    this.d.metrics.announcementSeconds.observe(
      { source: 'cluster' },
      (performance.now() - t0) / 1000,
    );
    return 'delta';
  }

  private async applyInFull(bytes: Uint8Array): Promise<ClusterApplyResult> {
    const outcome = await this.submit(bytes, 'cluster');
    return outcome.accepted ? 'full' : 'stored';
  }

  /**
   * Start-up restore of one node from the announcement store (docs/store.md): its stored
   * announcements, oldest first, under the cluster rules, on this thread when the engine can
   * (else submitted one by one). Resolves with each one's reply error.
   */
  async restore(announcements: readonly Uint8Array[]): Promise<string[]> {
    const errors = this.engine!.restore(announcements, INGEST_RULES.cluster, 'cluster');
    if (errors) return errors;
    const out: string[] = [];
    for (const a of announcements) out.push((await this.submit(a, 'cluster')).error);
    return out;
  }

  /** ApplyRecorder: the store changes (deletions before the addition), metrics, debug log, listeners. */
  applied(outcome: AnnounceOutcome, source: AnnouncementSource): void {
    const store = this.d.store;
    for (const h of outcome.deleted) store.delete(h);
    // an announcement a record keeps in the store's arena is referenced, not copied
    if (outcome.accepted) store.add(outcome.accepted);
    this.d.metrics.announcements.inc({ source, result: outcome.error });
    if (this.debugNode !== undefined && outcome.node?.ipv6 === this.debugNode) {
      this.d.log.info(
        {
          event: 'snode:ann:debug',
          node: this.debugNode,
          source,
          error: outcome.error,
          stateHash: bytesToHex(outcome.stateHash),
        },
        'debug node announcement',
      );
    }
    for (const h of outcome.deleted) for (const l of this.listeners) l.deleted?.(h);
    if (outcome.accepted)
      for (const l of this.listeners) l.accepted?.(outcome.accepted, source, outcome);
    // the delta must describe the record right after this announcement: made here, in its order
    if (
      source === 'node' &&
      this.hooks &&
      outcome.accepted &&
      outcome.node &&
      this.engine?.applyDelta
    )
      this.noteDelta(outcome.accepted, outcome.node);
  }

  private noteDelta(accepted: Announcement, record: NodeRecordView): void {
    try {
      this.deltas.set(
        accepted,
        encodeClusterDelta(recordDeltaOf(record, accepted, this.engine?.linkUpdatesOf?.(record))),
      );
    } catch (e) {
      // not describable (bounds): the others apply the announcement in full
      this.d.log.warn(
        { event: 'cluster:delta:unencodable', node: record.ipv6, err: (e as Error).message },
        'no record delta for this announcement',
      );
    }
  }

  /** ApplyRecorder: expired nodes' announcements leave the store. */
  expired(deleted: readonly Uint8Array[]): void {
    for (const h of deleted) this.d.store.delete(h);
    for (const h of deleted) for (const l of this.listeners) l.deleted?.(h);
  }

  /** ApplyRecorder: crash recovery reads a node's kept announcements back. */
  stored(hash: Uint8Array): Uint8Array | undefined {
    return this.d.store.get(hash);
  }

  /** An announcement already stored: nothing changes; the reply carries the node's hash. */
  private unchanged(ann: Announcement): AnnounceOutcome {
    const node = this.engine!.nodes.get(ann.nodeIp);
    return {
      error: 'none',
      stateHash: node?.stateHash ?? zeroStateHash(),
      node,
      accepted: undefined,
      added: [],
      deleted: [],
    };
  }
}

/**
 * A node's own announcement must be signed by the node that sent it: the key and address of
 * cjdns's route header (which cjdns authenticates), or the `x-cjdns-*` headers of `POST /subnode`
 * (which the cluster's edge copies from that route header, and which HAProxy hashes to pick the
 * process that owns the node). Otherwise it is refused as invalid: `failed_parse_or_validate`,
 * 64 zero bytes for the stateHash (docs/protocol.md §4.2; nothing about the named node leaks).
 */
function signedBy(ann: Announcement, sender: Sender): boolean {
  if (ann.nodeIp !== sender.ip) return false;
  return sender.key === undefined || bytesEqual(ann.nodeKey, sender.key);
}
