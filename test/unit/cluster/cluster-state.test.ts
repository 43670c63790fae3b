import { expect } from 'chai';
import { Registry } from 'prom-client';
import { SeqWindow, newClusterView, noteOrigin } from '../../../src/cluster/cluster-state.ts';
import { ClusterMetrics } from '../../../src/cluster/metrics.ts';

describe('cluster actor state', () => {
  it('SeqWindow: an origin’s sequence number is a duplicate while among its newest 4096', () => {
    const w = new SeqWindow();
    for (let s = 1; s <= 4096; s++) expect(w.seenBefore('p1', s)).to.equal(false);
    expect(w.seenBefore('p1', 1), 'oldest still in the window').to.equal(true);
    expect(w.seenBefore('p1', 4096)).to.equal(true);
    expect(w.seenBefore('p2', 1), 'per origin').to.equal(false);
    expect(w.seenBefore('p1', 4097)).to.equal(false);
    expect(w.seenBefore('p1', 1), 'pushed out by 4097').to.equal(false);
    expect(w.seenBefore('p1', 2), 'pushed out by 1 again').to.equal(false);
    expect(w.seenBefore('p1', 4), 'still in the window (1, 2 pushed out 2, 3)').to.equal(true);
    // out of order and far ahead: the window is of the numbers seen, not a range
    expect(w.seenBefore('p1', 1_000_000)).to.equal(false);
    expect(w.seenBefore('p1', 1_000_000)).to.equal(true);
  });

  it('noteOrigin: counts entries per origin, keeps the newest acceptance, most recent last', () => {
    const v = newClusterView();
    noteOrigin(v, 'a', 10);
    noteOrigin(v, 'b', 5);
    noteOrigin(v, 'a', 7);
    expect([...v.origins]).to.deep.equal([
      ['b', { lastAcceptedAt: 5, entries: 1 }],
      ['a', { lastAcceptedAt: 10, entries: 2 }],
    ]);
  });

  it('the follower’s tallied counters are exact whenever the registry is read', async () => {
    const registry = new Registry();
    const m = new ClusterMetrics(registry, {
      backlog: () => 0,
      connected: () => true,
      caughtUp: () => true,
      writable: () => true,
    });
    const read = async (): Promise<Record<string, number>> => {
      const got = await registry.getSingleMetric('snode_cluster_applied_total')!.get();
      return Object.fromEntries(got.values.map((x) => [String(x.labels.result), x.value]));
    };
    m.applied.inc({ result: 'applied' });
    m.applied.inc({ result: 'applied' });
    m.applied.inc({ result: 'own' });
    expect(await read()).to.deep.equal({ applied: 2, own: 1 });
    m.applied.inc({ result: 'applied' });
    expect(await read()).to.deep.equal({ applied: 3, own: 1 });
    expect(await registry.metrics()).to.include('snode_cluster_applied_total{result="applied"} 3');
  });
});
