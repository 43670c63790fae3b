/**
 * Subnode actors: one per announcing cjdns node (keyed by its IPv6). The actor serialises the
 * node's announcements: it applies them to the node's record in the compact node table
 * (graph/compact-table.ts: the records' links, samples and kept announcements live in shared
 * arenas) strictly in order, one at a time (docs/protocol.md §4.2). Signatures are checked and
 * bytes parsed before a message reaches it.
 *
 * The directory (`SubnodeDirectory`) is the supervisor side: it spawns a node's actor when the
 * node has work to queue (below), keeps `nodesByIp` (the original's insertion order, which
 * routes and the read API depend on), passivates idle actors (the record stays in the table at
 * rest; the next message that must queue spawns a new owner), and restarts crashed ones
 * (policy: `restartWithBudgetPerActor`). A restarted actor rebuilds its record by
 * replaying the node's kept announcements as installed by its last successful message (their
 * bytes are in the announcement arena), so no other node is touched and the node's kept list and
 * stateHash come back exactly; link values are recomputed from the link state those
 * announcements carry.
 *
 * Mailboxes are bounded: when a node floods us faster than its actor applies, `apply` refuses
 * with RS_ERR_MAILBOX_FULL (the transport sends no reply; cjdns retries) and counts it.
 *
 * An announcement for a node with nothing queued — no live actor, or a live actor with an empty
 * mailbox — is applied at once, in the caller's turn (what the actor's turn would do, without
 * the event-loop hop per announcement and the ask bookkeeping). The apply is synchronous, so
 * nothing of that node can be in between and its order is kept; a node with messages queued gets
 * this one queued behind them. So a node has an actor only once it has had work to queue (in
 * practice: a crash, or an expiry told while it had one): issue 17, an actor is ~2 KB of heap and
 * a network has tens of thousands of nodes. A crash on the direct path is handed to the node's
 * actor, spawned for it if need be (its supervision restarts it and rebuilds the record), as if
 * it had happened in its turn; what the node sends meanwhile queues behind the restart.
 */
import type { ActorFamily, ActorRef, ActorSystem, ReplyTo } from '../actors/actor-system.ts';
import { restartWithBudgetPerActor } from '../actors/supervision.ts';
import { RsError, isRsError } from '../errors.ts';
import { GLOBAL_TIMEOUT_MS } from '../graph/constants.ts';
import type { AnnounceOutcome } from '../graph/apply-announcement.ts';
import type { CompactNodeTable } from '../graph/compact-table.ts';
import type { NodeRecordView } from '../graph/node-record.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import type { ClusterDelta } from '../protocol/cluster-delta.ts';

/** What a record delta's announcement says of its node (read from its header). */
export interface DeltaNode {
  readonly nodeIp: string;
  /** the node's key, derived from the announcement's header: for a reset only (it makes the
   *  record; any other delta goes to the record the node has) */
  readonly nodeKey: Uint8Array | undefined;
  readonly timestamp: number;
  readonly isReset: boolean;
}

import type { AnnouncementSource } from '../graph/announcement-source.ts';
import type { ApplyRules } from './routing-engine.ts';
import { ROUTING_DEFAULTS, type RoutingSettings } from './routing-settings.ts';

export type SubnodeCommand =
  | {
      readonly type: 'ApplyAnnouncement';
      readonly ann: Announcement;
      readonly rules: ApplyRules;
      readonly source: AnnouncementSource;
      readonly replyTo: ReplyTo<SubnodeReply>;
    }
  | {
      readonly type: 'ApplyDelta';
      readonly delta: ClusterDelta;
      readonly bytes: Uint8Array;
      readonly node: DeltaNode;
      readonly replyTo: ReplyTo<AnnounceOutcome | undefined>;
    }
  | { readonly type: 'Expire'; readonly cutoffMs: number }
  /** an apply outside the actor's turn broke an invariant: crash the actor (supervision) */
  | { readonly type: 'Crashed'; readonly error: unknown };

export type SubnodeReply =
  | { readonly ok: true; readonly outcome: AnnounceOutcome }
  | { readonly ok: false; readonly error: RsError };

/**
 * The node's record lives in the table (the actor only orders the node's messages): the state
 * names the node, and its presence in the entry says the actor finished its start (or restart)
 * and may be applied on directly.
 */
interface SubnodeState {
  readonly ip: string;
}

