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
import { pathFromTree, SearchTree, SptSolver } from '../../../src/routing/shortest-path-tree.ts';
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

  it('one search reused across graphs of growing and shrinking sizes answers as a new one', () => {
    // the replay's sub-graph, tree and tie order are scratch kept between finds: what one find
    // leaves there must never show in the next one, whatever its size
    fc.assert(
      fc.property(
        fc.array(arbRows(24), { minLength: 2, maxLength: 6 }),
        fc.boolean(),
        (graphs, withTies) => {
          const reused = new PairSearch();
          for (const rows of graphs) {
            const n = rows.length;
            const g = csr(
              rows.map((r) => r.map(([v, c]) => [v, withTies && c === Infinity ? 3 : c])),
            );
            const ties = withTies
              ? {
                  keys: Float64Array.from(rows, (_, i) => (i * 5) % 3),
                  before: (a: number, b: number) => a > b,
                }
              : undefined;
            for (let dst = 0; dst < n; dst++)
              for (let src = 0; src < n; src++) {
                if (src === dst) continue;
                const want = new PairSearch().find(g, src, dst, ties);
                expect(reused.find(g, src, dst, ties), `${src} -> ${dst}`).to.deep.equal(want);
              }
          }
        },
      ),
      { numRuns: 150, seed: 0x5eed08 },
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
    expect(Array.from(t.inEdge)).to.deep.equal([3, 0, 1, 2]);
  });

  describe('with a tie order (policy best: integer costs)', () => {
    const arbIntRows = (maxN: number) =>
      fc.integer({ min: 1, max: maxN }).chain((n) =>
        fc.array(
          fc.array(fc.tuple(fc.nat(n - 1), fc.constantFrom(100, 100, 150, 200)), {
            maxLength: 4,
          }),
          { minLength: n, maxLength: n },
        ),
      );
    /** node order: a permutation of the ids (as addresses order nodes, not ids) */
    const tiesOf = (rank: number[]) => ({
      keys: Float64Array.from(rank),
      before: (a: number, b: number) => rank[a]! < rank[b]!,
    });

    it('gives the first cheapest path in node order, null without a path, and a consistent bound', function () {
      this.timeout(120_000);
      fc.assert(
        fc.property(arbIntRows(14), fc.nat(), (rows, seed) => {
          const n = rows.length;
          const rank = Array.from({ length: n }, (_, i) => (i * 7919 + seed) % n);
          const ties = tiesOf(rank.map((r, i) => r * n + i));
          const g = csr(rows);
          const search = new PairSearch();
          const solver = new SptSolver();
          for (let dst = 0; dst < n; dst++) {
            // reference: exact distances to dst (Bellman-Ford over the rows)
            const d = new Array<number>(n).fill(Infinity);
            d[dst] = 0;
            for (let it = 0; it < n; it++)
              for (let u = 0; u < n; u++)
                for (const [v, c] of rows[u]!) if (d[u]! + c < d[v]!) d[v] = d[u]! + c;
            for (let src = 0; src < n; src++) {
              if (src === dst) continue;
              const got = search.find(g, src, dst, ties);
              if (d[src] === Infinity) {
                expect(got).to.equal(null);
                continue;
              }
              // the first cheapest path hop by hop in node order: greedy over tight neighbours
              const want = [src];
              for (let x = src; x !== dst;) {
                let next = -1;
                for (let u = 0; u < n; u++)
                  for (const [v, c] of rows[u]!)
                    if (v === x && d[u]! + c === d[x] && (next < 0 || ties.before(u, next)))
                      next = u;
                want.push(next);
                x = next;
              }
              expect(got, `${src} -> ${dst}`).to.deep.equal(want);
              // the bound: never above the distance, and consistent along every edge
              expect(search.ranLast(g, src, dst)).to.equal(true);
              const h = search.costToDst();
              for (let v = 0; v < n; v++) {
                expect(h(v)).to.be.at.most(d[v]!);
                for (const [u, c] of rows[v]!) expect(h(u)).to.be.at.most(c + h(v));
              }
              // the tree with the same order agrees
              const tree = new SearchTree(g, dst, ties);
              solver.extend(tree, src);
              expect(pathFromTree(tree.prev, src, dst)).to.deep.equal(want);
            }
          }
        }),
        { numRuns: 60, seed: 0xbe57_21 },
      );
    });
  });
});
