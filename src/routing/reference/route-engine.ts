/**
 * Route queries (JS `getRoute`, docs/protocol.md §4.8–§4.9): lazy graph rebuild, route cache, search and
 * label construction.
 *
 * There is no timer: the first query that finds the graph missing or older than
 * GRAPH_REBUILD_AGE_MS rebuilds it and clears the cache. The cache is keyed `dst|src` and holds
 * misses (null) too. Labels are read from the current links when a route is first computed.
 *
 * Under the `best` policy (route-policy.ts) the same cadence applies to its hop list
 * (best-route.ts `recordHops`, which reorders nothing), and a route is the plain `best` search
 * on the records: this engine is then the oracle of the fast engine's `best` answers.
 */
import { formatLabel } from '../../protocol/routing-label.ts';
import { GRAPH_REBUILD_AGE_MS, SELF_ROUTE_LABEL } from '../../graph/constants.ts';
import type { NodeRecord } from '../../graph/node-record.ts';
import { buildRouteGraph, type RouteGraph } from './route-graph.ts';
import type { GrRoute, RouteJson } from '../route-answer.ts';
import { buildRouteLabel } from '../route-label.ts';
import { shortestPath } from './shortest-path.ts';
import { spliceSteps } from '../route-label.ts';
import type { RoutePolicy } from '../route-policy.ts';
import { bestRouteOnRecords, recordHops, type RecordHop } from './best-route.ts';
import { attempt } from '../../errors.ts';

/** A computed route: the JSON shape plus the label as a number. */
export interface ComputedRoute {
  readonly json: RouteJson;
  readonly label: bigint;
  readonly dst: NodeRecord;
}

/** Where the engine reads nodes from (a NodeTable). */
export interface NodeSource {
  readonly nodesByIp: ReadonlyMap<string, NodeRecord>;
}

export class RouteEngine {
  private graph: RouteGraph | undefined;
  /** `best`: the hops of the records when the graph was last built */
  private hops:
    { readonly builtAtMs: number; readonly bySender: Map<string, RecordHop[]> } | undefined;
  private readonly cache = new Map<string, ComputedRoute | null>();

  constructor(
    private readonly nodes: NodeSource,
    readonly policy: RoutePolicy = 'original',
  ) {}

  /** Drop the graph: the next query that needs it rebuilds it (and clears the cache). */
  forceRebuild(): void {
    this.graph = undefined;
    this.hops = undefined;
  }

  /** When the current graph was built, or undefined if there is none. */
  get graphBuiltAtMs(): number | undefined {
    return this.policy === 'best' ? this.hops?.builtAtMs : this.graph?.builtAtMs;
  }

  /** Number of cached `dst|src` entries (misses included). */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** The graph to search at `now`, rebuilding it (and clearing the cache) when stale. */
  currentGraph(now: number): RouteGraph {
    if (!this.graph || this.graph.builtAtMs + GRAPH_REBUILD_AGE_MS < now) {
      this.cache.clear();
      this.graph = buildRouteGraph(this.nodes.nodesByIp, now);
    }
    return this.graph;
  }

  /** JS `getRoute(src, dst)` by IPv6: the route object, or null (unknown node, no path, failure). */
  getRoute(srcIp: string, dstIp: string, now: number): RouteJson | null {
    return this.compute(srcIp, dstIp, now)?.json ?? null;
  }

  /** The route for a `gr` reply: the destination's key and version and the label. */
  getRouteForGr(srcIp: string, dstIp: string, now: number): GrRoute | null {
    const r = this.compute(srcIp, dstIp, now);
    return r ? { key: r.dst.keyBytes, version: r.dst.version, label: r.label } : null;
  }

  compute(srcIp: string, dstIp: string, now: number): ComputedRoute | null {
    const nodesByIp = this.nodes.nodesByIp;
    const src = nodesByIp.get(srcIp);
    const dst = nodesByIp.get(dstIp);
    if (!src || !dst) return null;
    if (src === dst) return { json: { label: SELF_ROUTE_LABEL, hops: [] }, label: 1n, dst };

    if (this.policy === 'best') this.currentHops(now);
    const graph = this.policy === 'best' ? undefined : this.currentGraph(now);
    const cacheKey = dst.ipv6 + '|' + src.ipv6;
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return cached;

    const result = graph
      ? computeRoute(graph, nodesByIp, src, dst)
      : computeBestRoute(this.hops!.bySender, nodesByIp, src, dst);
    this.cache.set(cacheKey, result);
    return result;
  }

  /** `best`: the hop list to search at `now`, rebuilt (and the cache cleared) when stale. */
  private currentHops(now: number): void {
    if (!this.hops || this.hops.builtAtMs + GRAPH_REBUILD_AGE_MS < now) {
      this.cache.clear();
      this.hops = { builtAtMs: now, bySender: recordHops(this.nodes.nodesByIp) };
    }
  }
}

/** The `best` route on the records (best-route.ts) and its label. */
export function computeBestRoute(
  hops: Map<string, RecordHop[]>,
  nodesByIp: ReadonlyMap<string, NodeRecord>,
  src: NodeRecord,
  dst: NodeRecord,
): ComputedRoute | null {
  const r = bestRouteOnRecords(nodesByIp, src.ipv6, dst.ipv6, hops);
  if (!r) return null;
  const built = attempt(() => spliceSteps(r.steps, true));
  if (!built.ok) return null;
  const label = built.value.label;
  return { json: { label: formatLabel(label), hops: built.value.hops, path: r.path }, label, dst };
}

/** Search the reverse graph from dst to src, then build the label along src … dst. */
export function computeRoute(
  graph: RouteGraph,
  nodesByIp: ReadonlyMap<string, NodeRecord>,
  src: NodeRecord,
  dst: NodeRecord,
): ComputedRoute | null {
  const reversePath = shortestPath((k: string) => graph.adjacency.get(k), dst.ipv6, src.ipv6);
  if (!reversePath) return null;
  const path = reversePath.reverse();
  const built = buildRouteLabel(path, (ip) => nodesByIp.get(ip));
  if (!built.ok) return null;
  const label = built.value.label;
  return { json: { label: formatLabel(label), hops: built.value.hops, path }, label, dst };
}