/** What the subnode actors need from the rest of the server. */
export interface SubnodeEffects {
  now(): number;
  /** our own cjdns node's IPv6 (JS `selfNode.ipv6`), once known; read at apply time */
  selfIp(): string | undefined;
  /** an announcement was handled (accepted or not), inside the node's actor, in its order */
  handled(outcome: AnnounceOutcome, source: AnnouncementSource): void;
  /** the node was forgotten by expiry; `deleted` = its hashes to drop from the store */
  expired(ip: string, deleted: Uint8Array[]): void;
  /** the node's record was rebuilt after a crash (undefined: nothing could be rebuilt) */
  rebuilt(ip: string, record: NodeRecordView | undefined): void;
  crashed?(ip: string, error: unknown, decision: string): void;
}

export interface SubnodeDirectoryOptions {
  /** queued + running messages per node actor before `apply` refuses */
  readonly mailboxLimit: number;
  /** stop an actor idle this long (its record stays in the directory); 0 = never */
  readonly idleMs: number;
  /** how long `apply` waits for the node's actor */
  readonly askTimeoutMs: number;
  /** restarts allowed per node within `restartWithinMs` before the actor is stopped */
  readonly maxRestarts: number;
  readonly restartWithinMs: number;
}

/** The subnode actors' options for the configuration's `routing` section. */
export function subnodeOptionsOf(s: RoutingSettings): SubnodeDirectoryOptions {
  return {
    mailboxLimit: s.subnodeMailbox,
    idleMs: s.subnodeIdleMs,
    askTimeoutMs: 10_000,
    maxRestarts: 3,
    restartWithinMs: 60_000,
  };
}

export const DEFAULT_SUBNODE_OPTIONS: SubnodeDirectoryOptions = subnodeOptionsOf(ROUTING_DEFAULTS);

interface Entry {
  ref: ActorRef<SubnodeCommand> | undefined;
  /** the live actor's state (the same object its turns mutate) */
  state: SubnodeState | undefined;
  lastActiveMs: number;
}

export interface SubnodeStats {
  spawned: number;
  passivated: number;
  crashes: number;
  rebuilt: number;
  /** `apply` refused because the node's mailbox was full */
  rejected: number;
  /** announcements applied in the caller's turn (the node's actor had nothing queued) */
  direct: number;
}

/** nact names allow no ':' — a node's actor is named by its address without them. */
function actorName(ip: string): string {
  return 'sn-' + ip.replaceAll(':', '');
}

function ipOfActor(name: string): string {
  return name.slice(3).replace(/(.{4})(?!$)/g, '$1:');
}

export class SubnodeDirectory {
  readonly stats: SubnodeStats = {
    spawned: 0,
    passivated: 0,
    crashes: 0,
    rebuilt: 0,
    rejected: 0,
    direct: 0,
  };
  private readonly entries = new Map<string, Entry>();
  private readonly family: ActorFamily<SubnodeCommand>;

  constructor(
    private readonly system: ActorSystem,
    /** nodesByIp: insertion order as the original; each record is changed by its node's actor */
    readonly table: CompactNodeTable,
    private readonly fx: SubnodeEffects,
    private readonly opts: SubnodeDirectoryOptions = DEFAULT_SUBNODE_OPTIONS,
  ) {
    this.family = system.family<SubnodeState, SubnodeCommand>({
      kind: 'subnode',
      initialState: (name, restart) => {
        const ip = ipOfActor(name);
        if (restart) this.rebuild(ip);
        const state: SubnodeState = { ip };
        const entry = this.entries.get(ip);
        if (entry) entry.state = state;
        return state;
      },
      handle: (state, msg, ctx) => this.handle(state, msg, ctx.reply),
      supervision: restartWithBudgetPerActor({
        maxRestarts: opts.maxRestarts,
        withinMs: opts.restartWithinMs,
      }),
      mailboxLimit: opts.mailboxLimit,
      onCrash: (name, error, decision) => {
        this.stats.crashes++;
        this.fx.crashed?.(ipOfActor(name), error, decision);
      },
    });
  }

  /** Live subnode actors (the others are at rest in the directory). */
  get activeActors(): number {
    return this.family.size;
  }

