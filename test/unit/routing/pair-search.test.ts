/**
 * PairSearch: the bidirectional search plus the restricted replay gives, for every pair with a
 * finite-cost path, exactly the path the reference search `shortestPath(dst → src)` finds
 * (node-dijkstra tie-breaks); for every other pair it declines (undefined) so the caller runs
 * the full search.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { PairSearch } from '../../../src/routing/pair-search.ts';
import { inEdgesOf } from '../../../src/routing/snapshot-data.ts';
import { shortestPath } from '../../../src/routing/reference/shortest-path.ts';
import { pathFromTree, SptSolver } from '../../../src/routing/shortest-path-tree.ts';
import { csr } from '../../helpers/csr.ts';

/** Sum of the costs along a path src … dst (edges dst-wards are row entries of the next node). */
function finiteCost(rows: [number, number][][], path: number[]): boolean {
  let total = 0;
  for (let i = 1; i < path.length; i++) {
    const edge = rows[path[i]!]!.find(([v]) => v === path[i - 1]);
    total += edge![1];
  }
  return total < Infinity;
}

const arbCost = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(1, 2, 0.5, 0.25) },
  { weight: 1, arbitrary: fc.constant(Number.POSITIVE_INFINITY) },
  { weight: 2, arbitrary: fc.double({ min: 0.01, max: 100, noNaN: true }) },
  // values so close that sums in the two directions round differently
  { weight: 1, arbitrary: fc.constantFrom(0.1, 0.2, 0.3, 0.7, 1 / 3) },
);

const arbRows = (maxN: number) =>
  fc
    .integer({ min: 1, max: maxN })
    .chain((n) =>
      fc.array(
        fc.uniqueArray(fc.tuple(fc.nat(n - 1), arbCost), { selector: ([v]) => v, maxLength: 5 }),
        { minLength: n, maxLength: n },
      ),
    );

describe('pair-search', () => {
  it('gives the reference path for every pair with a finite path, declines every other pair', () => {
    fc.assert(
      fc.property(arbRows(16), (rows) => {
        const g = csr(rows);
        const search = new PairSearch();
        const adj = (k: number) => rows[k]!.map(([v, c]) => [v, c] as const);
        for (let dst = 0; dst < rows.length; dst++)
          for (let src = 0; src < rows.length; src++) {
            if (src === dst) continue;
            const ref = shortestPath(adj, dst, src)?.reverse() ?? null;
            const got = search.find(g, src, dst);
            if (ref && finiteCost(rows, ref)) expect(got, `${src} -> ${dst}`).to.deep.equal(ref);
            else expect(got, `${src} -> ${dst}`).to.equal(undefined);
          }
      }),
      { numRuns: 400, seed: 0x5eed06 },
    );
  });

  it('matches the full search on larger meshes full of equal-cost ties', () => {
    // meshes of 300–600 nodes with 2–5 mostly local peers and unit-ish costs: many equal-cost
    // paths, so the answer hangs on the tie-breaks
    fc.assert(
      fc.property(
        fc.integer({ min: 300, max: 600 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        (n, seed) => {
          let s = seed;
          const rnd = (): number => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
          const rows: [number, number][][] = Array.from({ length: n }, () => []);
          const has = (a: number, b: number): boolean => rows[a]!.some(([v]) => v === b);
          for (let a = 0; a < n; a++) {
            const want = 2 + Math.floor(rnd() * 3);
            for (let k = 0; k < want; k++) {
              const b = rnd() < 0.9 ? (a + 1 + Math.floor(rnd() * 8)) % n : Math.floor(rnd() * n);
              if (b === a || has(a, b)) continue;
              const c = (): number => [1, 1, 2, 0.5, 0.1, 0.3][Math.floor(rnd() * 6)]!;
              rows[a]!.push([b, c()]);
              rows[b]!.push([a, c()]);
            }
          }
          const g = csr(rows);
          const search = new PairSearch();
          const solver = new SptSolver();
          for (let q = 0; q < 60; q++) {
            const dst = Math.floor(rnd() * n);
            const src = Math.floor(rnd() * n);
            if (src === dst) continue;
            const want = pathFromTree(solver.solve(g, dst), src, dst);
            expect(search.find(g, src, dst), `${src} -> ${dst}`).to.deep.equal(want ?? undefined);
          }
        },
      ),
      { numRuns: 40, seed: 0x5eed07 },
    );
  });

  it('settles far fewer nodes than a search from the destination on a long line', () => {
    const n = 1000;
    const rows: [number, number][][] = Array.from({ length: n }, (_, i) => {
      const r: [number, number][] = [];
      if (i > 0) r.push([i - 1, 1]);
      if (i + 1 < n) r.push([i + 1, 1]);
      return r;
    });
    const g = csr(rows);
    const search = new PairSearch();
    expect(search.find(g, 500, 510)).to.deep.equal([
      500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510,
    ]);
    expect(search.lastSettled).to.be.lessThan(30);
  });

  it('builds the transpose of the rows', () => {
    const g = csr([
      [
        [1, 1],
        [2, 3],
      ],
      [[2, 5]],
      [[0, 7]],
    ]);
    const t = inEdgesOf(g);
    expect(Array.from(t.inOffsets)).to.deep.equal([0, 1, 2, 4]);
    expect(Array.from(t.inNbr)).to.deep.equal([2, 0, 0, 1]);
    expect(Array.from(t.inCost)).to.deep.equal([7, 1, 3, 5]);
  });
});
