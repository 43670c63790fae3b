/**
 * Double-buffered route trees: two tree-replica actors, one active (its last snapshot answers
 * every query), one standby (it receives the node updates). Every `swapIntervalMs`, or as soon
 * as `maxUpdatesPerSwap` updates are waiting, the standby builds a snapshot — incrementally, or
 * a full rebuild where it must, off the main thread with the worker backend — which becomes
 * the active snapshot; the roles swap, and the updates the new standby missed are replayed
 * into it. A query reads `active` synchronously: it never waits for an update, a rebuild or a
 * swap.
 *
 * Bookkeeping (updates are whole-node states, so only the newest per node matters and logs
 * keyed by node id coalesce them exactly; update-log.ts holds them packed, not as objects):
 *  - `pending`: updates the standby lacks and has not been sent yet (flushed within 5 ms);
 *  - `missed`: updates the active replica's graph lacks.
 * A new update goes into both. On a swap the standby S becomes active and lacks exactly
 * `pending`; the old active A becomes standby and lacks exactly `missed`: so
 * `missed ← pending`, `pending ← missed`, and the flush replays them into A.
 *
 * A replica that crashes is restarted empty by its supervisor and reloaded with the current
 * state of every node (`dumpAll`); the active snapshot stays valid throughout.
 *
 * The replicas are actors (tree-replica.ts); this coordinator is not, deliberately: the subnode
 * actors call it synchronously with every node update and every query reads `active`
 * synchronously — a mailbox hop per update would cost more than the update — and its one
 * concurrent operation, the swap, is serialised by its own promise (`swapping`).
 */
import type { ActorSystem } from '../actors/actor-system.ts';
import {
  InThreadReplica,
  WorkerReplica,
  type ReplicaBackend,
  type ReplicaBackendKind,
  type ReplicaInstrumentation,
} from './replica-backend.ts';
import { restartWithBudget } from '../actors/supervision.ts';
import { REPLICA_NAMES, TreeReplica, type TreeReplicaBuilt } from './tree-replica.ts';
import { isRsError } from '../errors.ts';
import type { GraphTables } from '../graph/id-tables.ts';
import type { NodeRecordView } from '../graph/node-record.ts';
import { nodeRemovedUpdate, nodeUpdateOf, type NodeUpdate } from './node-update.ts';
import { UpdateLog } from './update-log.ts';
import { BestRouting } from './best-routing.ts';
import { PairSearch } from './pair-search.ts';
import type { RoutePolicy } from './route-policy.ts';
import { RouteSnapshot, type RouteSnapshotOptions } from './route-snapshot.ts';
import { ROUTING_DEFAULTS, type RoutingSettings } from './routing-settings.ts';
import { SptSolver } from './shortest-path-tree.ts';
import { emptySnapshot, type SnapshotData } from './snapshot-data.ts';

export interface TreeReplicasOptions {
  /** build and swap at least this often while updates wait (ms) */
  readonly swapIntervalMs: number;
  /** swap as soon as this many node updates wait */
  readonly maxUpdatesPerSwap: number;
  /** destination trees cached per active snapshot */
  readonly treeCacheSize: number;
  /** queries for one destination not answered by a cached tree, after which its whole tree is grown (0: never) */
  readonly hotDestinationQueries?: number;
  /** where the replicas keep their graph: a worker thread each, or this thread */
  readonly backend: ReplicaBackendKind;
  /** bound of each replica's mailbox (update batches, build requests) */
  readonly mailboxLimit: number;
  /** nice value of each replica's worker thread (`worker` backend; Linux; 0 = unchanged) */
  readonly nice?: number;
  /** how long a swap waits for the standby's snapshot */
  readonly buildTimeoutMs: number;
  /** which routes the snapshots answer (route-policy.ts; default `original`) */
  readonly policy?: RoutePolicy;
  readonly instrumentation?: ReplicaInstrumentation;
}

/** The route-lookup counters of a snapshot, carried into the totals when it is replaced. */
const ROUTE_STAT_KEYS = [
  'treeHits',
  'treeMisses',
  'pairSearches',
  'treesGrown',
  'fittingSearches',
  'fittingOverBudget',
] as const;

/** How long an update waits for others before the pending ones are sent to the standby. */
const FLUSH_DELAY_MS = 5;
/** Pending updates sent at once, without waiting. */
const FLUSH_BATCH = 1024;

/** Nodes settled per slice of a hot destination's tree search (well under a millisecond at 50k nodes). */
const TREE_GROWTH_SLICE_POPS = 2000;