  /**
   * Hand a parsed announcement to its node's actor and wait for the outcome. Throws
   * RS_ERR_MAILBOX_FULL when the node's mailbox is full, RS_ERR_QUERY_TIMEOUT when its actor
   * does not answer in time, RS_ERR_INTERNAL when the actor crashed on it.
   */
  apply(
    ann: Announcement,
    rules: ApplyRules,
    source: AnnouncementSource,
  ): AnnounceOutcome | Promise<AnnounceOutcome> {
    const ip = ann.nodeIp;
    const entry = this.entries.get(ip);
    const live = entry?.ref !== undefined && this.system.isRunning(entry.ref);
    // nothing of this node queued: no actor, or an actor done starting with an empty mailbox
    if (!live || (entry!.state && this.system.mailboxStats(entry!.ref!).pending === 0)) {
      if (entry) entry.lastActiveMs = this.fx.now();
      try {
        const outcome = this.applyOne(ann, rules, source);
        this.stats.direct++;
        return outcome;
      } catch (e) {
        // as in the actor's turn: the caller gets the error, supervision restarts the actor
        this.system.tell(this.actorFor(ip), { type: 'Crashed', error: e });
        return Promise.reject(this.crashError(ann, e));
      }
    }
    return this.ask(this.actorFor(ip), ann, rules, source);
  }

  /**
   * Install another process's record delta (docs/cluster.md, "Deltas") in the node's order:
   * straight into the table unless the node's actor has messages queued (then through it). No
   * actor is spawned for a node only other processes hear from. Undefined when the delta does
   * not fit the record (the caller applies the announcement in full).
   */
  applyDelta(
    delta: ClusterDelta,
    bytes: Uint8Array,
    node: DeltaNode,
  ): AnnounceOutcome | undefined | Promise<AnnounceOutcome | undefined> {
    const ref = this.actorOf(node.nodeIp);
    if (ref && this.system.mailboxStats(ref).pending > 0)
      return this.system.ask<SubnodeCommand, AnnounceOutcome | undefined>(
        ref,
        (replyTo) => ({ type: 'ApplyDelta', delta, bytes, node, replyTo }),
        this.opts.askTimeoutMs,
      );
    return this.installDelta(delta, bytes, node);
  }

  private installDelta(
    delta: ClusterDelta,
    bytes: Uint8Array,
    node: DeltaNode,
  ): AnnounceOutcome | undefined {
    const outcome = this.table.applyDelta(delta, bytes, node);
    if (outcome) this.fx.handled(outcome, 'cluster');
    return outcome;
  }

  private async ask(
    ref: ActorRef<SubnodeCommand>,
    ann: Announcement,
    rules: ApplyRules,
    source: AnnouncementSource,
  ): Promise<AnnounceOutcome> {
    let reply: SubnodeReply;
    try {
      reply = await this.system.ask<SubnodeCommand, SubnodeReply>(
        ref,
        (replyTo) => ({ type: 'ApplyAnnouncement', ann, rules, source, replyTo }),
        this.opts.askTimeoutMs,
      );
    } catch (e) {
      if (isRsError(e) && e.code === 'RS_ERR_MAILBOX_FULL') this.stats.rejected++;
      throw e;
    }
    if (!reply.ok) throw reply.error;
    return reply.outcome;
  }

  /**
   * Forget every node silent for GLOBAL_TIMEOUT_MS (docs/protocol.md §4.7). A node with a live actor is
   * told to expire itself (in order with its announcements); a node at rest is expired here.
   * Returns the number of nodes found expired.
   */
  expire(now: number): number {
    const cutoffMs = now - GLOBAL_TIMEOUT_MS;
    let n = 0;
    for (const rec of [...this.table]) {
      if (!(rec.timestamp < cutoffMs)) continue;
      n++;
      const entry = this.entries.get(rec.ipv6);
      if (entry?.ref && this.system.isRunning(entry.ref))
        this.system.tell(entry.ref, { type: 'Expire', cutoffMs });
      else this.expireRecord(rec.ipv6, cutoffMs);
    }
    return n;
  }

  /**
   * Start-up restore of one node from the announcement store (docs/store.md): its stored
   * announcements, oldest first, applied to its record here under `rules`, without an actor, as
   * the crash rebuild replays them; each outcome goes through `handled` as if the node's actor
   * had applied it. The actor, when the node's first message comes, takes the record from the
   * directory as after passivation. Undefined when the node has a live actor or the
   * announcements are not all of one node (use `apply` then).
   */
  restore(
    anns: readonly Announcement[],
    rules: ApplyRules,
    source: AnnouncementSource,
  ): AnnounceOutcome[] | undefined {
    const ip = anns[0]?.nodeIp;
    if (ip === undefined) return [];
    if (this.actorOf(ip) || anns.some((a) => a.nodeIp !== ip)) return undefined;
    const outcomes: AnnounceOutcome[] = [];
    const opts = {
      fromNode: rules.fromNode,
      now: this.fx.now(),
      selfIp: rules.selfCheck ? this.fx.selfIp() : undefined,
    };
    for (const a of anns) {
      const outcome = this.table.apply({ ann: a }, opts);
      this.fx.handled(outcome, source);
      outcomes.push(outcome);
    }
    return outcomes;
  }

