/**
 * SptSolver: one full search towards a destination gives, for every source, the path the
 * reference search `shortestPath(dst → src)` (node-dijkstra tie-breaks) finds.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { shortestPath } from '../../../src/routing/reference/shortest-path.ts';
import {
  NONE,
  pathFromTree,
  SearchTree,
  SptSolver,
} from '../../../src/routing/shortest-path-tree.ts';
import { csr } from '../../helpers/csr.ts';

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
  it('a tree on a longer scratch array uses its first n entries only', () => {
    const g = csr([[[1, 1]], [[2, 1]], [[0, 1]]]);
    const scratch = new Int32Array(8).fill(5);
    const tree = new SearchTree(g, 0, undefined, scratch);
    expect(tree.prev).to.equal(scratch);
    expect(Array.from(scratch.subarray(0, 3))).to.deep.equal([NONE, NONE, NONE]);
    expect(tree.knows(1)).to.equal(false);
    expect(tree.knows(3)).to.equal(true); // beyond the graph: no node there
    new SptSolver().extend(tree, 1);
    expect(tree.knows(1)).to.equal(true);
    expect(pathFromTree(tree.prev, 1, 0)).to.deep.equal(
      pathFromTree(new SptSolver().solve(g, 0), 1, 0),
    );
    expect(Array.from(scratch.subarray(3))).to.deep.equal([5, 5, 5, 5, 5]);
    // too short a scratch array is not used
    expect(new SearchTree(g, 0, undefined, new Int32Array(2)).prev.length).to.equal(3);
  });

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

  describe('SptSolver#extend() (partial trees)', () => {
    it('stops at the source; settled nodes have their final predecessor; extending (resumed or re-run) gives the reference path', () => {
      const arbQueries = (n: number) =>
        fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { minLength: 1, maxLength: 40 });
      fc.assert(
        fc.property(
          arbRows.chain((rows) => fc.tuple(fc.constant(rows), arbQueries(rows.length))),
          ([rows, queries]) => {
            const g = csr(rows);
            const solver = new SptSolver();
            const full = new SptSolver();
            const adj = (k: number) => rows[k]!.map(([v, c]) => [v, c] as const);
            const trees = new Map<number, SearchTree>();
            for (const [dst, src] of queries) {
              let t = trees.get(dst);
              if (!t) trees.set(dst, (t = new SearchTree(g, dst)));
              // queries for other destinations in between force a re-run from dst
              if (!t.knows(src)) solver.extend(t, src);
              expect(t.knows(src)).to.equal(true);
              const ref = shortestPath(adj, dst, src);
              const got = pathFromTree(t.prev, src, dst);
              expect(got, `${src} -> ${dst}`).to.deep.equal(ref ? ref.reverse() : null);
              // every node settled so far (prev set) has the full tree's final predecessor
              const whole = full.solve(g, dst);
              for (let v = 0; v < rows.length; v++)
                if (t.prev[v] !== NONE || t.complete)
                  expect(t.prev[v], `prev[${v}]`).to.equal(whole[v]);
              // the search stopped at the source: nothing beyond it was settled
              if (!t.complete && src !== dst) {
                let settled = 0;
                for (let v = 0; v < rows.length; v++) if (t.prev[v] !== NONE) settled++;
                expect(settled).to.equal(t.settled);
              }
            }
          },
        ),
        { numRuns: 500, seed: 0x5eed05 },
      );
    });

    it('settles only the nodes popped before the source', () => {
      // a path 0 - 1 - 2 - 3 - 4 (unit costs): searching from 0 stops once 2 is popped
      const line = csr([
        [[1, 1]],
        [
          [0, 1],
          [2, 1],
        ],
        [
          [1, 1],
          [3, 1],
        ],
        [
          [2, 1],
          [4, 1],
        ],
        [[3, 1]],
      ]);
      const solver = new SptSolver();
      const t = new SearchTree(line, 0);
      solver.extend(t, 2);
      expect(solver.lastPops).to.equal(3);
      expect(t.complete).to.equal(false);
      expect(Array.from(t.prev)).to.deep.equal([0, 0, 1, NONE, NONE]);
      expect(t.knows(3)).to.equal(false);
      solver.extend(t, 4); // resumed
      expect(solver.lastPops).to.equal(2);
      expect(Array.from(t.prev)).to.deep.equal([0, 0, 1, 2, 3]);
      solver.extend(t, NONE);
      expect(t.complete).to.equal(true);
      expect(pathFromTree(t.prev, 4, 0)).to.deep.equal([4, 3, 2, 1, 0]);
    });
  });
});
