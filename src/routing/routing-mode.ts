/** Which routing engine a RouteServer runs, and that choice for the configuration's `routing` section. */
import { availableParallelism } from 'node:os';
import type { ActorSystem } from '../actors/actor-system.ts';
import { fastRoutingOptions, type FastRoutingOptions } from './routing-supervisor.ts';
import type { RoutingSettings } from './routing-settings.ts';

export type RoutingMode =
  | { readonly mode: 'reference' }
  | { readonly mode: 'fast'; readonly options?: FastRoutingOptions; readonly system?: ActorSystem };

export function routingModeOf(s: RoutingSettings, cores = availableParallelism()): RoutingMode {
  if (s.mode === 'reference') return { mode: 'reference' };
  return { mode: 'fast', options: fastRoutingOptions(s, cores) };
}
