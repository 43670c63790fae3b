/**
 * Shortest path with the exact tie-breaking of `node-dijkstra` 2.2.1 (docs/protocol.md §4.8 "Search").
 *
 * node-dijkstra keeps its frontier as an array re-sorted (stably, by priority) after every
 * insert and every priority decrease. Among entries of equal priority the array order is
 * therefore the order in which they were last set: an inserted entry goes last, and so does a
 * decreased one (everything of its new, lower priority was already ahead of it). A binary heap
 * keyed by (priority, counter of the last set) pops exactly the same sequence in O(log n).
 *
 * Priorities are doubles: Infinity + x = Infinity, and a frontier entry is only updated when the
 * new priority is strictly smaller. With every cost Infinity the search is a breadth-first
 * search in neighbour (insertion) order.
 *
 * Generic in the key type so a later integer-id / CSR graph can reuse it unchanged.
 */

/** Neighbours of a node with edge costs, in the order node-dijkstra iterates them. */
export type NeighboursOf<K> = (key: K) => Iterable<readonly [K, number]> | undefined;

/**
 * node-dijkstra `path(start, goal)`: the path `[start, …, goal]`, or null when `goal` is never
 * reached. Like node-dijkstra it also returns null when `start === goal` (empty path).
 */
export function shortestPath<K>(neighboursOf: NeighboursOf<K>, start: K, goal: K): K[] | null {
  const explored = new Set<K>();
  const previous = new Map<K, K>();
  const frontier = new Frontier<K>();
  frontier.set(start, 0);
  let found = false;
  while (frontier.size > 0) {
    const { key, priority } = frontier.pop();
    if (key === goal) {
      found = true;
      break;
    }
    explored.add(key);
    const neighbours = neighboursOf(key);
    if (!neighbours) continue;
    for (const [n, cost] of neighbours) {
      if (explored.has(n)) continue;
      const candidate = priority + cost;
      const current = frontier.priorityOf(n);
      if (current === undefined) {
        previous.set(n, key);
        frontier.set(n, candidate);
      } else if (candidate < current) {
        previous.set(n, key);
        frontier.set(n, candidate);
      }
    }
  }
  if (!found) return null;
  const reversed: K[] = [];
  let k = goal;
  while (previous.has(k)) {
    reversed.push(k);
    k = previous.get(k)!;
  }
  if (reversed.length === 0) return null;
  reversed.push(start);
  return reversed.reverse();
}

interface FrontierEntry<K> {
  readonly key: K;
  priority: number;
  /** counter value of the last insert or decrease: the tie-break */
  seq: number;
  index: number;
}

/** Min-heap on (priority, seq) with decrease-key. */
export class Frontier<K> {
  private readonly heap: FrontierEntry<K>[] = [];
  private readonly byKey = new Map<K, FrontierEntry<K>>();
  private counter = 0;

  get size(): number {
    return this.heap.length;
  }

  priorityOf(key: K): number | undefined {
    return this.byKey.get(key)?.priority;
  }

  /** Insert, or set a new priority (callers only ever lower it, as node-dijkstra's caller does). */
  set(key: K, priority: number): void {
    const existing = this.byKey.get(key);
    if (existing) {
      existing.priority = priority;
      existing.seq = this.counter++;
      this.siftUp(existing.index);
      this.siftDown(existing.index);
      return;
    }
    const entry: FrontierEntry<K> = { key, priority, seq: this.counter++, index: this.heap.length };
    this.heap.push(entry);
    this.byKey.set(key, entry);
    this.siftUp(entry.index);
  }

  pop(): { key: K; priority: number } {
    const top = this.heap[0];
    if (!top) throw new Error('Frontier.pop on an empty frontier');
    const last = this.heap.pop()!;
    if (last !== top) {
      last.index = 0;
      this.heap[0] = last;
      this.siftDown(0);
    }
    this.byKey.delete(top.key);
    return { key: top.key, priority: top.priority };
  }

  private less(a: FrontierEntry<K>, b: FrontierEntry<K>): boolean {
    return a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!this.less(e, parent)) break;
      h[i] = parent;
      parent.index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(h[r]!, h[l]!) ? r : l;
      const child = h[c]!;
      if (!this.less(child, e)) break;
      h[i] = child;
      child.index = i;
      i = c;
    }
    h[i] = e;
    e.index = i;
  }
}
