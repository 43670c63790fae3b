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
 * an announcement: bytes → pool (parse + verify, ordered per signing key) → the node's subnode
 * actor (state machine, in order) → effects (store, listeners) and a node update → the standby
 * tree replica → a snapshot at the next swap → queries.
 */
import { cpus } from 'node:os';
import { ActorSystem } from '../actors/actor-system.ts';
import {
  DEFAULT_SUBNODE_OPTIONS,
  SubnodeDirectory,
  type SubnodeDirectoryOptions,
  type SubnodeEffects,
} from './subnode-actors.ts';
import { DEFAULT_TREE_OPTIONS, TreeReplicas, type TreeReplicasOptions } from './tree-replicas.ts';
import { newGraphTables, type GraphTables } from './id-tables.ts';
import {
  defaultVerifyWorkers,
  VerifyPool,
  type VerifyPoolOptions,
} from './verify-pool.ts';

export interface FastRoutingOptions {
  readonly tree: TreeReplicasOptions;
  readonly subnodes: SubnodeDirectoryOptions;
  /** undefined: parse and verify on the main thread (tests, tiny deployments) */
  readonly verifyPool: VerifyPoolOptions | undefined;
  /** how often idle subnode actors are passivated */
  readonly passivateEveryMs: number;
}

export function defaultFastRoutingOptions(
  overrides: Partial<FastRoutingOptions> = {},
): FastRoutingOptions {
  return {
    tree: DEFAULT_TREE_OPTIONS,
    subnodes: DEFAULT_SUBNODE_OPTIONS,
    verifyPool: {
      workers: defaultVerifyWorkers(cpus().length),
      batchSize: 64,
      maxInFlight: 4,
      maxQueued: 10_000,
      verifySignature: true,
    },
    passivateEveryMs: 30_000,
    ...overrides,
  };
}

export interface RoutingSupervisorDeps {
  /** the subnode actors' effects, except the tree updates the supervisor adds itself */
  readonly effects: SubnodeEffects;
  readonly now: () => number;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
  /** share an actor system (default: the supervisor creates and shuts down its own) */
  readonly system?: ActorSystem;
}

export class RoutingSupervisor {
  readonly system: ActorSystem;
  readonly tables: GraphTables = newGraphTables();
  readonly pool: VerifyPool | undefined;
  readonly trees: TreeReplicas;
  readonly directory: SubnodeDirectory;
  private readonly ownsSystem: boolean;
  private passivateTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    deps: RoutingSupervisorDeps,
    readonly opts: FastRoutingOptions = defaultFastRoutingOptions(),
  ) {
    this.now = deps.now;
    this.ownsSystem = !deps.system;
    this.system = deps.system ?? new ActorSystem(undefined, deps.now);
    this.pool = opts.verifyPool ? new VerifyPool(opts.verifyPool) : undefined;
    const fx = deps.effects;
    // a restarted replica reloads from the directory's records (created just below)
    this.trees = new TreeReplicas(
      {
        system: this.system,
        tables: this.tables,
        dumpAll: () => this.directory.table,
        now: deps.now,
        log: deps.log,
      },
      opts.tree,
    );
    const trees = this.trees;
    this.directory = new SubnodeDirectory(
      this.system,
      {
        ...fx,
        handled: (outcome, source) => {
          fx.handled(outcome, source);
          if (outcome.accepted && outcome.node) trees.nodeChanged(outcome.node);
        },
        expired: (ip, deleted) => {
          fx.expired(ip, deleted);
          trees.nodeRemoved(ip);
        },
        rebuilt: (ip, record) => {
          fx.rebuilt(ip, record);
          if (record) trees.nodeChanged(record);
          else trees.nodeRemoved(ip);
        },
      },
      opts.subnodes,
    );
  }

  start(): void {
    this.trees.start();
    if (this.opts.subnodes.idleMs > 0 && !this.passivateTimer) {
      this.passivateTimer = setInterval(
        () => this.directory.passivateIdle(this.now()),
        this.opts.passivateEveryMs,
      );
      this.passivateTimer.unref();
    }
  }

  async close(): Promise<void> {
    if (this.passivateTimer) clearInterval(this.passivateTimer);
    await this.trees.close();
    await this.pool?.close();
    if (this.ownsSystem) this.system.shutdown();
  }
}
