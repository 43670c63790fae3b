/**
 * Supervisor of the fast routing path (RouteServer `routing.mode: 'fast'`). It starts, in
 * order, and stops in reverse:
 *
 *   verification pool (worker threads; a dead worker is replaced, its batch fails)
 *   tree replicas ×2  (one_for_one, restart ≤ 5 per 60 s, restarted empty and reloaded with
 *                      every node's current state; the active snapshot keeps answering)
 *   subnode actors    (one per node, created on demand, passivated when idle; one_for_one,
 *                      restart ≤ maxRestarts per node per window — budgets are per node — and
 *                      a restarted actor replays its node's kept announcements from the
 *                      replication store; past the budget it stops and the next message
 *                      starts a fresh one from the record at rest)
 *
 * Every crash policy is explicit (nact's default would stop the actor silently). The flow of
 * an announcement (the fast engine's part of the ingest funnel, server/ingest.ts): bytes → pool
 * (parse + verify, ordered per signing key) → the node's subnode actor (state machine, in
 * order) → the funnel's recorder (store, metrics, listeners) and a node update → the standby
 * tree replica → a snapshot at the next swap → queries.
 */
import { availableParallelism } from 'node:os';
import { ActorSystem } from '../actors/actor-system.ts';
import type { AnnouncementSource } from '../graph/announcement-source.ts';
import {
  parseAnnounceInput,
  type AnnounceInput,
  type AnnounceOutcome,
} from '../graph/apply-announcement.ts';
import { AnnArena } from '../graph/ann-arena.ts';
import { CompactNodeTable } from '../graph/compact-table.ts';
import { CompactNodeRecord } from '../graph/compact-record.ts';
import type { NodeRecordView } from '../graph/node-record.ts';
import type { LinkUpdates } from '../graph/record-delta.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import {
  ANNOUNCEMENT_HEADER_SIZE,
  checkAnnouncementHeader,
  isResetAt,
  parseAnnouncement,
  timestampMsAt,
} from '../protocol/announcement.ts';
import type { ClusterDelta } from '../protocol/cluster-delta.ts';

import { isRsError, RsError } from '../errors.ts';
import { bytesToHex } from '../protocol/hex.ts';
import { newGraphTables, type GraphTables } from '../graph/id-tables.ts';
import type { GrRoute, RouteJson } from './route-answer.ts';
import type { ApplyRules, EngineDeps, RoutingEngine } from './routing-engine.ts';
import { ROUTING_DEFAULTS, type RoutingSettings } from './routing-settings.ts';
import {
  SubnodeDirectory,
  subnodeOptionsOf,
  type SubnodeDirectoryOptions,
} from './subnode-actors.ts';
import { TreeReplicas, treeOptionsOf, type TreeReplicasOptions } from './tree-replicas.ts';
import { VerifyPool, verifyPoolOptionsOf, type VerifyPoolOptions } from './verify-pool.ts';
import { SliceScheduler } from '../lib/slice-scheduler.ts';

/** where the timestamp/flags word sits in an announcement's header (docs/protocol.md §1) */
const TIMESTAMP_OFFSET = 112;

export interface FastRoutingOptions {
  readonly tree: TreeReplicasOptions;
  readonly subnodes: SubnodeDirectoryOptions;
  /** undefined: parse and verify on the main thread (tests, tiny deployments) */
  readonly verifyPool: VerifyPoolOptions | undefined;
  /** how often idle subnode actors are passivated */
  readonly passivateEveryMs: number;
  /** verified announcements are applied in slices of this many ms per turn; 0 = at once */
  readonly ingestSliceMs?: number;
}

/** The fast engine's options for the configuration's `routing` section (the schema holds the defaults). */
export function fastRoutingOptions(
  s: RoutingSettings = ROUTING_DEFAULTS,
  cores = availableParallelism(),
): FastRoutingOptions {
  return {
    tree: treeOptionsOf(s),
    subnodes: subnodeOptionsOf(s),
    verifyPool: verifyPoolOptionsOf(s, cores),
    passivateEveryMs: 30_000,
    ingestSliceMs: s.ingestSliceMs,
  };
}

/** The defaults, some of them replaced (tests, benchmarks). */
export function defaultFastRoutingOptions(
  overrides: Partial<FastRoutingOptions> = {},
): FastRoutingOptions {
  return { ...fastRoutingOptions(), ...overrides };
}

export interface RoutingSupervisorDeps extends EngineDeps {
  /** share an actor system (default: the supervisor creates and shuts down its own) */
  readonly system?: ActorSystem;
  /**
   * the arena holding the announcements the records keep: the replication store's, so that a
   * kept announcement's bytes are held once (default: an arena of its own)
   */
  readonly anns?: AnnArena;
}

