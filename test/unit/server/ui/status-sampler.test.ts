/**
 * The map page's live status (src/server/ui/status-sampler.ts): counters of the metrics registry
 * turned into per-second rates between samples, grouped by result, source and query type; the
 * gauges and the replication, cjdns and cluster parts passed through in the page's shape.
 */
import { expect } from 'chai';
import type { PeerInfo } from '../../../../src/replication/peer-info.ts';
import { ServerMetrics } from '../../../../src/server/metrics.ts';
import {
  ratesOf,
  StatusSampler,
  type StatusSources,
} from '../../../../src/server/ui/status-sampler.ts';

describe('map status sampler', () => {
  let metrics: ServerMetrics;
  let mono: number;
  let peers: PeerInfo;
  let sampler: StatusSampler;

  beforeEach(() => {
    metrics = new ServerMetrics({ nodes: () => 0, links: () => 0, storeSize: () => 0 });
    mono = 1000;
    peers = { peers: [], announcements: 12, annByHashLen: 12 };
    const sources: StatusSources = {
      counters: metrics,
      now: () => 1_700_000_000_000,
      monotonic: () => mono,
      self: () => ({ key: 'k.k', ipv6: 'fc00::1', version: 22 }),
      readiness: () => ({
        ready: false,
        checks: { http: { ok: true }, 'peer ws://x': { ok: false, detail: 'syncing' } },
      }),
      nodes: () => 3,
      links: () => 4,
      peerInfo: () => peers,
      cjdns: () => null,
      cluster: () => ({
        bus: 'memory',
        connected: true,
        ready: true,
        backlog: 0,
        lagMs: { last: undefined, p99: undefined },
        processes: [],
      }),
    };
    sampler = new StatusSampler(sources);
  });

  it('turns counters into rates between two samples', async () => {
    metrics.announcements.inc({ source: 'node', result: 'none' }, 5);
    metrics.announcements.inc({ source: 'gossip', result: 'none' }, 2);
    metrics.announcements.inc({ source: 'node', result: 'wrong_snode' }, 1);
    metrics.queries.inc({ type: 'gr' }, 10);
    const first = await sampler.sample();
    expect(first.intervalSec).to.equal(0);
    expect(first.announcements).to.deep.equal({
      perSecond: { none: 0, wrong_snode: 0 },
      total: { none: 7, wrong_snode: 1 },
    });
    expect(first.announcementSources.total).to.deep.equal({ node: 6, gossip: 2 });

    metrics.announcements.inc({ source: 'node', result: 'none' }, 20);
    metrics.queries.inc({ type: 'gr' }, 4);
    metrics.queries.inc({ type: 'pn' }, 2);
    metrics.routeLookups.inc({ result: 'found' }, 8);
    mono += 2000;
    const second = await sampler.sample();
    expect(second.intervalSec).to.equal(2);
    expect(second.announcements.perSecond).to.deep.equal({ none: 10, wrong_snode: 0 });
    expect(second.announcements.total).to.deep.equal({ none: 27, wrong_snode: 1 });
    expect(second.announcementSources.perSecond).to.deep.equal({ node: 10, gossip: 0 });
    expect(second.queries.perSecond).to.deep.equal({ gr: 2, pn: 1 });
    expect(second.routeLookups).to.deep.equal({ perSecond: { found: 4 }, total: { found: 8 } });
  });

  it('shows the gauges, readiness, peers with their sync progress, cjdns and cluster', async () => {
    peers = {
      peers: [
        { addr: 'ws://a', outstandingRequests: 1, msgsOnWire: 2, msgQueue: 3 },
        Object.assign(
          { addr: 'ws://b', outstandingRequests: 0, msgsOnWire: 0, msgQueue: 0 },
          {
            sync: {
              url: 'ws://b',
              state: 'syncing',
              advertised: 100,
              present: 10,
              needed: 90,
              elsewhere: 0,
              fetched: 45,
              failed: 0,
              progress: 0.5,
              startedAt: 1,
              settledAt: undefined,
              detail: undefined,
            },
          },
        ),
      ],
      announcements: 12,
      annByHashLen: 12,
    };
    const s = await sampler.sample();
    expect(s).to.include({
      time: 1_700_000_000_000,
      ready: false,
      nodes: 3,
      links: 4,
      cjdns: null,
    });
    expect(s.checks['peer ws://x']).to.deep.equal({ ok: false, detail: 'syncing' });
    expect(s.replication).to.deep.equal({
      storedAnnouncements: 12,
      peers: [
        { addr: 'ws://a', outstandingRequests: 1, msgsOnWire: 2, msgQueue: 3 },
        {
          addr: 'ws://b',
          outstandingRequests: 0,
          msgsOnWire: 0,
          msgQueue: 0,
          sync: {
            state: 'syncing',
            advertised: 100,
            needed: 90,
            fetched: 45,
            failed: 0,
            progress: 0.5,
          },
        },
      ],
    });
    expect(s.cluster.bus).to.equal('memory');
  });

  it('counts a counter that went backwards from zero', () => {
    const r = ratesOf(new Map([['none', 3]]), new Map([['none', 10]]), 1);
    expect(r.perSecond.none).to.equal(3);
  });
});
