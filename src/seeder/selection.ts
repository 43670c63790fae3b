/**
 * Which public peers a posting node is handed (docs/seeder.md), as the
 * Rust port chooses them.
 *
 * For each posted credential `c` (whose entry is at ring `myRing`), up to NUM_PEERS_TO_RESPOND
 * candidates are added to the shared output, in passes over every entry, oldest first:
 *
 *   attempt 0  e.ring + 1 == myRing   (one peer from the ring below; only while the output is empty)
 *   attempt 1  e.ring == myRing
 *   attempt 2  e.ring >= myRing
 *   attempt 3  any ring
 *
 * skipping private entries, entries of the other address family than `c`, entries already in
 * the output, and inappropriate ones: the asker itself, a node the graph does not hold, a node
 * that already announced the asker as a peer, a node with `maxConnectionCount` peers or more.
 * Test verdicts are not consulted here (only the nameserver's list uses them).
 *
 * Rings: the Rust port creates every entry in ring 0 and never grows a ring, so attempt 0
 * never matches and a node gets the oldest eligible entries; the passes are kept as specified
 * so that entries with other rings would be chosen the same way.
 */
import { isIpv6Peer, type PeeringCredential } from '../protocol/peering-credentials.ts';
import type { SeederGraph } from './seeder-graph.ts';
import type { SeederEntry } from './seeder-table.ts';
import { NUM_PEERS_TO_RESPOND } from './seeder-settings.ts';

/** Whether `candidateIp` may be handed out (to `askerIp`, when given). */
export function isAppropriate(
  candidateIp: string,
  askerIp: string | undefined,
  graph: SeederGraph,
  maxConnectionCount: number,
): boolean {
  if (askerIp !== undefined && candidateIp === askerIp) return false;
  const { count, isPeerOf } = graph.peerInfo(candidateIp, askerIp);
  return !isPeerOf && count < maxConnectionCount;
}

function ringMatches(attempt: number, ring: number, myRing: number): boolean {
  switch (attempt) {
    case 0:
      return ring + 1 === myRing;
    case 1:
      return ring === myRing;
    case 2:
      return ring >= myRing;
    default:
      return true;
  }
}

/** The output of one post: the chosen entries' credentials in order, and their identities. */
export class Selection {
  readonly creds: PeeringCredential[] = [];
  private readonly keys = new Set<string>();

  has(key: string): boolean {
    return this.keys.has(key);
  }
  add(e: SeederEntry): void {
    this.creds.push(e.creds);
    this.keys.add(e.credsKey);
  }
  get length(): number {
    return this.creds.length;
  }
}

/** Add candidates for one posted credential whose entry is `mine` (docs/seeder.md). */
export function selectFor(
  mine: SeederEntry,
  entries: readonly SeederEntry[],
  out: Selection,
  graph: SeederGraph,
  maxConnectionCount: number,
): void {
  const ipv6 = isIpv6Peer(mine.creds);
  let added = 0;
  for (let attempt = out.length === 0 ? 0 : 1; attempt <= 3; attempt++) {
    for (const e of entries) {
      if (added >= NUM_PEERS_TO_RESPOND) return;
      if (!ringMatches(attempt, e.ring, mine.ring)) continue;
      if (e.private || e.ipv6 !== ipv6 || out.has(e.credsKey)) continue;
      if (!isAppropriate(e.ip, mine.ip, graph, maxConnectionCount)) continue;
      out.add(e);
      added++;
      if (attempt === 0) break; // attempt 0 adds a single peer
    }
  }
}

/**
 * While more than NUM_PEERS_TO_RESPOND were chosen, drop one at a uniformly
 * random index other than 0 (the first one is the "better" one). `random` ∈ [0, 1).
 */
export function trimSelection(
  creds: readonly PeeringCredential[],
  random: () => number,
): PeeringCredential[] {
  const out = [...creds];
  while (out.length > NUM_PEERS_TO_RESPOND) {
    const loser = 1 + Math.floor(random() * (out.length - 1));
    out.splice(Math.min(loser, out.length - 1), 1);
  }
  return out;
}
