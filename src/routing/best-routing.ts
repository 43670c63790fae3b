/**
 * What the fast engine needs to answer under the `best` policy (route-policy.ts), shared by
 * every snapshot of a server (like the pair search's scratch arrays): the canonical node order
 * for ties, the hop-bits table of the label constraint, and the fitting search's scratch state.
 *
 * How a `best` query is answered (route-snapshot.ts): the trees and the pair search find the
 * first cheapest path in the route order; when its label fits (the sum of its hop bits is
 * ≤ 59), it is the answer — it comes first among all routes, so first among the fitting ones.
 * Only when it does not fit does the fitting search (fitting-search.ts) run.
 */
import { FittingSearch } from './fitting-search.ts';
import { HOP_UNUSABLE, HopBitsTable, MAX_DIRECTOR_BITS } from './hop-bits.ts';
import type { GraphTables } from '../graph/id-tables.ts';
import { NodeOrder } from './node-order.ts';
import type { TieOrder } from './shortest-path-tree.ts';
import type { SnapshotData } from './snapshot-data.ts';

export class BestRouting {
  readonly order: NodeOrder;
  readonly hopBits: HopBitsTable;
  readonly fitting: FittingSearch;
  private maxClasses = 1;
  private schemesSeen = 0;

  constructor(private readonly tables: GraphTables) {
    this.order = new NodeOrder(tables.ids);
    this.hopBits = new HopBitsTable({
      labelValue: (id) => tables.labels.valueOf(id),
      scheme: (id) => tables.schemes.get(id),
    });
    this.fitting = new FittingSearch(this.hopBits, this.order);
  }

  /** The node order as a TieOrder for a snapshot of `n` ids. */
  ties(n: number): TieOrder {
    const order = this.order;
    return { keys: order.keysFor(n), before: (a, b) => order.compare(a, b) < 0 };
  }

  /** The largest number of arrival classes of any scheme known (1 + its form count). */
  classes(): number {
    const schemes = this.tables.schemes;
    for (; this.schemesSeen < schemes.size; this.schemesSeen++)
      this.maxClasses = Math.max(this.maxClasses, this.hopBits.classes(this.schemesSeen));
    return this.maxClasses;
  }

  /**
   * The edge of every hop of `path` (the first, i.e. cheapest, of the parallel links: rows order
   * a peer's links by cost) into `edges`, and whether the route's label fits: the sum of its hop
   * bits, each after the arrival form of the hop before, is at most 59.
   */
  edgesAndFit(g: SnapshotData, path: readonly number[], edges: number[]): boolean {
    const { offsets, nbr, labelId, form, schemeId } = g;
    let bits = 0;
    let cls = 0;
    for (let i = 1; i < path.length; i++) {
      const from = path[i - 1]!;
      const to = path[i]!;
      let e = offsets[to]!;
      const end = offsets[to + 1]!;
      while (e < end && nbr[e] !== from) e++;
      if (e === end) return false; // cannot happen: paths only use snapshot edges
      edges.push(e);
      if (bits <= MAX_DIRECTOR_BITS) {
        const scheme = schemeId[from]!;
        const b =
          cls < this.hopBits.classes(scheme)
            ? this.hopBits.bits(labelId[e]!, scheme, cls)
            : HOP_UNUSABLE;
        bits = b === HOP_UNUSABLE ? MAX_DIRECTOR_BITS + 1 : bits + b;
      }
      cls = form[e]! + 1;
    }
    return bits <= MAX_DIRECTOR_BITS;
  }
}
