/**
 * The cluster actor: the bridge between this process's route server and the other processes of
 * the cluster (docs/cluster.md). One actor owns the bridge's state (src/cluster/cluster-state.ts)
 * and runs its two halves inside its handlers:
 *  - the publisher (src/cluster/record-publisher.ts): every announcement this process accepted
 *    goes to the durable record and the live channel — an ANN envelope with the raw bytes, this
 *    process as origin and a per-origin sequence number, and the node's snapshot beside it;
 *    `publishAccepted` resolves once the entry is stored, or says that it went to the bounded
 *    backlog because the bus is away;
 *  - the follower (src/cluster/record-follower.ts): the other processes' entries are applied in
 *    record order through the sink's "cluster" mode; missed frames, reconnects and trimming are
 *    repaired from the record and the node snapshots.
 * The facade (`ClusterActor`) sends messages and reads a small view the actor publishes (ready,
 * nodes last changed elsewhere, counters), because `/readyz` and the per-announcement fast path
 * of `catchUpBeforeLocalApply` must answer synchronously.
 */
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { ClusterBus, ClusterRecordEntry } from './bus.ts';
import {
  errText,
  lagFigures,
  newClusterState,
  newClusterView,
  type ClusterState,
  type ClusterView,
  type PublishResult,
  type Reply,
} from './cluster-state.ts';
import { CLUSTER_DEFAULTS } from './cluster-settings.ts';
import { EnvelopeAuth, UNSEALED, type EnvelopeSeal } from './envelope-auth.ts';
import { ClusterMetrics } from './metrics.ts';
import { RecordFollower } from './record-follower.ts';
import { RecordPublisher, type AppendOutcome, type PublishRequest } from './record-publisher.ts';
import type { ClusterNodeSnapshot, ClusterSink } from './sink.ts';
import { RsError, isRsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { compareStreamIds, isValidOrigin } from '../protocol/cluster-envelope.ts';
import { ActorSystem, type ActorRef, type ReplyTo } from '../actors/actor-system.ts';
import { Deque } from '../lib/deque.ts';
import type { SupervisionPolicy } from '../actors/supervision.ts';

export type { PublishResult } from './cluster-state.ts';

/** appends awaiting Redis at once (pipelined on one connection, so still in order) */
export const DEFAULT_MAX_IN_FLIGHT = 256;
/** mailbox slots kept for the actor's own completions (must exceed the in-flight bound) */
const INTERNAL_RESERVE = 1024;
export const DEFAULT_MAILBOX_LIMIT = 20_000;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 15_000;
/** how often the actor compares the record's newest id with its own position */
export const DEFAULT_ANTI_ENTROPY_INTERVAL_MS = 1000;
/** record entries per read */
export const DEFAULT_READ_BATCH = 500;
/** startup replays the whole record when it is this short and untrimmed (exact link values too);
 *  otherwise it rebuilds from the snapshots (exact kept sets and stateHash) */
export const DEFAULT_FULL_REPLAY_MAX_ENTRIES = 50_000;

export interface ClusterActorOptions {
  readonly bus: ClusterBus;
  readonly sink: ClusterSink;
  /**
   * the cluster key (32 bytes, `cluster.key`): every envelope written is sealed with its
   * HMAC-SHA256 tag and every envelope read must carry it (envelope-auth.ts). Required on a
   * Redis bus; the embedded bus of a single process has no other writer.
   */
  readonly key?: Uint8Array;
  /** this process incarnation's name in envelopes (default hostname-pid-random) */
  readonly origin?: string;
  /** the process's actor system (default: a private one) */
  readonly system?: ActorSystem;
  readonly log?: Logger;
  /** where the snode_cluster_* metrics go (default: nowhere) */
  readonly registry?: Registry;
  readonly now?: () => number;
  readonly backlogLimit?: number;
  readonly maxInFlight?: number;
  readonly catchUpTimeoutMs?: number;
  readonly publishTimeoutMs?: number;
  readonly antiEntropyIntervalMs?: number;
  readonly readBatch?: number;
  readonly fullReplayMaxEntries?: number;
  readonly mailboxLimit?: number;
}

export interface ClusterStatus {
  readonly bus: 'redis' | 'memory';
  readonly origin: string;
  /** the startup catch-up finished (what /readyz reports) */
  readonly ready: boolean;
  readonly connected: boolean;
  readonly backlog: number;
  /** nodes waiting to be re-published as snapshots (backlog overflow, Redis data loss) */
  readonly dirtyNodes: number;
  readonly lastAppliedId: string;
  readonly published: number;
  readonly appliedRemote: number;
  readonly gapsRepaired: number;
  readonly resyncs: number;
  /** replication lag of remote announcements (origin accepted → applied here), ms */
  readonly lagMs: { readonly last: number | undefined; readonly p99: number | undefined };
  /** the actor crashed past its restart budget: the process should not be ready */
  readonly failed: boolean;
  /** announcements can be made durable now (connected, no failed write waiting, nothing to
   *  re-publish first); while false nothing is acknowledged and /readyz says not ready */
  readonly writable: boolean;
  /** the newest write Redis refused or lost (kept after recovery) */
  readonly lastWriteFailure:
    { readonly reason: string; readonly message: string; readonly at: number } | undefined;
  /** why the bus cannot be trusted with writes, found when it connected (e.g. an eviction policy) */
  readonly busProblem: string | undefined;
  /** the other processes seen on the bus through their record entries, most recently active first */
  readonly processes: readonly {
    readonly origin: string;
    readonly lastAcceptedAt: number;
    readonly entries: number;
  }[];
}

// ---- messages ---------------------------------------------------------------------------------

export type ClusterCommand =
  | ({ readonly type: 'Publish' } & PublishRequest)
  | { readonly type: 'CatchUpNode'; readonly nodeIp: string; readonly replyTo: ReplyTo<boolean> }
  | { readonly type: 'Drain'; readonly replyTo: ReplyTo<void> }
  | { readonly type: 'Frame'; readonly frame: ClusterRecordEntry }
  | { readonly type: 'BusUp' }
  | { readonly type: 'BusDown'; readonly reason: string }
  | { readonly type: 'Tick' };

/** the actor's own completion message (not exported) */
type AppendSettled = { readonly type: 'AppendSettled'; readonly outcome: AppendOutcome };

/** the facade gave up on a publication (mailbox full too long): re-publish the node whole */
type MarkDirty = { readonly type: 'MarkDirty'; readonly nodeIp: string };

/** re-publish the backlog now (after the last append in flight settled) */
type Flush = { readonly type: 'Flush' };

type Message = ClusterCommand | AppendSettled | MarkDirty | Flush;

interface QueuedPublish {
  readonly bytes: Uint8Array;
  readonly nodeIp: string;
  /** the record delta computed from it (docs/cluster.md, "Deltas"), if any */
  readonly delta: Uint8Array | undefined;
  readonly snapshot: ClusterNodeSnapshot | undefined;
  readonly acceptedAtMs: number;
  readonly queuedAt: number;
}

export function defaultOrigin(): string {
  const host =
    hostname()
      .replace(/[^0-9A-Za-z._-]/g, '')
      .slice(0, 40) || 'host';
  return `${host}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Resume (keep the positions and the backlog) within a budget; past it, stop and report. */
function resumeWithBudget(
  max: number,
  withinMs: number,
  onExhausted: () => void,
): SupervisionPolicy {
  const crashes: number[] = [];
  return {
    decide(_info, now) {
      while (crashes.length > 0 && crashes[0]! < now - withinMs) crashes.shift();
      if (crashes.length >= max) {
        onExhausted();
        return 'stop';
      }
      crashes.push(now);
      return 'resume';
    },
  };
}

// ---- the actor ----------------------------------------------------------------------------------

export class ClusterActor {
  readonly origin: string;
  private readonly bus: ClusterBus;
  private readonly sink: ClusterSink;
  private readonly system: ActorSystem;
  private readonly ownsSystem: boolean;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly ref: ActorRef<Message>;
  private readonly view: ClusterView;
  private readonly publisher: RecordPublisher;
  private readonly follower: RecordFollower;
  private readonly metrics: ClusterMetrics;
  private readonly cfg: {
    catchUpTimeoutMs: number;
    publishTimeoutMs: number;
    antiEntropyIntervalMs: number;
    mailboxLimit: number;
  };
  private readyWaiters: Array<() => void> = [];
  /** publications waiting for mailbox room, in call order (a deque: an overload can queue thousands) */
  private readonly overflow = new Deque<{
    req: QueuedPublish;
    resolve: (r: PublishResult) => void;
    reject: (e: Error) => void;
  }>();
  private overflowTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** Spawn the actor and start it (`new ClusterActor(opts)`, then `start()`). */
  static async start(opts: ClusterActorOptions): Promise<ClusterActor> {
    const actor = new ClusterActor(opts);
    await actor.start();
    return actor;
  }

  /** Start the bus; the catch-up runs in the background (see `status().ready`). */
  async start(): Promise<void> {
    await this.bus.start({
      frame: (frame) => this.tellExternal({ type: 'Frame', frame }),
      up: () => this.tellInternal({ type: 'BusUp' }),
      down: (reason) => this.tellInternal({ type: 'BusDown', reason }),
    });
    this.timer = setInterval(
      () => this.tellExternal({ type: 'Tick' }),
      this.cfg.antiEntropyIntervalMs,
    );
    this.timer.unref();
  }

  /** Spawn the actor (in `opts.system`, else a private system); `start()` connects the bus. */
  constructor(opts: ClusterActorOptions) {
    this.origin = opts.origin ?? defaultOrigin();
    if (!isValidOrigin(this.origin))
      throw new RsError(
        'RS_ERR_CONFIG_INVALID',
        `cluster process name ${JSON.stringify(this.origin)}: use 1-64 of [0-9A-Za-z._:@-]`,
      );
    this.bus = opts.bus;
    this.sink = opts.sink;
    if (opts.bus.kind === 'redis' && opts.key === undefined)
      throw new RsError(
        'RS_ERR_CONFIG_INVALID',
        'a cluster on Redis needs cluster.key (SNODE_CLUSTER_KEY: 64 hex digits, the same in every process; snode keygen --cluster): the bus is authenticated',
      );
    const seal: EnvelopeSeal = opts.key !== undefined ? new EnvelopeAuth(opts.key) : UNSEALED;
    this.ownsSystem = opts.system === undefined;
    this.system =
      opts.system ??
      new ActorSystem(`cluster-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    this.log = opts.log ?? silentLogger();
    this.now = opts.now ?? Date.now;
    this.cfg = {
      catchUpTimeoutMs: opts.catchUpTimeoutMs ?? CLUSTER_DEFAULTS.catchUpTimeoutMs,
      publishTimeoutMs: opts.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
      antiEntropyIntervalMs: opts.antiEntropyIntervalMs ?? DEFAULT_ANTI_ENTROPY_INTERVAL_MS,
      mailboxLimit: Math.max(opts.mailboxLimit ?? DEFAULT_MAILBOX_LIMIT, INTERNAL_RESERVE * 2),
    };
    const view = newClusterView();
    this.view = view;
    const metrics = (this.metrics = new ClusterMetrics(opts.registry, {
      backlog: () => view.backlog,
      connected: () => this.bus.connected(),
      caughtUp: () => view.caughtUp,
      writable: () => this.writable(),
    }));
    const common = {
      bus: this.bus,
      sink: this.sink,
      origin: this.origin,
      seal,
      log: this.log,
      metrics,
      now: this.now,
    };
    this.publisher = new RecordPublisher({
      ...common,
      backlogLimit: opts.backlogLimit ?? CLUSTER_DEFAULTS.backlogLimit,
      // completions of in-flight appends use the reserved mailbox slots
      maxInFlight: Math.min(opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, INTERNAL_RESERVE - 1),
      settled: (outcome) => this.tellInternal({ type: 'AppendSettled', outcome }),
    });
    this.follower = new RecordFollower({
      ...common,
      readBatch: opts.readBatch ?? DEFAULT_READ_BATCH,
      fullReplayMaxEntries: opts.fullReplayMaxEntries ?? DEFAULT_FULL_REPLAY_MAX_ENTRIES,
    });
    this.ref = this.system.spawn<ClusterState, Message>({
      name: `cluster-${this.origin}`,
      // created once: `resume` keeps it across crashes (positions and backlog must survive)
      initialState: () => newClusterState(view),
      handle: (state, msg, ctx) => this.handle(state, msg, ctx.reply),
      supervision: resumeWithBudget(20, 10_000, () => {
        view.failed = true;
        this.log.error(
          { event: 'cluster:actor:stopped' },
          'cluster actor crashed too often; stopped',
        );
      }),
      mailboxLimit: this.cfg.mailboxLimit,
      onCrash: (error, decision) =>
        this.log.error(
          { event: 'cluster:actor:crashed', err: error, decision },
          'cluster actor crashed',
        ),
    });
  }

  // ---- facade ---------------------------------------------------------------------------------

  /**
   * Publish an announcement this process accepted (call it right after the local apply, before
   * anything else can change the node: the node's snapshot is taken now). Resolves once the entry
   * is durable in the record — acknowledge the node only then — or, with the bus away, once it
   * is in the backlog (`durable: false` says so). Calls are published in call order, so call it
   * in the node's apply order (from inside the node's in-order pipeline). Rejects with
   * RS_ERR_QUERY_TIMEOUT / RS_ERR_MAILBOX_FULL when the actor could not take it within
   * publishTimeoutMs (do not acknowledge; the node is then re-published whole as a snapshot).
   */
  publishAccepted(bytes: Uint8Array, nodeIp: string, delta?: Uint8Array): Promise<PublishResult> {
    const req: QueuedPublish = {
      bytes,
      nodeIp,
      delta,
      snapshot: this.sink.nodeSnapshot(nodeIp),
      acceptedAtMs: this.now(),
      queuedAt: Date.now(),
    };
    if (this.overflow.length === 0 && this.hasRoom()) return this.askPublish(req);
    // the mailbox is full: wait in line (call order is publication order)
    return new Promise((resolve, reject) => {
      this.overflow.push({ req, resolve, reject });
      this.drainOverflowSoon();
    });
  }

  /**
   * `publishAccepted` for the `ann` reply: resolves with the entry's id once it is durable, and
   * rejects with RS_ERR_CLUSTER_NOT_DURABLE otherwise (Redis away, refusing writes, the backlog
   * full) — the caller must then not acknowledge: the node sends the announcement again
   * (docs/cluster.md, "The guarantee").
   */
  async publishDurable(bytes: Uint8Array, nodeIp: string, delta?: Uint8Array): Promise<string> {
    const r = await this.publishAccepted(bytes, nodeIp, delta);
    if (r.durable) return r.id;
    this.metrics.notAcknowledged.inc({
      reason: r.reason === 'write_failed' ? `write_failed_${r.error ?? 'other'}` : r.reason,
    });
    throw new RsError(
      'RS_ERR_CLUSTER_NOT_DURABLE',
      `not acknowledged: ${r.reason === 'write_failed' ? `Redis refused the write (${r.error ?? 'other'})` : r.reason.replaceAll('_', ' ')}; kept in the backlog (${r.backlog})`,
    );
  }

  /** Announcements can be made durable now: connected, no failed write waiting, nothing to re-publish first. */
  writable(): boolean {
    const v = this.view;
    return (
      !this.closed &&
      !v.failed &&
      this.bus.connected() &&
      !v.holding &&
      v.backlog === 0 &&
      v.dirty === 0 &&
      this.bus.problem?.() === undefined
    );
  }

  /**
   * Before this process handles a node's own announcement: make sure it holds every record entry
   * of that node (another process may have changed it last: a failover, or the node coming back
   * after one). The node's snapshot key in Redis, written with each of its entries, names its
   * newest entry; when this process's watermark for the node is behind it, read the record up to
   * its end first, so that the local apply continues the same kept list and stateHash. Waits for
   * the startup catch-up. Never applies out of order: when the catch-up cannot finish within
   * catchUpTimeoutMs (still starting, the bus away, a slow record), it rejects with
   * RS_ERR_CLUSTER_CATCHING_UP and the announcement must not be applied (the node sends it
   * again). Call it BEFORE queueing the announcement into the node's in-order pipeline: the
   * catch-up applies remote entries of that same node through the sink.
   */
  async catchUpBeforeLocalApply(nodeIp: string): Promise<void> {
    if (this.closed || this.view.failed)
      throw this.notCaughtUp(
        nodeIp,
        this.closed ? 'the cluster bus is closing' : 'the cluster actor failed',
      );
    const deadline = Date.now() + this.cfg.catchUpTimeoutMs;
    if (!this.view.caughtUp) {
      await this.whenReady(this.cfg.catchUpTimeoutMs);
      if (!this.view.caughtUp)
        throw this.notCaughtUp(
          nodeIp,
          `the startup catch-up did not finish within ${this.cfg.catchUpTimeoutMs} ms`,
        );
    }
    if (!this.bus.connected()) {
      // nothing could be made durable: refuse before applying (no local change the others lack)
      this.metrics.notAcknowledged.inc({ reason: 'bus_unavailable' });
      throw new RsError(
        'RS_ERR_CLUSTER_NOT_DURABLE',
        `node ${nodeIp}: the cluster bus is away; not applied, not acknowledged`,
      );
    }
    const newest = await this.beforeDeadline(this.bus.snapshotId(nodeIp), deadline);
    if (typeof newest === 'object')
      throw this.notCaughtUp(nodeIp, `cannot read the node's newest entry: ${newest.failed}`);
    if (this.holdsUpTo(nodeIp, newest)) return;
    // the ask keeps one constant timeout (the actor system has one timer per distinct timeout);
    // we stop waiting at our own deadline, which also counts the waits above
    const outcome = await this.beforeDeadline(
      this.system.ask<Message, boolean>(
        this.ref,
        (replyTo) => ({ type: 'CatchUpNode', nodeIp, replyTo }),
        this.cfg.catchUpTimeoutMs,
      ),
      deadline,
    );
    if (typeof outcome === 'object') throw this.notCaughtUp(nodeIp, outcome.failed);
    if (!outcome) throw this.notCaughtUp(nodeIp, 'reading the record failed');
    if (!this.holdsUpTo(nodeIp, newest))
      throw this.notCaughtUp(nodeIp, `the record did not bring the node to ${newest}`);
  }

  /** This process reflects the node's entry `id` (undefined: Redis has no entry of the node). */
  private holdsUpTo(nodeIp: string, id: string | undefined): boolean {
    if (id === undefined) return true;
    const wm = this.view.watermark.get(nodeIp);
    return wm !== undefined && compareStreamIds(wm, id) >= 0;
  }

  /** `p`'s value, or `{ failed }` when it rejects or `deadline` passes first. */
  private async beforeDeadline<T>(
    p: Promise<T>,
    deadline: number,
  ): Promise<T | { failed: string }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<{ failed: string }>((resolve) => {
      timer = setTimeout(
        () => resolve({ failed: `no catch-up within ${this.cfg.catchUpTimeoutMs} ms` }),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      return await Promise.race([p.catch((e: unknown) => ({ failed: errText(e) })), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private notCaughtUp(nodeIp: string, reason: string): RsError {
    this.log.warn(
      { event: 'cluster:node:catch_up_unfinished', node: nodeIp, reason },
      'not caught up on this node; its announcement waits (not applied, not acknowledged)',
    );
    this.metrics.notAcknowledged.inc({ reason: 'catching_up' });
    return new RsError('RS_ERR_CLUSTER_CATCHING_UP', `node ${nodeIp}: ${reason}`);
  }

  status(): ClusterStatus {
    const v = this.view;
    return {
      bus: this.bus.kind,
      origin: this.origin,
      ready: v.caughtUp && !v.failed,
      connected: this.bus.connected(),
      backlog: v.backlog,
      dirtyNodes: v.dirty,
      lastAppliedId: v.lastAppliedId,
      published: v.published,
      appliedRemote: v.appliedRemote,
      gapsRepaired: v.gapsRepaired,
      resyncs: v.resyncs,
      lagMs: lagFigures(v),
      failed: v.failed,
      writable: this.writable(),
      lastWriteFailure: v.lastWriteFailure,
      busProblem: this.bus.problem?.(),
      processes: [...v.origins]
        .reverse()
        .map(([origin, o]) => ({ origin, lastAcceptedAt: o.lastAcceptedAt, entries: o.entries })),
    };
  }

  /** Resolves true once the startup catch-up is done, false after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.view.caughtUp) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(t);
        resolve(true);
      };
      this.readyWaiters.push(done);
    });
  }

  /** Stop: wait (briefly) for appends in flight, then close the bus. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.overflowTimer) clearTimeout(this.overflowTimer);
    for (let o = this.overflow.shift(); o !== undefined; o = this.overflow.shift())
      o.reject(new RsError('RS_ERR_MAILBOX_FULL', 'the cluster actor is closing'));
    try {
      await this.system.ask<Message, void>(
        this.ref,
        (replyTo) => ({ type: 'Drain', replyTo }),
        2000,
      );
    } catch {
      // best effort: the backlog of a closing process is lost with it (it was never acknowledged as durable)
    }
    await this.bus.close();
    if (this.ownsSystem) this.system.shutdown();
    else this.system.stop(this.ref);
  }

  private tellExternal(msg: Message): boolean {
    if (this.closed) return false;
    if (this.system.mailboxStats(this.ref).pending >= this.cfg.mailboxLimit - INTERNAL_RESERVE)
      return false;
    return this.system.tell(this.ref, msg);
  }

  private tellInternal(msg: Message): boolean {
    return this.system.tell(this.ref, msg);
  }

  private hasRoom(): boolean {
    return this.system.mailboxStats(this.ref).pending < this.cfg.mailboxLimit - INTERNAL_RESERVE;
  }

  private askPublish(r: QueuedPublish): Promise<PublishResult> {
    // one constant timeout: the actor system keeps one timer per distinct timeout
    return this.system.ask<Message, PublishResult>(
      this.ref,
      (replyTo) => ({
        type: 'Publish',
        ann: r.bytes,
        nodeIp: r.nodeIp,
        delta: r.delta,
        snapshot: r.snapshot,
        acceptedAtMs: r.acceptedAtMs,
        replyTo,
      }),
      this.cfg.publishTimeoutMs,
    );
  }

  private drainOverflowSoon(): void {
    if (this.overflowTimer) return;
    this.overflowTimer = setTimeout(() => {
      this.overflowTimer = undefined;
      for (let head = this.overflow.peek(); head !== undefined; head = this.overflow.peek()) {
        if (this.closed || Date.now() - head.req.queuedAt > this.cfg.publishTimeoutMs) {
          this.overflow.shift();
          // never published: let the actor re-publish the node whole when it can
          this.tellInternal({ type: 'MarkDirty', nodeIp: head.req.nodeIp });
          head.reject(new RsError('RS_ERR_MAILBOX_FULL', 'the cluster actor is overloaded'));
          continue;
        }
        if (!this.hasRoom()) break;
        this.overflow.shift();
        this.askPublish(head.req).then(head.resolve, head.reject);
      }
      if (this.overflow.length > 0) this.drainOverflowSoon();
    }, 2);
  }

  // ---- handlers -------------------------------------------------------------------------------

  private async handle(state: ClusterState, msg: Message, reply: Reply): Promise<ClusterState> {
    switch (msg.type) {
      case 'Publish':
        this.publisher.publish(state, msg, reply);
        break;
      case 'AppendSettled':
        this.publisher.settle(state, msg.outcome, reply);
        this.afterSettle(state, reply);
        break;
      case 'Flush':
        if (state.inFlight === 0 && this.publisher.pending(state) && this.bus.connected())
          await this.guard('flush', () => this.publisher.flush(state));
        break;
      case 'Frame':
        await this.guard('frame', () => this.follower.onFrame(state, msg.frame));
        break;
      case 'BusUp':
        this.log.info(
          { event: 'cluster:bus:up', backlog: state.backlog.length, caughtUp: state.view.caughtUp },
          'cluster bus up',
        );
        await this.guard('bus up', () => this.onBusUp(state));
        break;
      case 'BusDown':
        this.log.warn(
          { event: 'cluster:bus:down', reason: msg.reason, caughtUp: state.view.caughtUp },
          'cluster bus down; accepting into the backlog',
        );
        break;
      case 'Tick':
        await this.guard('tick', () => this.onTick(state));
        break;
      case 'CatchUpNode': {
        let ok = false;
        await this.guard('node catch-up', async () => {
          await this.follower.repair(state, 'failover');
          ok = true;
        });
        reply(msg.replyTo, ok);
        break;
      }
      case 'MarkDirty':
        state.dirty.add(msg.nodeIp);
        state.view.dirty = state.dirty.size;
        break;
      case 'Drain':
        if (state.inFlight === 0) reply(msg.replyTo, undefined);
        else state.drainWaiters.push(msg.replyTo);
        break;
    }
    return state;
  }

  /** Bus failures are expected (Redis restarts): log them, keep the state, retry on the next tick. */
  private async guard(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      if (isRsError(e) && e.code !== 'RS_ERR_INTERNAL') throw e;
      this.log.warn(
        { event: 'cluster:bus:operation_failed', what, err: errText(e) },
        'cluster bus operation failed; will retry',
      );
    }
  }

  /** The last append in flight settled: answer Drain, and re-publish the backlog in a message of
   *  its own (the replies of this one go out now, not after the flush's round trips). */
  private afterSettle(state: ClusterState, reply: Reply): void {
    if (state.inFlight > 0) return;
    for (const w of state.drainWaiters) reply(w, undefined);
    state.drainWaiters = [];
    if (this.publisher.pending(state) && this.bus.connected()) this.tellInternal({ type: 'Flush' });
  }

  private async catchUp(state: ClusterState): Promise<void> {
    await this.follower.initialCatchUp(state);
    if (!state.view.caughtUp) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  private async onBusUp(state: ClusterState): Promise<void> {
    if (!state.view.caughtUp) {
      await this.catchUp(state);
    } else {
      const info = await this.bus.info();
      if (compareStreamIds(info.lastId, state.lastAppliedId) < 0)
        this.follower.onRewind(state, info.lastId);
      else await this.follower.checkOwnTail(state);
      await this.follower.repair(state, 'reconnect');
    }
    if (state.inFlight === 0) await this.publisher.flush(state);
  }

  private async onTick(state: ClusterState): Promise<void> {
    if (!this.bus.connected()) return;
    if (!state.view.caughtUp) {
      await this.catchUp(state);
      return;
    }
    if (state.inFlight === 0 && this.publisher.pending(state)) await this.publisher.flush(state);
    const info = await this.bus.info();
    const cmp = compareStreamIds(info.lastId, state.lastAppliedId);
    if (cmp < 0) {
      this.follower.onRewind(state, info.lastId);
      await this.publisher.flush(state);
    } else if (cmp > 0) {
      // frames were lost or are late; reading the record settles it either way
      await this.follower.repair(state, 'anti-entropy');
    }
  }
}
