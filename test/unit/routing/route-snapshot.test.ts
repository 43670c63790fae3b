/**
 * RouteSnapshot's hot destinations: the threshold rises with the graph (a whole tree costs about
 * n/500 pair searches) and at most 8 trees are grown per snapshot.
 */
import { expect } from 'chai';
import { newGraphTables } from '../../../src/graph/id-tables.ts';
import { RouteSnapshot } from '../../../src/routing/route-snapshot.ts';
import { SptSolver } from '../../../src/routing/shortest-path-tree.ts';
import { csr } from '../../helpers/csr.ts';

/** A line 0 — 1 — … — n−1 with unit costs. */
function line(n: number): RouteSnapshot {
  const rows = Array.from({ length: n }, (_, i) => {
    const r: [number, number][] = [];
    if (i > 0) r.push([i - 1, 1]);
    if (i + 1 < n) r.push([i + 1, 1]);
    return r;
  });
  return new RouteSnapshot(csr(rows), newGraphTables(), new SptSolver(), {
    treeCacheSize: 64,
    hotDestinationQueries: 1,
  });
}

describe('route-snapshot', () => {
  it('makes a destination hot after max(hotDestinationQueries, n/500) queries', () => {
    const snap = line(1500); // threshold 3
    expect(snap.pathIds(10, 20)).to.have.length(11);
    expect(snap.pathIds(11, 20)).to.have.length(10);
    expect(snap.growTrees(1_000_000)).to.equal(false); // nothing queued yet
    expect(snap.cachedTrees).to.equal(0);
    expect(snap.pathIds(12, 20)).to.have.length(9);
    expect(snap.growTrees(1_000_000)).to.equal(false); // grown at once with that budget
    expect(snap.stats.treesGrown).to.equal(1);
    const hits = snap.stats.treeHits;
    expect(snap.pathIds(1400, 20)).to.have.length(1381);
    expect(snap.stats.treeHits).to.equal(hits + 1);
  });

  it('grows at most 8 trees per snapshot', () => {
    const snap = line(100); // threshold 1
    for (let d = 0; d < 20; d++) snap.pathIds((d + 50) % 100, d);
    while (snap.growTrees(1_000_000));
    expect(snap.stats.treesGrown).to.equal(8);
    expect(snap.cachedTrees).to.equal(8);
  });
});