  /**
   * Stop actors idle for `idleMs` with nothing queued. Returns how many were stopped. Entries of
   * IPs that never got (or no longer have) a record are dropped once idle: every refused
   * announcement (unknown node, wrong snode, clock skew) creates one, and keys are free to make.
   */
  passivateIdle(now: number): number {
    if (this.opts.idleMs <= 0) return 0;
    let n = 0;
    for (const [ip, entry] of this.entries) {
      if (now - entry.lastActiveMs < this.opts.idleMs) continue;
      const ref = entry.ref;
      if (ref && this.system.isRunning(ref)) {
        if (this.system.mailboxStats(ref).pending > 0) continue;
        this.system.stop(ref);
        n++;
      }
      entry.ref = undefined;
      if (!this.table.get(ip)) this.entries.delete(ip);
    }
    this.stats.passivated += n;
    return n;
  }

  /** The live actor of a node (tests and metrics), if any. */
  actorOf(ip: string): ActorRef<SubnodeCommand> | undefined {
    const ref = this.entries.get(ip)?.ref;
    return ref && this.system.isRunning(ref) ? ref : undefined;
  }

  private actorFor(ip: string): ActorRef<SubnodeCommand> {
    let entry = this.entries.get(ip);
    if (!entry) {
      entry = { ref: undefined, state: undefined, lastActiveMs: 0 };
      this.entries.set(ip, entry);
    }
    entry.lastActiveMs = this.fx.now();
    if (!entry.ref || !this.system.isRunning(entry.ref)) {
      entry.state = undefined;
      entry.ref = this.family.spawn(actorName(ip));
      this.stats.spawned++;
    }
    return entry.ref;
  }

  private handle(
    state: SubnodeState,
    msg: SubnodeCommand,
    reply: <R>(to: ReplyTo<R>, v: R) => void,
  ): SubnodeState {
    switch (msg.type) {
      case 'ApplyAnnouncement': {
        let outcome: AnnounceOutcome;
        try {
          outcome = this.applyOne(msg.ann, msg.rules, msg.source);
        } catch (e) {
          // a broken invariant: answer the caller, then let supervision restart the actor
          reply<SubnodeReply>(msg.replyTo, { ok: false, error: this.crashError(msg.ann, e) });
          throw e;
        }
        reply<SubnodeReply>(msg.replyTo, { ok: true, outcome });
        return state;
      }
      case 'ApplyDelta':
        reply<AnnounceOutcome | undefined>(
          msg.replyTo,
          this.installDelta(msg.delta, msg.bytes, msg.node),
        );
        return state;
      case 'Crashed':
        throw msg.error;
      case 'Expire':
        this.expireRecord(state.ip, msg.cutoffMs);
        return state;
    }
  }

  /** One announcement on the node's record: the state machine (in the table), the recorder. */
  private applyOne(
    ann: Announcement,
    rules: ApplyRules,
    source: AnnouncementSource,
  ): AnnounceOutcome {
    const outcome = this.table.apply(
      { ann },
      {
        fromNode: rules.fromNode,
        now: this.fx.now(),
        selfIp: rules.selfCheck ? this.fx.selfIp() : undefined,
      },
    );
    this.fx.handled(outcome, source);
    return outcome;
  }

  private crashError(ann: Announcement, cause: unknown): RsError {
    return new RsError('RS_ERR_INTERNAL', `subnode ${ann.nodeIp} crashed`, { cause });
  }

  private expireRecord(ip: string, cutoffMs: number): void {
    const rec = this.table.get(ip);
    if (!rec) return;
    const deleted: Uint8Array[] = [];
    if (!this.table.expireNode(rec, cutoffMs, deleted)) return;
    const entry = this.entries.get(ip);
    if (entry && (!entry.ref || !this.system.isRunning(entry.ref))) this.entries.delete(ip);
    this.fx.expired(ip, deleted);
  }

  /**
   * Crash recovery: a fresh record from the node's reset and kept announcements as its last
   * successful message left them (the table installs a new kept list only once every entity of
   * the announcement is applied). They were verified when accepted, so they are replayed as
   * replication would (no clock or snode checks): the reset first, then the kept ones oldest
   * first.
   */
  private rebuild(ip: string): void {
    const record = this.table.rebuild(ip);
    this.stats.rebuilt++;
    this.fx.rebuilt(ip, record);
  }
}
