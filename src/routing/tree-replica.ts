/**
 * A tree replica actor: one of two, each owning one copy of the route graph (a ReplicaBackend:
 * in this thread or in a worker). The coordinator (tree-replicas.ts) sends node updates to the
 * standby, asks it for a snapshot, makes that snapshot the active one and replays into the
 * other replica what it missed. A replica never answers route queries itself: queries read the
 * active snapshot, which is immutable, so they never wait for a replica.
 *
 * Supervision: a replica whose backend fails (its worker died, a build threw) crashes; the
 * policy restarts it with a fresh, empty backend and tells the coordinator, which reloads it
 * with the newest update of every node. The active snapshot is unaffected.
 */
import type { ActorRef, ActorSystem, ReplyTo } from '../actors/actor-system.ts';
import type { ReplicaBackend } from './replica-backend.ts';
import type { SupervisionPolicy } from '../actors/supervision.ts';
import { RsError } from '../errors.ts';
import type { NodeUpdate, UpdateBatch } from './node-update.ts';
import type { SnapshotData } from './snapshot-data.ts';

export type TreeReplicaCommand =
  | { readonly type: 'ApplyUpdates'; readonly updates: UpdateBatch }
  | { readonly type: 'Reload'; readonly updates: readonly NodeUpdate[] }
  | { readonly type: 'BuildSnapshot'; readonly replyTo: ReplyTo<TreeReplicaBuilt> };

export type TreeReplicaBuilt =
  | { readonly ok: true; readonly snapshot: SnapshotData }
  | { readonly ok: false; readonly error: RsError };

/** What the actor owns: its backend (a restart closes the one it replaces and makes a new one). */
interface ReplicaState {
  backend: ReplicaBackend;
}

export interface TreeReplicaOptions {
  readonly makeBackend: (name: string) => ReplicaBackend;
  /** one policy object may be shared by both replicas (one restart budget for the pair) */
  readonly supervision: SupervisionPolicy;
  readonly mailboxLimit: number;
  /** the replica restarted after a crash (its graph is empty now) */
  readonly restarted: (name: string) => void;
  readonly crashed?: (name: string, error: unknown, decision: string) => void;
}

export const REPLICA_NAMES = ['tree-replica-a', 'tree-replica-b'] as const;

/** The facade of one tree replica actor: its methods are the only way in. */
export class TreeReplica {
  readonly ref: ActorRef<TreeReplicaCommand>;
  /** the live backend (instrumentation: tests hold or crash it, benchmarks force full builds) */
  private current: ReplicaBackend | undefined;

  constructor(
    private readonly system: ActorSystem,
    readonly name: string,
    opts: TreeReplicaOptions,
  ) {
    let started = false;
    this.ref = system.spawn<ReplicaState, TreeReplicaCommand>({
      name,
      initialState: () => {
        if (this.current) void this.current.close().catch(() => undefined);
        this.current = opts.makeBackend(name);
        if (started) queueMicrotask(() => opts.restarted(name));
        started = true;
        return { backend: this.current };
      },
      handle: (state, msg, ctx) => this.handle(state, msg, ctx.name, ctx.reply),
      supervision: opts.supervision,
      mailboxLimit: opts.mailboxLimit,
      onCrash: (error, decision) => opts.crashed?.(name, error, decision),
    });
  }

  get backend(): ReplicaBackend | undefined {
    return this.current;
  }

  /** False when the replica stopped for good (restart budget spent). */
  get running(): boolean {
    return this.system.isRunning(this.ref);
  }

  /** Queue updates; false when the mailbox is full or the replica stopped. */
  apply(updates: UpdateBatch): boolean {
    return this.system.tell(this.ref, { type: 'ApplyUpdates', updates });
  }

  /** Replace the whole graph (after a restart); false when refused. */
  reload(updates: readonly NodeUpdate[]): boolean {
    return this.system.tell(this.ref, { type: 'Reload', updates });
  }

  /** Build a snapshot of everything applied so far. */
  build(timeoutMs: number): Promise<TreeReplicaBuilt> {
    return this.system.ask<TreeReplicaCommand, TreeReplicaBuilt>(
      this.ref,
      (replyTo) => ({ type: 'BuildSnapshot', replyTo }),
      timeoutMs,
    );
  }

  async close(): Promise<void> {
    this.system.stop(this.ref);
    await this.current?.close();
  }

  private async handle(
    state: ReplicaState,
    msg: TreeReplicaCommand,
    name: string,
    reply: <R>(to: ReplyTo<R>, v: R) => void,
  ): Promise<ReplicaState> {
    const backend = state.backend;
    switch (msg.type) {
      case 'ApplyUpdates':
        backend.apply(msg.updates);
        return state;
      case 'Reload':
        backend.clear();
        backend.apply(msg.updates);
        return state;
      case 'BuildSnapshot': {
        let snapshot: SnapshotData;
        try {
          snapshot = await backend.build();
        } catch (e) {
          reply<TreeReplicaBuilt>(msg.replyTo, {
            ok: false,
            error: new RsError('RS_ERR_WORKER_FAILED', `${name}: ${(e as Error).message}`, {
              cause: e,
            }),
          });
          throw e;
        }
        reply<TreeReplicaBuilt>(msg.replyTo, { ok: true, snapshot });
        return state;
      }
    }
  }
}
