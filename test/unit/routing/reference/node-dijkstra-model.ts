/** Test model: the reference the route engine's search must reproduce exactly. */

/**
 * node-dijkstra 2.2.1 `path()` written out literally: an array frontier re-sorted with
 * Array.prototype.sort after every set. The reference the heap must reproduce exactly.
 */
export function nodeDijkstraPath(
  g: ReadonlyMap<string, ReadonlyMap<string, number>>,
  start: string,
  goal: string,
): string[] | null {
  const explored = new Set<string>();
  const previous = new Map<string, string>();
  const keys = new Set<string>();
  const queue: { key: string; priority: number }[] = [];
  const set = (key: string, priority: number): void => {
    if (!keys.has(key)) {
      keys.add(key);
      queue.push({ key, priority });
    } else {
      for (const e of queue) if (e.key === key) e.priority = priority;
    }
    queue.sort((a, b) => a.priority - b.priority);
  };
  set(start, 0);
  const path: string[] = [];
  while (queue.length > 0) {
    const node = queue.shift()!;
    keys.delete(node.key);
    if (node.key === goal) {
      let k = node.key;
      while (previous.has(k)) {
        path.push(k);
        k = previous.get(k)!;
      }
      break;
    }
    explored.add(node.key);
    for (const [n, cost] of g.get(node.key) ?? new Map<string, number>()) {
      if (explored.has(n)) continue;
      if (!keys.has(n)) {
        previous.set(n, node.key);
        set(n, node.priority + cost);
        continue;
      }
      const fp = queue.find((e) => e.key === n)!.priority;
      if (node.priority + cost < fp) {
        previous.set(n, node.key);
        set(n, node.priority + cost);
      }
    }
  }
  if (!path.length) return null;
  return path.concat([start]).reverse();
}
