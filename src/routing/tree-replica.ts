/**
 * Tree replica actors: two of them, each owning one copy of the route graph (a ReplicaBackend:
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
import type { NodeUpdate } from './node-update.ts';
import type { SnapshotData } from './snapshot-data.ts';

export type TreeReplicaCommand =
  | { readonly type: 'ApplyUpdates'; readonly updates: readonly NodeUpdate[] }
  | { readonly type: 'Reload'; readonly updates: readonly NodeUpdate[] }
  | { readonly type: 'BuildSnapshot'; readonly replyTo: ReplyTo<TreeReplicaBuilt> };

export type TreeReplicaBuilt =
  | { readonly ok: true; readonly snapshot: SnapshotData }
  | { readonly ok: false; readonly error: RsError };

/** The replica's state lives in a slot so a restart can close the backend it replaces. */
export interface ReplicaSlot {
  backend: ReplicaBackend | undefined;
}

export interface TreeReplicaOptions {
  readonly makeBackend: (name: string) => ReplicaBackend;
  readonly supervision: SupervisionPolicy;
  readonly mailboxLimit: number;
  /** a replica restarted after a crash (its graph is empty now) */
  readonly restarted: (name: string) => void;
  readonly crashed?: (name: string, error: unknown, decision: string) => void;
}

export interface SpawnedReplicas {
  readonly refs: readonly [ActorRef<TreeReplicaCommand>, ActorRef<TreeReplicaCommand>];
  readonly slots: ReadonlyMap<string, ReplicaSlot>;
}

export const REPLICA_NAMES = ['tree-replica-a', 'tree-replica-b'] as const;

export function spawnTreeReplicas(system: ActorSystem, opts: TreeReplicaOptions): SpawnedReplicas {
  const slots = new Map<string, ReplicaSlot>(REPLICA_NAMES.map((n) => [n, { backend: undefined }]));
  const family = system.family<ReplicaSlot, TreeReplicaCommand>({
    kind: 'tree-replica',
    initialState: (name, restart) => {
      const slot = slots.get(name)!;
      if (slot.backend) void slot.backend.close().catch(() => undefined);
      slot.backend = opts.makeBackend(name);
      if (restart) queueMicrotask(() => opts.restarted(name));
      return slot;
    },
    handle: async (slot, msg, ctx) => {
      const backend = slot.backend!;
      switch (msg.type) {
        case 'ApplyUpdates':
          backend.apply(msg.updates);
          return slot;
        case 'Reload':
          backend.clear();
          backend.apply(msg.updates);
          return slot;
        case 'BuildSnapshot': {
          let snapshot: SnapshotData;
          try {
            snapshot = await backend.build();
          } catch (e) {
            ctx.reply<TreeReplicaBuilt>(msg.replyTo, {
              ok: false,
              error: new RsError('RS_ERR_WORKER_FAILED', `${ctx.name}: ${(e as Error).message}`, {
                cause: e,
              }),
            });
            throw e;
          }
          ctx.reply<TreeReplicaBuilt>(msg.replyTo, { ok: true, snapshot });
          return slot;
        }
      }
    },
    supervision: opts.supervision,
    mailboxLimit: opts.mailboxLimit,
    onCrash: (name, error, decision) => opts.crashed?.(name, error, decision),
  });
  const refs = [family.spawn(REPLICA_NAMES[0]), family.spawn(REPLICA_NAMES[1])] as const;
  return { refs, slots };
}
