/**
 * The first layout of the map, computed in the page in O(nodes + links) so that 50k nodes are
 * drawn at once: each connected component is laid out radially around its best-connected node
 * (BFS depth = ring, each subtree gets an angle proportional to its size), rings widened into
 * bands by a per-node offset so that nodes do not sit on one circle; smaller components are
 * placed on a grid beside the largest. ForceAtlas2 may refine it afterwards (refine.ts), in a
 * worker, starting from these positions.
 */

export interface Layout {
  readonly x: Float32Array;
  readonly y: Float32Array;
}

/** Adjacency of an undirected graph as CSR, from its edge list (pairs a, b). */
export function adjacencyOf(
  n: number,
  edges: Uint32Array,
): { offsets: Uint32Array; nbr: Uint32Array } {
  const m = edges.length / 2;
  const offsets = new Uint32Array(n + 1);
  for (let e = 0; e < m; e++) {
    offsets[edges[2 * e]! + 1]!++;
    offsets[edges[2 * e + 1]! + 1]!++;
  }
  for (let i = 0; i < n; i++) offsets[i + 1]! += offsets[i]!;
  const next = offsets.slice(0, n);
  const nbr = new Uint32Array(2 * m);
  for (let e = 0; e < m; e++) {
    const a = edges[2 * e]!;
    const b = edges[2 * e + 1]!;
    nbr[next[a]!++] = b;
    nbr[next[b]!++] = a;
  }
  return { offsets, nbr };
}

/** A fixed pseudo-random number in [0, 1) for node i (spreads rings into bands). */
function jitter(i: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

export function radialLayout(n: number, offsets: Uint32Array, nbr: Uint32Array): Layout {
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  const parent = new Int32Array(n).fill(-1);
  const depth = new Uint32Array(n);
  const weight = new Float64Array(n);
  const order = new Uint32Array(n); // BFS order, component after component
  const seen = new Uint8Array(n);
  const degree = (i: number): number => offsets[i + 1]! - offsets[i]!;

  // nodes by degree, highest first: each component's root is its best-connected node
  const byDegree = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => degree(b) - degree(a) || a - b,
  );
  const components: { start: number; end: number; maxDepth: number }[] = [];
  let tail = 0;
  for (const root of byDegree) {
    if (seen[root]) continue;
    const start = tail;
    seen[root] = 1;
    order[tail++] = root;
    let maxDepth = 0;
    for (let head = start; head < tail; head++) {
      const v = order[head]!;
      for (let k = offsets[v]!; k < offsets[v + 1]!; k++) {
        const w = nbr[k]!;
        if (seen[w]) continue;
        seen[w] = 1;
        parent[w] = v;
        depth[w] = depth[v]! + 1;
        maxDepth = Math.max(maxDepth, depth[w]!);
        order[tail++] = w;
      }
    }
    components.push({ start, end: tail, maxDepth });
  }

  // subtree sizes, leaves first
  for (let k = n - 1; k >= 0; k--) {
    const v = order[k]!;
    weight[v]! += 1;
    if (parent[v]! >= 0) weight[parent[v]!]! += weight[v]!;
  }

  // angles: each node's range split among its children in BFS order
  const from = new Float64Array(n);
  const span = new Float64Array(n);
  const cursor = new Float64Array(n);
  for (const c of components) {
    const root = order[c.start]!;
    from[root] = 0;
    span[root] = 2 * Math.PI;
    cursor[root] = 0;
    for (let k = c.start; k < c.end; k++) {
      const v = order[k]!;
      if (parent[v]! >= 0) {
        const p = parent[v]!;
        from[v] = from[p]! + cursor[p]!;
        span[v] = (span[p]! * weight[v]!) / Math.max(1, weight[p]! - 1);
        cursor[p]! += span[v]!;
      }
    }
  }

  // place each component: radius grows with depth, a band per ring
  const sizes = components.map((c) => c.end - c.start);
  const scaleOf = (size: number): number => Math.sqrt(size);
  let gridX = 0;
  let gridY = 0;
  let rowHeight = 0;
  const mainRadius = components.length > 0 ? scaleOf(sizes[0]!) : 1;
  for (let ci = 0; ci < components.length; ci++) {
    const c = components[ci]!;
    const radius = scaleOf(sizes[ci]!);
    const step = radius / Math.max(1, c.maxDepth);
    let cx = 0;
    let cy = 0;
    if (ci > 0) {
      // smaller components in rows to the right of the largest
      const cell = 2.2 * radius;
      if (gridY + cell > 2 * mainRadius && gridX > 0) {
        gridY = 0;
        gridX += rowHeight;
        rowHeight = 0;
      }
      cx = 1.3 * mainRadius + gridX + cell / 2;
      cy = -mainRadius + gridY + cell / 2;
      gridY += cell;
      rowHeight = Math.max(rowHeight, cell);
    }
    for (let k = c.start; k < c.end; k++) {
      const v = order[k]!;
      const r = depth[v] === 0 ? 0 : (depth[v]! - 0.5 + 0.8 * jitter(v)) * step;
      const angle = from[v]! + span[v]! / 2;
      x[v] = cx + r * Math.cos(angle);
      y[v] = cy + r * Math.sin(angle);
    }
  }
  return { x, y };
}
