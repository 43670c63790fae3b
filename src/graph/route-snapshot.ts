/**
 * Route queries on one immutable snapshot (the fast engine). The answer for (src, dst) is what
 * the reference's `computeRoute` gives on the same graph (README 4.8): same path, same label,
 * same hops — but every search result is a shortest-path tree towards `dst`, cached per
 * destination (LRU), so one search answers every source for that destination. A search stops
 * once the queried source is settled (a partial tree, valid for every node settled so far);
 * a later query for an unsettled source extends the cached tree (resumed where it stopped, or
 * re-run to the end).
 *
 * Node names, schemes and labels are read from the shared append-only tables; everything that
 * can change between snapshots (which nodes have records, versions, schemes, edges, labels of
 * the best links) is read from the snapshot, so an answer is always that of one consistent
 * snapshot. Nothing here waits for anything: a query computes at most one tree.
 */
import { attempt } from '../errors.ts';
import { formatLabel } from '../protocol/routing-label.ts';
import { SELF_ROUTE_LABEL } from './constants.ts';
import type { GraphTables } from './id-tables.ts';
import type { GrRoute, RouteJson } from './route-engine.ts';
import { spliceSteps, type LabelStep } from './route-label.ts';
import { NONE, pathFromTree, SearchTree, SptSolver } from './shortest-path-tree.ts';
import type { SnapshotData } from './snapshot-data.ts';

export interface RouteSnapshotOptions {
  /** destination trees kept per snapshot (LRU); each costs 4 bytes per node */
  readonly treeCacheSize: number;
}

/** Counters a snapshot keeps for metrics. */
export interface RouteSnapshotStats {
  treeHits: number;
  treeMisses: number;
}

export class RouteSnapshot {
  readonly stats: RouteSnapshotStats = { treeHits: 0, treeMisses: 0 };
  private readonly trees = new Map<number, SearchTree>();

  constructor(
    readonly data: SnapshotData,
    private readonly tables: GraphTables,
    private readonly solver: SptSolver,
    private readonly opts: RouteSnapshotOptions,
    /** when the snapshot became active (ms), for the snapshot-age metric */
    readonly activatedAtMs: number = 0,
  ) {}

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
    const steps = this.steps(src, dst);
    if (!steps) return null;
    const built = attempt(() => spliceSteps(steps, false));
    return built.ok ? { key, version: this.data.version[dst]!, label: built.value.label } : null;
  }

  /** The route as `/path` prints it, or null. */
  route(srcIp: string, dstIp: string): RouteJson | null {
    const src = this.nodeId(srcIp);
    const dst = this.nodeId(dstIp);
    if (src === undefined || dst === undefined) return null;
    if (src === dst) return { label: SELF_ROUTE_LABEL, hops: [] };
    const path = this.pathIds(src, dst);
    const steps = path && this.stepsOf(path);
    if (!path || !steps) return null;
    const built = attempt(() => spliceSteps(steps, true));
    if (!built.ok) return null;
    return {
      label: formatLabel(built.value.label),
      hops: built.value.hops,
      path: path.map((id) => this.tables.ids.ipOf(id)),
    };
  }

  /** The node ids of the path src … dst, or null. */
  pathIds(src: number, dst: number): number[] | null {
    return pathFromTree(this.tree(dst, src).prev, src, dst);
  }

  /** Number of cached destination trees (complete or partial). */
  get cachedTrees(): number {
    return this.trees.size;
  }

  /** The tree towards `dst`, searched at least until `src` is settled. */
  private tree(dst: number, src: number): SearchTree {
    const hit = this.trees.get(dst);
    if (hit) {
      this.trees.delete(dst);
      this.trees.set(dst, hit);
      if (hit.knows(src)) {
        this.stats.treeHits++;
      } else {
        this.stats.treeMisses++;
        // resumed, it only runs on to src; re-run from dst, it runs to the end, so a popular
        // destination costs at most one (possibly resumed) partial and one full search per snapshot
        this.solver.extend(hit, this.solver.holds(hit) ? src : NONE);
      }
      return hit;
    }
    this.stats.treeMisses++;
    const t = new SearchTree(this.data, dst);
    this.solver.extend(t, src);
    if (this.trees.size >= this.opts.treeCacheSize) {
      const oldest = this.trees.keys().next().value;
      if (oldest !== undefined) this.trees.delete(oldest);
    }
    if (this.opts.treeCacheSize > 0) this.trees.set(dst, t);
    return t;
  }

  private steps(src: number, dst: number): LabelStep[] | null {
    const path = this.pathIds(src, dst);
    return path ? this.stepsOf(path) : null;
  }

  /**
   * Hop i uses the edge n_i → n_{i−1} (n_i's best inward link from n_{i−1}); the tree gave
   * n_{i−1} its predecessor n_i over exactly such an edge. With parallel edges impossible (one
   * row entry per peer), finding it is a scan of n_i's row. A label the reference could not
   * parse fails the route, as `parseLabel` throwing does there.
   */
  private stepsOf(path: readonly number[]): LabelStep[] | null {
    const { offsets, nbr, labelId, form, schemeId } = this.data;
    const steps: LabelStep[] = new Array<LabelStep>(path.length - 1);
    for (let i = 1; i < path.length; i++) {
      const from = path[i - 1]!;
      const to = path[i]!;
      let e = offsets[to]!;
      const end = offsets[to + 1]!;
      while (e < end && nbr[e] !== from) e++;
      if (e === end) return null; // cannot happen: the tree only uses snapshot edges
      const label = this.tables.labels.valueOf(labelId[e]!);
      if (label === undefined) return null;
      steps[i - 1] = {
        label,
        origLabel: this.tables.labels.textOf(labelId[e]!),
        encodingFormNum: form[e]!,
        scheme: this.tables.schemes.get(schemeId[from]!),
      };
    }
    return steps;
  }
}