export class RoutingSupervisor implements RoutingEngine {
  readonly system: ActorSystem;
  readonly tables: GraphTables = newGraphTables();
  readonly pool: VerifyPool | undefined;
  /** verified announcements reach the subnode actors through this (fair to queries) */
  readonly ingestSlices: SliceScheduler | undefined;
  readonly trees: TreeReplicas;
  readonly directory: SubnodeDirectory;
  private readonly ownsSystem: boolean;
  /** signing key (hex) → its announcements in the verification pool */
  private readonly verifying = new Map<string, number>();
  private passivateTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: RoutingSupervisorDeps,
    readonly opts: FastRoutingOptions = defaultFastRoutingOptions(),
  ) {
    const { now, log, recorder } = deps;
    this.ownsSystem = !deps.system;
    this.system = deps.system ?? new ActorSystem(undefined, now);
    const slice = opts.ingestSliceMs ?? ROUTING_DEFAULTS.ingestSliceMs;
    this.ingestSlices =
      slice > 0
        ? new SliceScheduler(slice, (e) =>
            log.error({ event: 'snode:ingest:task-failed', err: e }, 'an ingest task threw'),
          )
        : undefined;
    this.pool = opts.verifyPool
      ? new VerifyPool(
          opts.verifyPool,
          this.ingestSlices,
          (bytes) => this.verified(bytes),
          (event, fields, message) => log.warn({ event, ...fields }, message),
        )
      : undefined;
    // a restarted replica reloads from the directory's records (created just below)
    const trees = new TreeReplicas(
      {
        system: this.system,
        tables: this.tables,
        dumpAll: () => this.directory.table,
        now,
        log: (event, fields) => log.warn({ event, ...fields }, event),
      },
      opts.tree,
    );
    this.trees = trees;
    // what the subnode actors do after each message, in the node's order: the funnel's record
    // (store, metrics, listeners) and the node's update for the tree replicas
    this.directory = new SubnodeDirectory(
      this.system,
      new CompactNodeTable(this.tables, deps.anns ?? new AnnArena()),
      {
        now,
        selfIp: deps.selfIp,
        handled: (outcome, source) => {
          recorder.applied(outcome, source);
          if (outcome.accepted && outcome.node) trees.nodeChanged(outcome.node);
        },
        expired: (ip, deleted) => {
          recorder.expired(deleted);
          trees.nodeRemoved(ip);
        },
        rebuilt: (ip, record) => {
          log.warn(
            {
              event: 'snode:subnode:rebuilt',
              node: ip,
              announcements: record?.announcements.length ?? 0,
            },
            'subnode actor restarted; record rebuilt from its kept announcements',
          );
          if (record) trees.nodeChanged(record);
          else trees.nodeRemoved(ip);
        },
        crashed: (ip, err, decision) =>
          log.error(
            { event: 'snode:subnode:crashed', node: ip, err, decision },
            'subnode actor crashed',
          ),
      },
      opts.subnodes,
    );
    this.start();
  }

  get nodes(): CompactNodeTable {
    return this.directory.table;
  }

  /**
   * In the verification pool (ordered per signing key) when verifying, else on this thread. A
   * node's announcements waiting for verification count against its mailbox bound (a node whose
   * actor is idle gets each one applied as soon as it is verified, so this is where a flooding
   * node's backlog builds up): beyond `subnodes.mailboxLimit`, RS_ERR_MAILBOX_FULL.
   */
  parse<R>(
    bytes: Uint8Array,
    verify: boolean,
    then: (input: AnnounceInput) => R | PromiseLike<R>,
  ): AnnounceInput | Promise<R> {
    if (!verify || !this.pool) return parseAnnounceInput(bytes, verify);
    if (bytes.length < 96) return this.pool.parse(bytes, then); // a runt: its parse error, at once
    const key = bytesToHex(bytes.subarray(64, 96));
    const n = this.verifying.get(key) ?? 0;
    if (n >= this.opts.subnodes.mailboxLimit) {
      this.directory.stats.rejected++;
      return Promise.reject(
        new RsError(
          'RS_ERR_MAILBOX_FULL',
          `${n} announcements of this node are waiting (limit ${this.opts.subnodes.mailboxLimit})`,
        ),
      );
    }
    this.verifying.set(key, n + 1);
    return this.pool.parse(bytes, then); // counted down in `verified`
  }

  /**
   * The pool settled a parse (told before its continuations run): the signing key has one
   * announcement fewer waiting. Nothing per announcement is kept for this while it waits (the
   * key's hex is made again here), since what waits survives scavenges (issue 17).
   */
  private verified(bytes: Uint8Array): void {
    if (bytes.length < 96) return; // runts are not counted
    const key = bytesToHex(bytes.subarray(64, 96));
    const left = (this.verifying.get(key) ?? 1) - 1;
    if (left <= 0) this.verifying.delete(key);
    else this.verifying.set(key, left);
  }

  /** In the node's subnode actor (at once when it has nothing queued). */
  apply(
    ann: Announcement,
    rules: ApplyRules,
    source: AnnouncementSource,
  ): AnnounceOutcome | Promise<AnnounceOutcome> {
    return this.directory.apply(ann, rules, source);
  }

  linkUpdatesOf(record: NodeRecordView): LinkUpdates | undefined {
    return record instanceof CompactNodeRecord
      ? this.directory.table.linkUpdatesOf(record)
      : undefined;
  }

  /**
   * In the node's order (subnode-actors.ts `applyDelta`). The node is the envelope's (`nodeIp`,
   * authenticated with the cluster key): its key is derived from the bytes' header only for a
   * reset, which makes the record; otherwise the table checks that the bytes carry the signing
   * key of the node's record. Undefined (the caller applies the announcement in full) when the
   * header disagrees.
   */
  applyDelta(
    bytes: Uint8Array,
    delta: ClusterDelta,
    nodeIp: string,
  ): AnnounceOutcome | undefined | Promise<AnnounceOutcome | undefined> {
    if (bytes.length < ANNOUNCEMENT_HEADER_SIZE) return undefined;
    const isReset = isResetAt(bytes, TIMESTAMP_OFFSET);
    let nodeKey: Uint8Array | undefined;
    if (isReset) {
      try {
        const id = checkAnnouncementHeader(bytes, false);
        if (id.nodeIp !== nodeIp) return undefined;
        nodeKey = id.nodeKey;
      } catch (e) {
        if (isRsError(e)) return undefined; // the full apply reports it
        throw e;
      }
    }
    return this.directory.applyDelta(delta, bytes, {
      nodeIp,
      nodeKey,
      timestamp: timestampMsAt(bytes, TIMESTAMP_OFFSET),
      isReset,
    });
  }

  /**
   * On this thread, straight into the node's record (no actor message per announcement);
   * link states stay packed, as the verification pool parses them.
   */
  restore(
    bytes: readonly Uint8Array[],
    rules: ApplyRules,
    source: AnnouncementSource,
  ): string[] | undefined {
    const errors: string[] = [];
    const anns: Announcement[] = [];
    for (const b of bytes) {
      try {
        anns.push(parseAnnouncement(b, { verifySignature: false, packedLinkStates: true }));
      } catch (e) {
        if (!isRsError(e)) throw e;
        errors.push('failed_parse_or_validate');
      }
    }
    const outcomes = this.directory.restore(anns, rules, source);
    if (!outcomes) return undefined;
    for (const o of outcomes) errors.push(o.error);
    return errors;
  }

  /** From the active snapshot: never waits for an update, a rebuild or a swap. */
  route(srcIp: string, dstIp: string): RouteJson | null {
    return this.trees.active.route(srcIp, dstIp);
  }

  routeForGr(srcIp: string, dstIp: string): GrRoute | null {
    return this.trees.active.routeForGr(srcIp, dstIp);
  }

  /** Each expired node's actor expires it in order with its announcements; returns how many nodes. */
  expire(now: number): number {
    return this.directory.expire(now);
  }

  /** Resolves when the active snapshot reflects every update so far and both replicas hold them. */
  sync(): Promise<void> {
    return this.trees.sync();
  }

  private start(): void {
    this.trees.start();
    if (this.opts.subnodes.idleMs > 0 && !this.passivateTimer) {
      this.passivateTimer = setInterval(
        () => this.directory.passivateIdle(this.deps.now()),
        this.opts.passivateEveryMs,
      );
      this.passivateTimer.unref();
    }
  }

  /**
   * An initial sync is pulling (the server is not ready, no queries yet): verify with
   * `syncWorkers` at the main thread's priority; once it settled, with `workers` at the pool's
   * nice value and under SCHED_IDLE if so configured (the main thread keeps a core for queries,
   * and comes first on a busy machine).
   */
  setInitialSync(pulling: boolean): void {
    const o = this.opts.verifyPool;
    if (!o || !this.pool) return;
    this.pool.resize(pulling ? Math.max(o.workers, o.syncWorkers ?? o.workers) : o.workers);
    // no query waits for the main thread while it syncs: the workers keep its priority until then
    this.pool.priority = pulling
      ? { nice: 0, idle: false }
      : { nice: o.nice ?? 0, idle: o.schedIdle ?? false };
  }

  async close(): Promise<void> {
    if (this.passivateTimer) clearInterval(this.passivateTimer);
    await this.trees.close();
    await this.pool?.close();
    if (this.ownsSystem) this.system.shutdown();
  }
}
