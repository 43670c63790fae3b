/**
 * Route servers in fast routing mode for tests: subnode actors and tree replicas, with the
 * replicas in this thread (deterministic; the worker backend has its own tests) and parsing on
 * the main thread unless asked otherwise. The identity is NOT the fixtures' SNODE_IP, so the
 * fixtures' announcements are acceptable gossip.
 */
import {
  defaultFastRoutingOptions,
  type FastRoutingOptions,
} from '../../src/routing/routing-supervisor.ts';
import {
  DEFAULT_SUBNODE_OPTIONS,
  type SubnodeDirectoryOptions,
} from '../../src/routing/subnode-actors.ts';
import { DEFAULT_TREE_OPTIONS, type TreeReplicasOptions } from '../../src/routing/tree-replicas.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import type { SelfIdentity } from '../../src/server/identity.ts';
import { RouteServer } from '../../src/server/route-server.ts';
import type { VerifyPoolOptions } from '../../src/routing/verify-pool.ts';
import { T0 } from '../unit/graph/fixtures.ts';

export const TEST_SELF: SelfIdentity = {
  privateKey: undefined,
  key: 'test-snode.k',
  publicKey: new Uint8Array(32),
  ipv6: 'fc00:0000:0000:0000:0000:0000:0000:9999',
  version: 22,
};

export interface FastServerOptions {
  tree?: Partial<TreeReplicasOptions>;
  subnodes?: Partial<SubnodeDirectoryOptions>;
  verifyPool?: VerifyPoolOptions;
  self?: SelfIdentity;
  clock?: ManualClock;
}

export function fastOptions(o: FastServerOptions = {}): FastRoutingOptions {
  return defaultFastRoutingOptions({
    tree: { ...DEFAULT_TREE_OPTIONS, backend: 'thread', swapIntervalMs: 60_000, ...o.tree },
    subnodes: { ...DEFAULT_SUBNODE_OPTIONS, ...o.subnodes },
    verifyPool: o.verifyPool,
  });
}

export function fastServer(o: FastServerOptions = {}): { server: RouteServer; clock: ManualClock } {
  const clock = o.clock ?? new ManualClock(T0);
  const server = new RouteServer({
    self: o.self ?? TEST_SELF,
    clock,
    routing: { mode: 'fast', options: fastOptions(o) },
  });
  return { server, clock };
}

/** Resolve once `cond()` holds (polls every tick); fails after `ticks` checks. */
export async function until(cond: () => boolean, what: string, ticks = 2000): Promise<void> {
  for (let i = 0; i < ticks; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}