/** How long a swap waits for the standby's snapshot. */
const BUILD_TIMEOUT_MS = 30_000;

/** The tree replicas' options for the configuration's `routing` section. */
export function treeOptionsOf(s: RoutingSettings): TreeReplicasOptions {
  return {
    swapIntervalMs: s.swapIntervalMs,
    maxUpdatesPerSwap: s.maxUpdatesPerSwap,
    treeCacheSize: s.treeCacheSize,
    hotDestinationQueries: s.hotDestinationQueries,
    backend: s.replicaBackend,
    mailboxLimit: s.replicaMailbox,
    nice: s.replicaNice,
    buildTimeoutMs: BUILD_TIMEOUT_MS,
    policy: s.policy,
  };
}

export const DEFAULT_TREE_OPTIONS: TreeReplicasOptions = treeOptionsOf(ROUTING_DEFAULTS);

export interface TreeReplicasStats {
  swaps: number;
  /** updates replayed into a replica that missed them (after swaps) */
  updatesReplayed: number;
  /** snapshots built by recomputing every row */
  fullRebuilds: number;
  replicaRestarts: number;
  /** update batches the standby's mailbox refused (resent later) */
  deferredFlushes: number;
  lastBuildMs: number;
  /** of which the building thread ran on a core (where the platform tells; see SnapshotStats) */
  lastBuildCpuMs: number | undefined;
  treeHits: number;
  treeMisses: number;
  pairSearches: number;
  treesGrown: number;
  fittingSearches: number;
  fittingOverBudget: number;
}

export interface TreeReplicasDeps {
  readonly system: ActorSystem;
  readonly tables: GraphTables;
  /** current state of every node (to reload a replica that restarted) */
  readonly dumpAll: () => Iterable<NodeRecordView>;
  readonly now: () => number;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

export class TreeReplicas {
  readonly stats: TreeReplicasStats = {
    swaps: 0,
    updatesReplayed: 0,
    fullRebuilds: 0,
    replicaRestarts: 0,
    deferredFlushes: 0,
    lastBuildMs: 0,
    lastBuildCpuMs: undefined,
    treeHits: 0,
    treeMisses: 0,
    pairSearches: 0,
    treesGrown: 0,
    fittingSearches: 0,
    fittingOverBudget: 0,
  };
  private current: RouteSnapshot;
  private readonly solver = new SptSolver();
  private readonly pairSearch = new PairSearch();
  /** `best` policy: node order, hop bits and the fitting search, shared by every snapshot */
  private readonly best: BestRouting | undefined;
  private readonly replicas: readonly [TreeReplica, TreeReplica];
  private activeIdx: 0 | 1 = 0;
  private pending = new UpdateLog();
  private missed = new UpdateLog();
  private seq = 0;
  private swapping: Promise<boolean> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private standbyStoppedLogged = false;
  private swapTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** holds in force (`hold`): updates wait here, coalesced per node, and no swap starts */
  private holds = 0;
  /** instrumentation: called with every snapshot that becomes active */
  onActivate: ((s: RouteSnapshot) => void) | undefined;

  constructor(
    private readonly deps: TreeReplicasDeps,
    private readonly opts: TreeReplicasOptions = DEFAULT_TREE_OPTIONS,
  ) {
    this.best = opts.policy === 'best' ? new BestRouting(deps.tables) : undefined;
    this.current = new RouteSnapshot(
      emptySnapshot(),
      deps.tables,
      this.solver,
      this.snapshotOptions(),
      deps.now(),
    );
    const replicaOptions = {
      makeBackend: (name: string) => this.makeBackend(name),
      // one budget for the pair; spent, the replica escalates to the root (stopped and reported)
      supervision: restartWithBudget({ maxRestarts: 5, withinMs: 60_000, onExhausted: 'escalate' }),
      mailboxLimit: opts.mailboxLimit,
      restarted: (name: string) => this.replicaRestarted(name),
      crashed: (name: string, error: unknown, decision: string) =>
        deps.log?.('tree:replica:crashed', { replica: name, err: error, decision }),
    };
    this.replicas = [
      new TreeReplica(deps.system, REPLICA_NAMES[0], replicaOptions),
      new TreeReplica(deps.system, REPLICA_NAMES[1], replicaOptions),
    ];
  }

  /** The snapshot every route query reads. */
  get active(): RouteSnapshot {
    return this.current;
  }

  /** Seq of the newest update (the active snapshot is fresh when `active.seq` reached it). */
  get latestSeq(): number {
    return this.seq;
  }

  /** Updates the active snapshot does not reflect yet (at most one per node). */
  get lagUpdates(): number {
    return this.missed.size;
  }

