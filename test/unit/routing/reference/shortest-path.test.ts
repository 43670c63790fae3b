import { expect } from 'chai';
import fc from 'fast-check';
import { Frontier, shortestPath } from '../../../../src/routing/reference/shortest-path.ts';
import { nodeDijkstraPath } from './node-dijkstra-model.ts';

type Graph = Map<string, Map<string, number>>;

function graph(edges: Record<string, Record<string, number>>): Graph {
  return new Map(Object.entries(edges).map(([k, v]) => [k, new Map(Object.entries(v))]));
}

const search = (g: Graph, start: string, goal: string): string[] | null =>
  shortestPath((k: string) => g.get(k), start, goal);

function pathCost(g: Graph, p: string[]): number {
  let c = 0;
  for (let i = 1; i < p.length; i++) c += g.get(p[i - 1]!)!.get(p[i]!)!;
  return c;
}

/** Bellman-Ford distances from start (for the optimality check). */
function distances(g: Graph, start: string): Map<string, number> {
  const d = new Map<string, number>([[start, 0]]);
  for (let round = 0; round < g.size; round++) {
    for (const [u, es] of g) {
      const du = d.get(u);
      if (du === undefined) continue;
      for (const [v, c] of es) if (!(d.get(v)! <= du + c)) d.set(v, du + c);
    }
  }
  return d;
}

const arbGraph = fc
  .record({
    n: fc.integer({ min: 2, max: 9 }),
    edges: fc.array(
      fc.tuple(
        fc.nat(8),
        fc.nat(8),
        fc.oneof(
          fc.constant(Infinity),
          fc.constantFrom(0.5, 1, 2, 3),
          fc.double({ min: 0.001, max: 10, noNaN: true }),
        ),
      ),
      { maxLength: 40 },
    ),
  })
  .map(({ n, edges }) => {
    const g: Graph = new Map();
    for (let i = 0; i < n; i++) g.set(`n${i}`, new Map());
    for (const [a, b, c] of edges) {
      if (a >= n || b >= n || a === b) continue;
      g.get(`n${a}`)!.set(`n${b}`, c);
    }
    return { g, n };
  });

describe('shortest-path', () => {
  describe('#shortestPath()', () => {
    it('finds the cheapest path', () => {
      const g = graph({ a: { b: 1, c: 5 }, b: { c: 1 }, c: {} });
      expect(search(g, 'a', 'c')).to.deep.equal(['a', 'b', 'c']);
    });

    it('returns null when the goal is unreachable or unknown, and for start = goal', () => {
      const g = graph({ a: { b: 1 }, b: {}, c: {} });
      expect(search(g, 'a', 'c')).to.equal(null);
      expect(search(g, 'a', 'zz')).to.equal(null);
      expect(search(g, 'zz', 'a')).to.equal(null);
      expect(search(g, 'a', 'a')).to.equal(null);
    });

    it('breaks equal-cost ties by neighbour insertion order', () => {
      const g = graph({ s: { x: 1, y: 1 }, x: { t: 1 }, y: { t: 1 }, t: {} });
      expect(search(g, 's', 't')).to.deep.equal(['s', 'x', 't']);
      const h = graph({ s: { y: 1, x: 1 }, x: { t: 1 }, y: { t: 1 }, t: {} });
      expect(search(h, 's', 't')).to.deep.equal(['s', 'y', 't']);
    });

    it('degenerates to breadth-first search in insertion order when every cost is Infinity', () => {
      const I = Infinity;
      const g = graph({ s: { a: I, b: I }, a: { c: I }, b: { t: I }, c: { t: I }, t: {} });
      // BFS: s, a, b, c (from a), t (from b): the first parent to insert t wins
      expect(search(g, 's', 't')).to.deep.equal(['s', 'b', 't']);
      // a longer path through the earlier neighbour loses to a shorter one
      const h = graph({ s: { a: I, t: I }, a: { t: I }, t: {} });
      expect(search(h, 's', 't')).to.deep.equal(['s', 't']);
    });

    it('puts an entry whose priority was lowered after entries already at that priority', () => {
      // after s: a=1, b=1, c=3. Popping a lowers c to 2, then popping b inserts d at 2:
      // c was set last before d, so c is taken first and t is reached through c.
      const g = graph({
        s: { a: 1, b: 1, c: 3 },
        a: { c: 1 },
        b: { d: 1 },
        c: { t: 1 },
        d: { t: 1 },
        t: {},
      });
      expect(search(g, 's', 't')).to.deep.equal(['s', 'a', 'c', 't']);
      // b before a: d is inserted at 2 first, then c is lowered to 2 and goes after d
      // (a heap keeping c's original insertion order would take c first)
      const h = graph({
        s: { b: 1, a: 1, c: 3 },
        a: { c: 1 },
        b: { d: 1 },
        c: { t: 1 },
        d: { t: 1 },
        t: {},
      });
      expect(search(h, 's', 't')).to.deep.equal(['s', 'b', 'd', 't']);
    });

    it('only updates on a strictly smaller priority', () => {
      const g = graph({ s: { a: 1, b: 2 }, a: { b: 1, t: 5 }, b: { t: 1 }, t: {} });
      // b reached at 2 directly and at 2 through a: keeps the direct parent
      expect(search(g, 's', 't')).to.deep.equal(['s', 'b', 't']);
    });

    it('matches a literal node-dijkstra 2.2.1 on random graphs (equal, Infinity and fractional costs)', () => {
      fc.assert(
        fc.property(arbGraph, fc.nat(8), fc.nat(8), ({ g, n }, s, t) => {
          const start = `n${s % n}`;
          const goal = `n${t % n}`;
          expect(search(g, start, goal)).to.deep.equal(nodeDijkstraPath(g, start, goal));
        }),
        { numRuns: 2000 },
      );
    });

    it('returns a path of minimal cost whenever one exists (finite costs)', () => {
      fc.assert(
        fc.property(arbGraph, fc.nat(8), fc.nat(8), ({ g, n }, s, t) => {
          for (const es of g.values()) for (const [k, c] of es) if (c === Infinity) es.set(k, 7);
          const start = `n${s % n}`;
          const goal = `n${t % n}`;
          const p = search(g, start, goal);
          const d = distances(g, start).get(goal);
          if (start === goal || d === undefined) expect(p).to.equal(null);
          else expect(pathCost(g, p!)).to.be.closeTo(d, 1e-9);
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('Frontier', () => {
    it('pops by priority, then by the order of the last set', () => {
      const f = new Frontier<string>();
      f.set('a', 5);
      f.set('b', 3);
      f.set('c', 5);
      f.set('d', 3);
      f.set('a', 3); // lowered: goes after b and d
      expect([f.pop(), f.pop(), f.pop(), f.pop()].map((e) => e.key)).to.deep.equal([
        'b',
        'd',
        'a',
        'c',
      ]);
      expect(f.size).to.equal(0);
    });

    it('treats Infinity priorities as equal and keeps them in insertion order', () => {
      const f = new Frontier<string>();
      for (const k of ['x', 'y', 'z']) f.set(k, Infinity);
      f.set('w', 1);
      expect([f.pop(), f.pop(), f.pop(), f.pop()].map((e) => e.key)).to.deep.equal([
        'w',
        'x',
        'y',
        'z',
      ]);
    });
  });
});
