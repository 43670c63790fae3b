/**
 * The route graph snapshot (docs/protocol.md §4.8 "Graph"), built in reverse: an edge N → P means "P can
 * reach N" (N has an inward link from P). The search runs from the destination to the source.
 *
 * Building has one side effect the original has and routes depend on: each included link array
 * is sorted in place by value, descending and stable, so `links[0]` is the best link afterwards
 * and label construction uses it.
 *
 * The snapshot is plain data (read-only maps) so the search can run on it without touching the
 * node table; a later compact representation (integer ids, CSR) can replace it behind
 * `RouteGraph`.
 */
import type { Link, NodeRecord } from '../../graph/node-record.ts';

export interface RouteGraph {
  /** `now` at build time, ms */
  readonly builtAtMs: number;
  /** node IPv6 → (peer IPv6 → edge cost), both in nodesByIp / inwardLinksByIp insertion order */
  readonly adjacency: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/**
 * Sort the links of one peer best first (in place, stable) and return the edge cost 1/value.
 * A zero value costs Infinity: the original computes a 1e-20 floor but does not use it.
 */
export function sortLinksAndCost(links: Link[]): number {
  links.sort((a, b) => b.value - a.value);
  return 1 / links[0]!.value;
}

/** Build the reverse graph of `nodesByIp`: an edge only where both directions are known. */
export function buildRouteGraph(
  nodesByIp: ReadonlyMap<string, NodeRecord>,
  builtAtMs: number,
): RouteGraph {
  const adjacency = new Map<string, Map<string, number>>();
  for (const [nip, node] of nodesByIp) {
    const edges = new Map<string, number>();
    for (const [pip, links] of node.inwardLinksByIp) {
      const reverse = nodesByIp.get(pip);
      if (!reverse || !reverse.inwardLinksByIp.has(nip)) continue;
      if (links.length === 0) continue;
      const cost = sortLinksAndCost(links);
      // node-dijkstra refuses (throws on) a cost that is NaN or <= 0, i.e. a link value of
      // Infinity; unreachable with real link state, we leave such an edge out instead.
      if (!(cost > 0)) continue;
      edges.set(pip, cost);
    }
    adjacency.set(nip, edges);
  }
  return { builtAtMs, adjacency };
}