  /** Instrumentation: the backend of a replica ('tree-replica-a' / '-b'). */
  backendOf(name: string): ReplicaBackend | undefined {
    return this.replicas.find((r) => r.name === name)?.backend;
  }

  /** Name of the replica whose snapshot is active. */
  get activeReplica(): string {
    return this.replicas[this.activeIdx].name;
  }

  /** Start the swap timer. */
  start(): void {
    if (this.swapTimer || this.closed) return;
    this.swapTimer = setInterval(() => {
      if (this.missed.size > 0 && this.holds === 0) void this.swap();
    }, this.opts.swapIntervalMs);
    this.swapTimer.unref();
  }

  /** A node's record changed (accepted announcement, crash rebuild). Returns the update's seq. */
  nodeChanged(record: NodeRecordView): number {
    return this.push(nodeUpdateOf(record, this.deps.tables));
  }

  /** A node has no record anymore (expiry). */
  nodeRemoved(ip: string): number {
    const id = this.deps.tables.ids.find(ip);
    if (id === undefined) return this.seq;
    return this.push(nodeRemovedUpdate(id));
  }

  /**
   * Hold the updates back from the replicas for a bulk load (the announcement store's reload
   * at start): they coalesce per node in `pending`/`missed` — a node restored from several
   * announcements is sent once — and no swap starts, so the standby builds once when the hold
   * is released instead of every `maxUpdatesPerSwap` updates (at 50k nodes the intermediate
   * builds cost the replica threads about as much CPU as the reload itself). Queries keep
   * reading the active snapshot meanwhile. Returns the release (idempotent): the updates are
   * flushed and a swap starts once no hold is left.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds > 0 || this.closed) return;
      this.flush();
      if (this.missed.size > 0 && !this.swapping) void this.swap();
    };
  }

  private push(u: NodeUpdate): number {
    u.seq = ++this.seq;
    this.pending.set(u);
    this.missed.set(u);
    if (this.holds > 0) return u.seq;
    this.scheduleFlush();
    if (this.missed.size >= this.opts.maxUpdatesPerSwap && !this.swapping) void this.swap();
    return u.seq;
  }

  /**
   * Flush a few milliseconds after the first pending update, so the updates of many
   * announcements (each applied in its own actor turn) travel in one message instead of one
   * message each; at FLUSH_BATCH pending updates, at once.
   */
  private scheduleFlush(): void {
    if (this.closed) return;
    if (this.pending.size >= FLUSH_BATCH) {
      this.flush();
      return;
    }
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, FLUSH_DELAY_MS);
    this.flushTimer.unref();
  }

  /**
   * Send the pending updates to the standby (one message). False if its mailbox refused.
   * While a swap builds the standby's snapshot, updates stay pending: sent now they would reach
   * the standby after its build and vanish from `missed`, so the new active snapshot would lack
   * them with nothing left to trigger the next swap. The swap itself flushes (`fromSwap`).
   */
  private flush(fromSwap = false): boolean {
    if (this.pending.size === 0 || this.closed) return true;
    if (this.swapping && !fromSwap) return true;
    const standby = this.replicas[1 - this.activeIdx]!;
    if (!standby.running) {
      // stopped for good (restart budget spent): retrying every 10 ms would spin forever
      if (!this.standbyStoppedLogged)
        this.deps.log?.('tree:replica:stopped', { replica: standby.name });
      this.standbyStoppedLogged = true;
      return false;
    }
    const updates = this.pending.packed();
    if (!standby.apply(updates)) {
      this.stats.deferredFlushes++;
      if (!this.flushTimer) {
        this.flushTimer = setTimeout(() => {
          this.flushTimer = undefined;
          this.flush();
        }, 10);
        this.flushTimer.unref();
      }
      return false;
    }
    this.pending = new UpdateLog();
    return true;
  }

  /**
   * Build a snapshot on the standby, make it active, swap the roles and replay what the new
   * standby missed. Resolves true when a swap happened. `force`: even without new updates.
   */
  swap(force = false): Promise<boolean> {
    if (this.swapping) return this.swapping;
    if (this.closed || (!force && this.missed.size === 0)) return Promise.resolve(false);
    const run = async (): Promise<boolean> => {
      if (!this.flush(true)) return false;
      const standbyIdx = (1 - this.activeIdx) as 0 | 1;
      let built: TreeReplicaBuilt;
      try {
        built = await this.replicas[standbyIdx].build(this.opts.buildTimeoutMs);
      } catch (e) {
        this.deps.log?.('tree:swap:failed', { err: isRsError(e) ? e.message : e });
        return false;
      }
      if (!built.ok || this.closed) return false;
      this.activate(built.snapshot);
      const replay = this.missed;
      this.missed = this.pending;
      this.pending = replay;
      this.activeIdx = standbyIdx;
      this.stats.swaps++;
      this.stats.updatesReplayed += replay.size;
      this.flush(true);
      return true;
    };
    this.swapping = run().finally(() => {
      this.swapping = undefined;
    });
    return this.swapping;
  }

