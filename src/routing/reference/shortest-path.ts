/**
 * Shortest path with the exact tie-breaking of `node-dijkstra` 2.2.1 (docs/protocol.md §4.8 "Search").
 *
 * node-dijkstra keeps its frontier as an array re-sorted (stably, by priority) after every
 * insert and every priority decrease. Among entries of equal priority the array order is
 * therefore the order in which they were last set: an inserted entry goes last, and so does a
 * decreased one (everything of its new, lower priority was already ahead of it). A heap
 * keyed by (priority, counter of the last set) pops exactly the same sequence in O(log n)
 * (lib/heap.ts).
 *
 * Priorities are doubles: Infinity + x = Infinity, and a frontier entry is only updated when the
 * new priority is strictly smaller. With every cost Infinity the search is a breadth-first
 * search in neighbour (insertion) order.
 *
 * Generic in the key type (the reference engine searches by IPv6).
 */
import { MinHeap } from '../../lib/heap.ts';

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

/**
 * node-dijkstra's frontier: pops by priority, then by the order of the last insert or decrease
 * (the heap's seq), keys of any type (mapped to dense ids for the heap).
 */
export class Frontier<K> {
  private readonly heap = new MinHeap();
  /** the id of every key in the frontier */
  private readonly idOf = new Map<K, number>();
  /** the key of every id handed out */
  private readonly keyOf: K[] = [];

  get size(): number {
    return this.heap.size;
  }

  priorityOf(key: K): number | undefined {
    const id = this.idOf.get(key);
    return id === undefined ? undefined : this.heap.prios[this.heap.pos![id]!];
  }

  /** Insert, or set a new priority (callers only ever lower it, as node-dijkstra's caller does). */
  set(key: K, priority: number): void {
    const existing = this.idOf.get(key);
    if (existing !== undefined) {
      this.heap.decrease(existing, priority);
      return;
    }
    const id = this.keyOf.length;
    this.keyOf.push(key);
    this.idOf.set(key, id);
    this.heap.trackPositions(id + 1);
    this.heap.push(id, priority);
  }

  pop(): { key: K; priority: number } {
    const h = this.heap;
    if (h.size === 0) throw new Error('Frontier.pop on an empty frontier');
    const key = this.keyOf[h.items[0]!]!;
    const priority = h.prios[0]!;
    h.pop();
    this.idOf.delete(key);
    return { key, priority };
  }
}
