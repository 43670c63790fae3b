/**
 * Route queries on one immutable snapshot (the fast engine). The answer for (src, dst) is what
 * the reference's `computeRoute` gives on the same graph (docs/protocol.md §4.8): same path, same label,
 * same hops. A query is answered, cheapest first, by:
 *  1. a cached shortest-path tree towards `dst` that already settled `src` (one tree answers
 *     every source for its destination);
 *  2. a pair search (pair-search.ts): a bidirectional search marks the few hundred nodes that
 *     can matter and the reference search is replayed inside them — exact, without searching
 *     half the graph;
 *  3. when there is no finite-cost path, the reference search towards `dst`, which stops once
 *     `src` is settled; its (partial) tree is cached per destination (LRU), and a later query
 *     for an unsettled source extends it.
 * A destination asked `hotDestinationQueries` times (more on large graphs, see `count`) gets its
 * whole tree: `growTrees` runs the search in slices of a bounded number of pops (the owner
 * schedules them between other work), and from then on its queries are walks of the tree.
 *
 * Under the `best` policy (best-routing.ts) the trees and the pair search order equal-cost
 * paths canonically, "no finite path" means no path at all (every cost is finite), and a path
 * whose label does not fit is replaced by the fitting search's answer (fitting-search.ts).
 *
 * Node names, schemes and labels are read from the shared append-only tables; everything that
 * can change between snapshots (which nodes have records, versions, schemes, edges, labels of
 * the best links) is read from the snapshot, so an answer is always that of one consistent
 * snapshot. Nothing here waits for anything: a query runs at most one search.
 */
import { attempt } from '../errors.ts';
import { formatLabel } from '../protocol/routing-label.ts';
import { SELF_ROUTE_LABEL } from '../graph/constants.ts';
import type { GraphTables } from '../graph/id-tables.ts';
import type { GrRoute, RouteJson } from './route-answer.ts';
import type { BestRouting } from './best-routing.ts';
import { spliceSteps, type LabelStep } from './route-label.ts';
import { PairSearch } from './pair-search.ts';
import { NONE, pathFromTree, SearchTree, SptSolver, type TieOrder } from './shortest-path-tree.ts';
import type { SnapshotData } from './snapshot-data.ts';

export interface RouteSnapshotOptions {
  /** destination trees kept per snapshot (LRU); each costs 4 bytes per node */
  readonly treeCacheSize: number;
  /** the pair search to use (its scratch arrays are shared between snapshots); a new one by default */
  readonly pairSearch?: PairSearch;
  /** queries for one destination not answered by a cached tree, after which its whole tree is grown (0: never) */
  readonly hotDestinationQueries?: number;
  /** called when a destination became hot and `growTrees` has work (once until it has none) */
  readonly growthWanted?: (snapshot: RouteSnapshot) => void;
  /** the `best` policy's shared state; absent: the `original` policy */
  readonly best?: BestRouting;
}

/** Destinations counted per snapshot for `hotDestinationQueries`, at most (then counting restarts). */
const MAX_COUNTED_DESTINATIONS = 4096;
/** Hot destinations' trees grown per snapshot, at most. */
const MAX_TREES_GROWN = 8;
/** Nodes per pair search a whole tree costs as much as (see `count`). */
const TREE_COST_IN_PAIR_SEARCHES = 500;

/** Counters a snapshot keeps for metrics. */
export interface RouteSnapshotStats {
  /** answered by a cached tree */
  treeHits: number;
  /** answered by a tree search (no finite-cost path for the pair search) */
  treeMisses: number;
  /** answered by a pair search */
  pairSearches: number;
  /** destination trees grown completely in the background */
  treesGrown: number;
  /** `best`: routes whose cheapest path did not fit, answered by the fitting search */
  fittingSearches: number;
  /** `best`: fitting searches that ran out of their budget (answered the fewest-bits route) */
  fittingOverBudget: number;
}

/** The steps `stepsOf` fills: one array for every snapshot (routes are built one at a time). */
const reusedSteps: { -readonly [K in keyof LabelStep]: LabelStep[K] }[] = [];

/** A route as node ids and, hop by hop, the snapshot edge used (hop i: edges[i−1] of row path[i]). */
interface RouteIds {
  readonly path: number[];
  readonly edges: number[];
}

export class RouteSnapshot {
  readonly stats: RouteSnapshotStats = {
    treeHits: 0,
    treeMisses: 0,
    pairSearches: 0,
    treesGrown: 0,
    fittingSearches: 0,
    fittingOverBudget: 0,
  };
  private readonly trees = new Map<number, SearchTree>();
  private readonly pairs: PairSearch;
  /** queries per destination a cached tree did not answer (for hot destinations) */
  private readonly asked = new Map<number, number>();
  /** hot destinations whose trees are still to grow, oldest first */
  private readonly growQueue: number[] = [];
  /** destinations made hot on this snapshot */
  private hotQueued = 0;
  /** `best`: the node order for ties (made on first use) */
  private tieOrder: TieOrder | undefined;

