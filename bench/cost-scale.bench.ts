/**
 * Why the `best` policy's cost scale is what it is (src/routing/best-cost.ts): a hop costs 100
 * and link quality adds at most 100 (10 per halving of the link value below 1024; an unmeasured
 * link the full 100). The larger the quality share, the more hops a route may take to use better
 * links. This bench loads the routes bench's mesh (85 % of link ends measured), takes the link
 * values the route server computed from the link state, and for several maximum penalties M
 * (PENALTY_PER_HALVING = M / 10, unmeasured = M) computes the cheapest path of sampled pairs with
 * its own Dijkstra — not the engine's — and prints the mean hop stretch over the fewest-hop
 * fitting route (route-quality.ts), the share of hops over unmeasured links and the median link
 * value on the chosen paths. The target is a mean stretch ≤ 1.10.
 */
import type { NodeRecordView } from '../src/graph/node-record.ts';
import { GOOD_LINK_VALUE, HOP_COST, MAX_QUALITY_PENALTY } from '../src/routing/best-cost.ts';
import { percentile, prng, type BenchOptions, type BenchResult } from './harness.ts';
import { FittingPaths } from './route-quality.ts';
import { buildWorld, dropWorlds, loadedServer } from './world.ts';

const STRETCH_TARGET = 1.1;
/** maximum quality penalties tried, as a share of HOP_COST */
const SHARES = [0, 0.25, 0.5, 1, 2, 4];

interface Hop {
  readonly to: number;
  readonly value: number;
}

/** Every hop a → b known from both ends, with the value of b's best link from a. */
function hopsOf(records: Iterable<NodeRecordView>, idOf: Map<string, number>, n: number): Hop[][] {
  const out: Hop[][] = Array.from({ length: n }, () => []);
  const byIp = new Map<string, NodeRecordView>();
  for (const r of records) byIp.set(r.ipv6, r);
  for (const b of byIp.values()) {
    for (const [aIp, links] of b.inwardLinksByIp) {
      const a = byIp.get(aIp);
      if (!a || !a.inwardLinksByIp.has(b.ipv6) || links.length === 0) continue;
      const value = Math.max(...links.map((l) => l.value));
      out[idOf.get(aIp)!]!.push({ to: idOf.get(b.ipv6)!, value });
    }
  }
  return out;
}

function penalty(value: number, max: number): number {
  if (!(value > 0)) return max;
  const p = Math.ceil((max / 10) * Math.log2(GOOD_LINK_VALUE / value));
  return Math.min(max, Math.max(0, p));
}

/** Hop count, unmeasured hops and link values of the cheapest path src → dst (binary heap Dijkstra). */
function cheapest(
  hops: Hop[][],
  src: number,
  dst: number,
  max: number,
): { hops: number; unmeasured: number; values: number[] } | null {
  const n = hops.length;
  const dist = new Float64Array(n).fill(Infinity);
  const prev = new Int32Array(n).fill(-1);
  const via = new Float64Array(n);
  const heap: number[] = [];
  const keyOf = (i: number): number => dist[i]!;
  const push = (v: number): void => {
    heap.push(v);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keyOf(heap[p]!) <= keyOf(v)) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = v;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= heap.length) break;
        if (c + 1 < heap.length && keyOf(heap[c + 1]!) < keyOf(heap[c]!)) c++;
        if (keyOf(heap[c]!) >= keyOf(last)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  };
  dist[src] = 0;
  push(src);
  const done = new Uint8Array(n);
  while (heap.length > 0) {
    const u = pop();
    if (done[u]) continue;
    done[u] = 1;
    if (u === dst) break;
    for (const h of hops[u]!) {
      const c = dist[u]! + HOP_COST + penalty(h.value, max);
      if (c < dist[h.to]!) {
        dist[h.to] = c;
        prev[h.to] = u;
        via[h.to] = h.value;
        push(h.to);
      }
    }
  }
  if (prev[dst] === -1) return null;
  let count = 0;
  let unmeasured = 0;
  const values: number[] = [];
  for (let v = dst; v !== src; v = prev[v]!) {
    count++;
    if (!(via[v]! > 0)) unmeasured++;
    else values.push(via[v]!);
  }
  return { hops: count, unmeasured, values };
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const log = (s: string): void => void process.stdout.write(`# ${s}\n`);
  const n = opts.quick ? 2000 : 10_000;
  const w = await buildWorld(n, opts.seed, log, undefined, 0.85);
  const server = await loadedServer(w);
  dropWorlds(w);
  const idOf = new Map(w.ips.map((ip, i) => [ip, i]));
  const hops = hopsOf(server.nodes, idOf, n);
  await server.close();
  const fitting = new FittingPaths(w.topo);
  const rnd = prng(opts.seed + 11);
  const pairs: [number, number, number][] = [];
  while (pairs.length < (opts.quick ? 200 : 400)) {
    const s = Math.floor(rnd() * n);
    const d = Math.floor(rnd() * n);
    const fewest = s === d ? -1 : fitting.fewestFittingHops(s, d);
    if (fewest > 0) pairs.push([s, d, fewest]);
  }
  const out: BenchResult[] = [];
  for (const share of SHARES) {
    const max = Math.round(share * HOP_COST);
    const stretch: number[] = [];
    let total = 0;
    let unmeasured = 0;
    const values: number[] = [];
    for (const [s, d, fewest] of pairs) {
      const r = cheapest(hops, s, d, max);
      if (!r) continue;
      stretch.push(r.hops / fewest);
      total += r.hops;
      unmeasured += r.unmeasured;
      values.push(...r.values);
    }
    values.sort((a, b) => a - b);
    const mean = stretch.reduce((a, b) => a + b, 0) / stretch.length;
    const chosen = max === MAX_QUALITY_PENALTY;
    out.push({
      name: `cost scale at ${n} nodes: quality penalty up to ${share} hop${chosen ? ' (the chosen scale)' : ''}: mean hop stretch`,
      value: mean,
      unit: '×',
      baseline: { name: 'target', value: STRETCH_TARGET, unit: '×' },
      ratio: STRETCH_TARGET / mean,
      target: chosen ? `<= ${STRETCH_TARGET}` : undefined,
      met: chosen ? mean <= STRETCH_TARGET : undefined,
      notes: `${pairs.length} pairs; hops over unmeasured links ${((unmeasured / total) * 100).toFixed(1)} %; median link value on the paths ${percentile(values, 50).toFixed(0)}; p99 stretch ${percentile(
        stretch.sort((a, b) => a - b),
        99,
      ).toFixed(2)}`,
    });
  }
  return out;
}
