/** Which routing engine a RouteServer runs, and that choice for the configuration's `routing` section. */
import { availableParallelism } from 'node:os';
import type { ActorSystem } from '../actors/actor-system.ts';
import { fastRoutingOptions, type FastRoutingOptions } from './routing-supervisor.ts';
import type { RoutePolicy } from './route-policy.ts';
import type { RoutingSettings } from './routing-settings.ts';

/**
 * `reference` routes with the original's engine (policy `original`, the default here) or the
 * plain `best` search on the records; `fast` takes its policy from `options.tree.policy`.
 */
export type RoutingMode =
  | { readonly mode: 'reference'; readonly policy?: RoutePolicy }
  | { readonly mode: 'fast'; readonly options?: FastRoutingOptions; readonly system?: ActorSystem };

export function routingModeOf(s: RoutingSettings, cores = availableParallelism()): RoutingMode {
  if (s.mode === 'reference') return { mode: 'reference', policy: s.policy };
  return { mode: 'fast', options: fastRoutingOptions(s, cores) };
}
