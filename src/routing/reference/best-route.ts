/**
 * The `best` route policy, computed the plain way on the node records: the oracle the fast
 * engine is tested against, and the `best` engine of `routing.mode: reference`. No snapshot, no
 * trees, no bounds — one label-setting search per query, written for clarity.
 *
 * Semantics (docs/compatibility.md "Route policy"; the fast engine implements the same):
 *  - a hop a → b exists for every link of b's record from a, when a has a record with a link
 *    from b (known from both ends); its cost is `bestLinkCost(value)` (best-cost.ts);
 *  - its bits are `hopBits(label, a's scheme, arrival form at a)` (hop-bits.ts): the label the
 *    route server builds fits iff the bits of all hops add up to at most 59;
 *  - the answer is the first fitting route (a walk src … dst, ending at dst) in the order:
 *    cost, then hop by hop from the source the next node's IPv6, then the link's position among
 *    that pair's links sorted by (cost, the record's order).
 *
 * The search: labels (partial routes) are settled in that order; a label at (node, arrival
 * form) is kept only if it uses fewer bits than every label settled there before (those come
 * first in the order and every continuation of this one continues them too). The first settled
 * label at dst is the answer.
 */
import type { NodeRecord } from '../../graph/node-record.ts';
import type { LabelStep } from '../route-label.ts';
import { parseLabel } from '../../protocol/routing-label.ts';
import { bestLinkCost } from '../best-cost.ts';
import { HOP_UNUSABLE, hopBits, MAX_DIRECTOR_BITS } from '../hop-bits.ts';

export interface BestRoute {
  /** the IPv6 of every node, src … dst (a node may appear twice with exotic schemes) */
  readonly path: string[];
  /** label construction input, hop by hop (route-label.ts `spliceSteps`) */
  readonly steps: LabelStep[];
  readonly cost: number;
  readonly bits: number;
}

/** One way from a to b: a link of b's record from a. */
export interface RecordHop {
  readonly to: NodeRecord;
  /** the link's label (in a's scheme); undefined when it does not parse (never usable) */
  readonly label: bigint | undefined;
  readonly origLabel: string;
  /** the form of b's label back to a: the arrival form for the next hop */
  readonly encodingFormNum: number;
  /** a's scheme */
  readonly scheme: NodeRecord['encodingScheme'];
  readonly cost: number;
  /** position among the links from a to b sorted by (cost, record order) */
  readonly linkRank: number;
}

interface Label {
  readonly node: NodeRecord;
  /** encodingFormNum of the hop that arrived here; undefined at the source */
  readonly arrival: number | undefined;
  readonly cost: number;
  readonly bits: number;
  readonly hops: readonly RecordHop[];
}

/** Every usable hop a → b of the records (both ends known), by sender IPv6. */
export function recordHops(nodesByIp: ReadonlyMap<string, NodeRecord>): Map<string, RecordHop[]> {
  const out = new Map<string, RecordHop[]>();
  for (const b of nodesByIp.values()) {
    for (const [aIp, links] of b.inwardLinksByIp) {
      const a = nodesByIp.get(aIp);
      if (!a || !a.inwardLinksByIp.has(b.ipv6) || links.length === 0) continue;
      const ranked = links
        .map((link, i) => ({ link, i, cost: bestLinkCost(link.value) }))
        .sort((x, y) => x.cost - y.cost || x.i - y.i);
      const list = out.get(aIp) ?? [];
      ranked.forEach(({ link, cost }, linkRank) => {
        let label: bigint | undefined;
        try {
          label = parseLabel(link.label);
        } catch {
          label = undefined;
        }
        list.push({
          to: b,
          label,
          origLabel: link.label,
          encodingFormNum: link.encodingFormNum,
          scheme: a.encodingScheme,
          cost,
          linkRank,
        });
      });
      out.set(aIp, list);
    }
  }
  return out;
}

/** The bits of `hop` when it leaves a node reached with `arrival` (undefined: the first hop). */
export function recordHopBits(hop: RecordHop, arrival: number | undefined): number {
  return hopBits(hop.label, hop.scheme, arrival);
}

/** Label construction input of a usable hop (its label parsed). */
export function stepOf(hop: RecordHop): LabelStep {
  return {
    label: hop.label!,
    origLabel: hop.origLabel,
    encodingFormNum: hop.encodingFormNum,
    scheme: hop.scheme,
  };
}

/** Route order: cost, then the hop sequence (next node's IPv6, link rank), a prefix first. */
export function compareRoutes(
  a: { cost: number; hops: readonly RecordHop[] },
  b: { cost: number; hops: readonly RecordHop[] },
): number {
  if (a.cost !== b.cost) return a.cost - b.cost;
  const n = Math.min(a.hops.length, b.hops.length);
  for (let i = 0; i < n; i++) {
    const x = a.hops[i]!;
    const y = b.hops[i]!;
    if (x.to.ipv6 !== y.to.ipv6) return x.to.ipv6 < y.to.ipv6 ? -1 : 1;
    if (x.linkRank !== y.linkRank) return x.linkRank - y.linkRank;
  }
  return a.hops.length - b.hops.length;
}

/** The `best` route from src to dst on the records, or null (unknown node, no fitting route). */
export function bestRouteOnRecords(
  nodesByIp: ReadonlyMap<string, NodeRecord>,
  srcIp: string,
  dstIp: string,
  hops: Map<string, RecordHop[]> = recordHops(nodesByIp),
): BestRoute | null {
  const src = nodesByIp.get(srcIp);
  const dst = nodesByIp.get(dstIp);
  if (!src || !dst || src === dst) return null;
  const heap = new LabelHeap();
  heap.push({ node: src, arrival: undefined, cost: 0, bits: 0, hops: [] });
  const settled = new Map<string, number>();
  for (let l = heap.pop(); l; l = heap.pop()) {
    if (l.node.ipv6 === dst.ipv6) {
      return {
        path: [src.ipv6, ...l.hops.map((h) => h.to.ipv6)],
        steps: l.hops.map(stepOf),
        cost: l.cost,
        bits: l.bits,
      };
    }
    const state = `${l.node.ipv6}|${l.arrival ?? 'src'}`;
    if (l.bits >= (settled.get(state) ?? Infinity)) continue;
    settled.set(state, l.bits);
    for (const h of hops.get(l.node.ipv6) ?? []) {
      const b = recordHopBits(h, l.arrival);
      if (b === HOP_UNUSABLE || l.bits + b > MAX_DIRECTOR_BITS) continue;
      heap.push({
        node: h.to,
        arrival: h.encodingFormNum,
        cost: l.cost + h.cost,
        bits: l.bits + b,
        hops: [...l.hops, h],
      });
    }
  }
  return null;
}

/** A binary min-heap of labels in route order. */
class LabelHeap {
  private readonly a: Label[] = [];

  push(l: Label): void {
    const a = this.a;
    let i = a.length;
    a.push(l);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (compareRoutes(a[p]!, l) <= 0) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = l;
  }

  pop(): Label | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= a.length) break;
        if (c + 1 < a.length && compareRoutes(a[c + 1]!, a[c]!) < 0) c++;
        if (compareRoutes(a[c]!, last) >= 0) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
