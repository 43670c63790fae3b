/**
 * A route server running the reference engine on a manual clock, for the tests that check the
 * original's state machine, store and routes step by step — through the ingest funnel, as
 * production does.
 */
import type { AnnounceOutcome } from '../../src/graph/apply-announcement.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import type { Announcement } from '../../src/protocol/announcement-types.ts';
import type { RoutePolicy } from '../../src/routing/route-policy.ts';
import type { SelfIdentity } from '../../src/server/identity.ts';
import { RouteServer } from '../../src/server/route-server.ts';
import { SNODE_IP, T0 } from '../unit/graph/fixtures.ts';

export interface ReferenceServer {
  readonly server: RouteServer;
  readonly clock: ManualClock;
  /** JS `handleAnnounce(input, fromNode)` at `now`: the node's own (`sq: ann`) or gossip */
  announce(
    input: Uint8Array | Announcement,
    at: { fromNode: boolean; now: number },
  ): Promise<AnnounceOutcome>;
}

/** Our identity for these tests: only the IPv6 matters (the snode checks). */
export function selfWithIp(ipv6: string): SelfIdentity {
  return {
    privateKey: undefined,
    key: 'test-snode.k',
    publicKey: new Uint8Array(32),
    ipv6,
    version: 22,
  };
}

/**
 * `policy` `original` (the default) for the original's routes; `best` makes it the oracle of the
 * production engine's routes (the plain search on the records, src/routing/reference/best-route.ts).
 */
export function referenceServer(
  selfIp = SNODE_IP,
  clock = new ManualClock(T0),
  policy: RoutePolicy = 'original',
): ReferenceServer {
  const server = new RouteServer({
    self: selfWithIp(selfIp),
    clock,
    routing: { mode: 'reference', policy },
  });
  return {
    server,
    clock,
    announce: (input, at) => {
      clock.set(at.now);
      return server.submitAnnouncement(input, at.fromNode ? 'node' : 'gossip');
    },
  };
}
