/** Which route engine a RouteServer runs, and that choice for the configuration's `routing` section. */
import { availableParallelism } from 'node:os';
import type { ActorSystem } from '../actors/actor-system.ts';
import {
  defaultFastRoutingOptions,
  type FastRoutingOptions,
} from './routing-supervisor.ts';
import type { RoutingSettings } from './routing-settings.ts';
import { defaultVerifyWorkers } from './verify-pool.ts';

export type RoutingMode =
  | { readonly mode: 'reference' }
  | { readonly mode: 'fast'; readonly options?: FastRoutingOptions; readonly system?: ActorSystem };

export function routingModeOf(s: RoutingSettings, cores = availableParallelism()): RoutingMode {
  if (s.mode === 'reference') return { mode: 'reference' };
  const base = defaultFastRoutingOptions();
  const workers = s.verifyWorkers === 'auto' ? defaultVerifyWorkers(cores) : s.verifyWorkers;
  const options: FastRoutingOptions = {
    ...base,
    tree: {
      ...base.tree,
      swapIntervalMs: s.swapIntervalMs,
      maxUpdatesPerSwap: s.maxUpdatesPerSwap,
      treeCacheSize: s.treeCacheSize,
      hotDestinationQueries: s.hotDestinationQueries,
      backend: s.replicaBackend,
      mailboxLimit: s.replicaMailbox,
    },
    subnodes: { ...base.subnodes, mailboxLimit: s.subnodeMailbox, idleMs: s.subnodeIdleMs },
    verifyPool:
      workers > 0
        ? {
            ...base.verifyPool!,
            workers,
            batchSize: s.verifyBatchSize,
            maxQueued: s.verifyMaxQueued,
          }
        : undefined,
  };
  return { mode: 'fast', options };
}