  constructor(
    readonly data: SnapshotData,
    private readonly tables: GraphTables,
    private readonly solver: SptSolver,
    private readonly opts: RouteSnapshotOptions,
    /** when the snapshot became active (ms), for the snapshot-age metric */
    readonly activatedAtMs: number = 0,
  ) {
    this.pairs = opts.pairSearch ?? new PairSearch();
  }

  get seq(): number {
    return this.data.seq;
  }

  /** The id of `ip` if it has a record in this snapshot. */
  nodeId(ip: string): number | undefined {
    const id = this.tables.ids.find(ip);
    return id !== undefined && id < this.data.n && this.data.present[id] === 1 ? id : undefined;
  }

  /** The route for a `gr` reply, or null (unknown node, no path, label failure). */
  routeForGr(srcIp: string, dstIp: string): GrRoute | null {
    const src = this.nodeId(srcIp);
    const dst = this.nodeId(dstIp);
    if (src === undefined || dst === undefined) return null;
    const key = this.tables.ids.keyOf(dst);
    if (!key) return null;
    if (src === dst) return { key, version: this.data.version[dst]!, label: 1n };
    const r = this.routeIds(src, dst);
    const steps = r && this.stepsOf(r);
    if (!steps) return null;
    const built = attempt(() => spliceSteps(steps, false, r.edges.length));
    return built.ok ? { key, version: this.data.version[dst]!, label: built.value.label } : null;
  }

  /** The route as `/path` prints it, or null. */
  route(srcIp: string, dstIp: string): RouteJson | null {
    const src = this.nodeId(srcIp);
    const dst = this.nodeId(dstIp);
    if (src === undefined || dst === undefined) return null;
    if (src === dst) return { label: SELF_ROUTE_LABEL, hops: [] };
    const r = this.routeIds(src, dst);
    const steps = r && this.stepsOf(r);
    if (!r || !steps) return null;
    const built = attempt(() => spliceSteps(steps, true, r.edges.length));
    if (!built.ok) return null;
    return {
      label: formatLabel(built.value.label),
      hops: built.value.hops,
      path: r.path.map((id) => this.tables.ids.ipOf(id)),
    };
  }

  /**
   * The route src … dst with its edges, or null. `original`: the path of the search, whatever
   * its label (label construction decides); `best`: the first cheapest path if its label fits,
   * else the fitting search's route.
   */
  routeIds(src: number, dst: number): RouteIds | null {
    const path = this.pathIds(src, dst);
    if (!path) return null;
    const edges: number[] = [];
    const best = this.opts.best;
    if (!best) return this.edgesOf(path, edges) ? { path, edges } : null;
    if (best.edgesAndFit(this.data, path, edges)) return { path, edges };
    this.stats.fittingSearches++;
    // the pair search's forward side bounds the cost still to go (consistent: A*)
    if (!this.pairs.ranLast(this.data, src, dst)) this.pairs.find(this.data, src, dst, this.ties());
    const r = best.fitting.find(this.data, src, dst, best.classes(), this.pairs.costToDst());
    if (best.fitting.lastBudgetExceeded) this.stats.fittingOverBudget++;
    return r;
  }

  /** The node ids of the path src … dst, or null. */
  pathIds(src: number, dst: number): number[] | null {
    if (src === dst) return null;
    const cached = this.trees.get(dst);
    if (cached?.knows(src)) {
      this.stats.treeHits++;
      this.touch(dst, cached);
      return pathFromTree(cached.prev, src, dst);
    }
    this.count(dst);
    const pair = this.pairs.find(this.data, src, dst, this.ties());
    if (pair) {
      this.stats.pairSearches++;
      return pair;
    }
    if (pair === null) return null; // `best`: no path at all
    return pathFromTree(this.tree(dst, src).prev, src, dst);
  }

  /** `best`: the canonical order for equal-cost ties; undefined under `original`. */
  private ties(): TieOrder | undefined {
    const best = this.opts.best;
    if (!best) return undefined;
    return (this.tieOrder ??= best.ties(this.data.n));
  }

  /**
   * Run the searches of hot destinations' trees for at most `maxPops` settled nodes. True while
   * work remains. A tree is in the cache from its first slice on: it answers the sources it
   * settled already.
   */
  growTrees(maxPops: number): boolean {
    while (this.growQueue.length > 0) {
      const dst = this.growQueue[0]!;
      let t = this.trees.get(dst);
      if (!t) {
        t = new SearchTree(this.data, dst, this.ties());
        this.cache(dst, t);
      }
      if (!t.complete) this.solver.extend(t, NONE, maxPops);
      if (!t.complete) return true;
      this.growQueue.shift();
      this.stats.treesGrown++;
    }
    return false;
  }

