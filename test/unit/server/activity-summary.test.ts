/**
 * The minute's summary line (`snode:activity:summary`, info): what grew since the previous line —
 * announcements by reply error and by source, queries by type, route lookups by result — and the
 * node and link counts now; the same figures as the /metrics counters.
 */
import { expect } from 'chai';
import { ManualClock } from '../../../src/lib/clock.ts';
import { hexToBytes } from '../../../src/protocol/hex.ts';
import { ActivitySummary } from '../../../src/server/activity-summary.ts';
import { identityFromPrivateKey } from '../../../src/server/identity.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import { captureLog } from '../../helpers/log-capture.ts';
import { loadVectors } from '../../helpers/vectors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
const scenario = (loadVectors('route_server.json').vectors as any[]).find(
  (s) => s.name === 'routes',
);

describe('activity summary log line', () => {
  it('reports the increments since the previous line, at info, and nothing twice', async () => {
    const clock = new ManualClock(0);
    const self = identityFromPrivateKey(
      hexToBytes(scenario.self.private_hex),
      scenario.self.version ?? 22,
    );
    const server = new RouteServer({ self, clock });
    const captured = captureLog('info');
    let now = 1_000_000;
    const summary = new ActivitySummary(
      {
        metrics: server.metrics,
        nodes: () => server.nodes.size,
        links: () => server.linkCount(),
        now: () => now,
      },
      captured.log,
    );
    try {
      await summary.start();
      const byResult: Record<string, number> = {};
      let lookups = 0;
      for (const step of scenario.steps) {
        clock.set(step.now_ms);
        if (step.action === 'ann') {
          const o = await server.submitAnnouncement(hexToBytes(step.ann_hex), 'node');
          byResult[o.error] = (byResult[o.error] ?? 0) + 1;
        } else if (step.action === 'getRoute') {
          server.getRoute(step.srcIp, step.dstIp);
          lookups++;
        }
      }
      expect(Object.keys(byResult).length, 'the scenario has announcements').to.be.greaterThan(0);
      now += 60_000;
      await summary.emit();
      const [line] = captured.events('snode:activity:summary');
      expect(line.level).to.equal(30);
      expect(line.periodSeconds).to.equal(60);
      expect(line.announcements).to.deep.equal(byResult);
      const total = Object.values(byResult).reduce((a, b) => a + b, 0);
      expect(line.announcementSources).to.deep.equal({ node: total });
      const found = line.routeLookups.found ?? 0;
      const none = line.routeLookups.none ?? 0;
      expect(found + none).to.equal(lookups);
      expect(line.nodes).to.equal(server.nodes.size);
      expect(line.links).to.equal(server.linkCount());
      expect(line.nodes).to.be.greaterThan(0);

      // a quiet minute: nothing grew, the counts stay
      now += 60_000;
      await summary.emit();
      const quiet = captured.events('snode:activity:summary')[1];
      expect(quiet.announcements).to.deep.equal({});
      expect(quiet.queries).to.deep.equal({});
      expect(quiet.routeLookups).to.deep.equal({});
      expect(quiet.nodes).to.equal(line.nodes);
    } finally {
      await server.close();
    }
  });
});