  /**
   * Wait until the active snapshot reflects every update so far and both replicas hold them
   * all (two swaps). For tests, start-up and shutdown.
   */
  async sync(): Promise<void> {
    if (this.swapping) await this.swapping;
    await this.swap(true);
    await this.swap(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.swapTimer) clearInterval(this.swapTimer);
    // (a Timeout, never an Immediate: clearImmediate on a Timeout would mark it destroyed
    // and make the clearTimeout after it a no-op, leaving the timer armed)
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await Promise.all(this.replicas.map((r) => r.close()));
  }

  private activate(data: SnapshotData): void {
    const old = this.current;
    for (const k of ROUTE_STAT_KEYS) this.stats[k] += old.stats[k];
    this.stats.lastBuildMs = data.stats.buildMs;
    this.stats.lastBuildCpuMs = data.stats.cpuMs;
    if (data.stats.full) this.stats.fullRebuilds++;
    this.current = new RouteSnapshot(
      data,
      this.deps.tables,
      this.solver,
      this.snapshotOptions(),
      this.deps.now(),
    );
    this.onActivate?.(this.current);
  }

  /**
   * How route lookups were answered, including the active snapshot's: cached tree, tree search,
   * pair search; and how many hot destinations' trees were grown.
   */
  treeCacheTotals(): {
    hits: number;
    misses: number;
    pairs: number;
    grown: number;
    fitting: number;
    fittingOverBudget: number;
  } {
    return {
      hits: this.stats.treeHits + this.current.stats.treeHits,
      misses: this.stats.treeMisses + this.current.stats.treeMisses,
      pairs: this.stats.pairSearches + this.current.stats.pairSearches,
      grown: this.stats.treesGrown + this.current.stats.treesGrown,
      fitting: this.stats.fittingSearches + this.current.stats.fittingSearches,
      fittingOverBudget: this.stats.fittingOverBudget + this.current.stats.fittingOverBudget,
    };
  }

  private snapshotOptions(): RouteSnapshotOptions {
    return {
      treeCacheSize: this.opts.treeCacheSize,
      pairSearch: this.pairSearch,
      hotDestinationQueries: this.opts.hotDestinationQueries ?? 0,
      growthWanted: (snap) => this.growTrees(snap),
      best: this.best,
    };
  }

  /**
   * Grow the hot destinations' trees of `snap` a slice at a time, one slice per turn of the
   * event loop, while it is the active snapshot: queries and ingest run between the slices.
   */
  private growTrees(snap: RouteSnapshot): void {
    const step = (): void => {
      if (this.closed || snap !== this.current) return;
      if (snap.growTrees(TREE_GROWTH_SLICE_POPS)) setImmediate(step);
    };
    setImmediate(step);
  }

  private makeBackend(name: string): ReplicaBackend {
    const instr = this.opts.instrumentation;
    const withPolicy: ReplicaInstrumentation = {
      ...instr,
      model: { ...instr?.model, policy: this.opts.policy ?? 'original' },
    };
    return this.opts.backend === 'worker'
      ? new WorkerReplica(name, withPolicy, this.opts.nice ?? 0)
      : new InThreadReplica(withPolicy);
  }

  /** A replica restarted empty: reload it with every node's current state. */
  private replicaRestarted(name: string): void {
    if (this.closed) return;
    this.stats.replicaRestarts++;
    const idx = this.replicas[0].name === name ? 0 : 1;
    const updates: NodeUpdate[] = [];
    for (const rec of this.deps.dumpAll()) {
      const u = nodeUpdateOf(rec, this.deps.tables);
      u.seq = this.seq;
      updates.push(u);
    }
    if (!this.replicas[idx].reload(updates)) {
      // refused (mailbox full or stopped): keep what it lacks pending/missed, and say so
      this.deps.log?.('tree:replica:reload_refused', { replica: name, nodes: updates.length });
      return;
    }
    if (idx === this.activeIdx) this.missed = new UpdateLog();
    else this.pending = new UpdateLog();
    this.deps.log?.('tree:replica:reloaded', { replica: name, nodes: updates.length });
  }
}