  /**
   * Count a query for `dst`; the query that makes it hot queues its tree. A whole tree costs
   * about n/500 pair searches (a full search settles every node, a pair search a few hundred),
   * so on large graphs the threshold rises to that; and at most MAX_TREES_GROWN trees are grown
   * per snapshot, so a query mix with many popular destinations cannot fill the event loop
   * with tree searches after every swap.
   */
  private count(dst: number): void {
    const configured = this.opts.hotDestinationQueries ?? 0;
    if (configured <= 0 || this.opts.treeCacheSize <= 0) return;
    if (this.hotQueued >= MAX_TREES_GROWN) return;
    const hot = Math.max(configured, Math.ceil(this.data.n / TREE_COST_IN_PAIR_SEARCHES));
    if (this.asked.size >= MAX_COUNTED_DESTINATIONS && !this.asked.has(dst)) this.asked.clear();
    const c = (this.asked.get(dst) ?? 0) + 1;
    this.asked.set(dst, c);
    if (c !== hot) return;
    this.hotQueued++;
    this.growQueue.push(dst);
    if (this.growQueue.length === 1) this.opts.growthWanted?.(this);
  }

  /** Mark `dst`'s tree most recently used (the Map's order is the LRU order). */
  private touch(dst: number, t: SearchTree): void {
    this.trees.delete(dst);
    this.trees.set(dst, t);
  }

  private cache(dst: number, t: SearchTree): void {
    if (this.opts.treeCacheSize <= 0) return;
    if (this.trees.size >= this.opts.treeCacheSize) {
      const oldest = this.trees.keys().next().value;
      if (oldest !== undefined) this.trees.delete(oldest);
    }
    this.trees.set(dst, t);
  }

  /** Number of cached destination trees (complete or partial). */
  get cachedTrees(): number {
    return this.trees.size;
  }

  /** The tree towards `dst`, searched at least until `src` is settled (a miss of `pathIds`). */
  private tree(dst: number, src: number): SearchTree {
    this.stats.treeMisses++;
    const hit = this.trees.get(dst);
    if (hit) {
      // (pathIds answered already if it knew src) resumed, it only runs on to src; re-run from
      // dst, it runs to the end, so a destination costs at most one (possibly resumed) partial
      // and one full search per snapshot
      this.touch(dst, hit);
      this.solver.extend(hit, this.solver.holds(hit) ? src : NONE);
      return hit;
    }
    const t = new SearchTree(this.data, dst, this.ties());
    this.solver.extend(t, src);
    this.cache(dst, t);
    return t;
  }

  /**
   * Hop i uses the edge n_i → n_{i−1} (n_i's link from n_{i−1}); the tree gave n_{i−1} its
   * predecessor n_i over exactly such an edge. With one row entry per peer (`original`), finding
   * it is a scan of n_i's row; under `best` the first of the parallel entries is the cheapest.
   */
  private edgesOf(path: readonly number[], edges: number[]): boolean {
    const { offsets, nbr } = this.data;
    for (let i = 1; i < path.length; i++) {
      const from = path[i - 1]!;
      const to = path[i]!;
      let e = offsets[to]!;
      const end = offsets[to + 1]!;
      while (e < end && nbr[e] !== from) e++;
      if (e === end) return false; // cannot happen: the tree only uses snapshot edges
      edges.push(e);
    }
    return true;
  }

  /**
   * The label construction input of a route: its first `r.edges.length` entries (the array and
   * its step objects are reused by the next route; label construction keeps none of them). A
   * label the reference could not parse fails the route, as `parseLabel` throwing does there.
   */
  private stepsOf(r: RouteIds): readonly LabelStep[] | null {
    const { labelId, form, schemeId } = this.data;
    const steps = reusedSteps;
    for (let i = 0; i < r.edges.length; i++) {
      const e = r.edges[i]!;
      const label = this.tables.labels.valueOf(labelId[e]!);
      if (label === undefined) return null;
      const origLabel = this.tables.labels.textOf(labelId[e]!);
      const scheme = this.tables.schemes.get(schemeId[r.path[i]!]!);
      const step = steps[i];
      if (step === undefined) {
        steps.push({ label, origLabel, encodingFormNum: form[e]!, scheme });
      } else {
        step.label = label;
        step.origLabel = origLabel;
        step.encodingFormNum = form[e]!;
        step.scheme = scheme;
      }
    }
    return steps;
  }
}
