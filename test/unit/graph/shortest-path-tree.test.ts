/**
 * SptSolver: one full search towards a destination gives, for every source, the path the
 * reference search `shortestPath(dst → src)` (node-dijkstra tie-breaks) finds.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { shortestPath } from '../../../src/graph/shortest-path.ts';
import { NONE, pathFromTree, SptSolver } from '../../../src/graph/shortest-path-tree.ts';
import { alloc, type SnapshotData } from '../../../src/graph/snapshot-data.ts';

/** A CSR snapshot from adjacency rows (only the fields the search reads). */
function csr(rows: [number, number][][]): SnapshotData {
  const n = rows.length;
  const offsets = alloc.i32(n + 1);
  let e = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = e;
    e += rows[i]!.length;
  }
  offsets[n] = e;
  const nbr = alloc.i32(e);
  const cost = alloc.f64(e);
  let k = 0;
  for (const row of rows)
    for (const [v, c] of row) {
      nbr[k] = v;
      cost[k++] = c;
    }
  return {
    seq: 0,
    n,
    present: alloc.u8(n).fill(1),
    version: alloc.u32(n),
    schemeId: alloc.i32(n),
    offsets,
    nbr,
    cost,
    labelId: alloc.i32(e),
    form: alloc.u8(e),
    stats: { full: true, rowsRebuilt: n, edges: e, buildMs: 0 },
  };
}

const arbCost = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(1, 2, 0.5) },
  { weight: 2, arbitrary: fc.constant(Number.POSITIVE_INFINITY) },
  { weight: 2, arbitrary: fc.double({ min: 0.01, max: 100, noNaN: true }) },
);

const arbRows = fc
  .integer({ min: 1, max: 14 })
  .chain((n) =>
    fc.array(
      fc.uniqueArray(fc.tuple(fc.nat(n - 1), arbCost), { selector: ([v]) => v, maxLength: 5 }),
      { minLength: n, maxLength: n },
    ),
  );

describe('shortest-path-tree', () => {
  describe('SptSolver#solve()', () => {
    it('gives every source the reference path, ties and Infinity costs included', () => {
      fc.assert(
        fc.property(arbRows, (rows) => {
          const g = csr(rows);
          const solver = new SptSolver();
          const adj = (k: number) => rows[k]!.map(([v, c]) => [v, c] as const);
          for (let dst = 0; dst < rows.length; dst++) {
            const tree = solver.solve(g, dst);
            expect(tree[dst]).to.equal(dst);
            for (let src = 0; src < rows.length; src++) {
              const ref = shortestPath(adj, dst, src);
              const got = pathFromTree(tree, src, dst);
              expect(got, `${src} -> ${dst}`).to.deep.equal(ref ? ref.reverse() : null);
              if (src !== dst && !ref) expect(tree[src]).to.equal(NONE);
            }
          }
        }),
        { numRuns: 500, seed: 0x5eed04 },
      );
    });

    it('reuses its scratch arrays across graphs of different sizes', () => {
      const solver = new SptSolver();
      const big = csr(
        Array.from({ length: 50 }, (_, i) => (i + 1 < 50 ? [[i + 1, 1] as [number, number]] : [])),
      );
      const small = csr([[[1, 1]], [[0, 1]]]);
      expect(pathFromTree(solver.solve(big, 49), 0, 49)).to.equal(null); // edges only go up
      expect(pathFromTree(solver.solve(small, 1), 0, 1)).to.deep.equal([0, 1]);
      expect(pathFromTree(solver.solve(big, 0), 49, 0)).to.have.length(50);
    });
  });
});
