/**
 * `snode serve`'s default engine over HTTP: announcements through the verification pool and
 * the subnode actors, routes from the tree replicas (worker threads), the routing metrics on
 * /metrics, refusal with 503 under back-pressure, and a clean shutdown of workers and actors.
 */
import { expect } from 'chai';
import type { App } from '../../../src/app.ts';
import { bencodeEncode } from '../../../src/protocol/bencode.ts';
import { hexToBytes } from '../../../src/protocol/hex.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { startTestApp } from '../../helpers/app.ts';
import { httpRequest } from '../../helpers/http.ts';
import { sampleValue } from '../../helpers/metrics.ts';
import { referenceServer } from '../../helpers/reference-server.ts';
import { announcerHeaders, checkScenarioStep } from '../../helpers/scenario-steps.ts';
import { loadVectors } from '../../helpers/vectors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Step = any;
const routes = (loadVectors('route_server.json').vectors as Step[]).find(
  (s) => s.name === 'routes',
);

describe('fast routing over HTTP', () => {
  let app: App;
  const clock = new ManualClock(0);
  before(async () => {
    app = await startTestApp({
      privateKeyHex: routes.self.private_hex,
      version: routes.self.version,
      clock,
    });
  });
  after(async () => app.close());

  it('runs the fast engine with a verification pool and worker replicas, policy best', () => {
    const r = app.server.routing!;
    expect(r).to.not.equal(undefined);
    expect(r.opts.tree.policy).to.equal('best');
    expect(r.pool?.size).to.be.greaterThan(0);
    expect(r.opts.tree.backend).to.equal('worker');
  });

  it('accepts the scenario announcements over POST /subnode and routes once the trees swapped', async () => {
    // the routes of the production policy (best): the reference engine's best on the same records
    const oracle = referenceServer(routes.self.ipv6, clock, 'best');
    for (const [i, step] of (routes.steps as Step[]).entries()) {
      if (step.action !== 'ann' && step.action !== 'getRoute') continue;
      clock.set(step.now_ms);
      if (step.action === 'ann')
        await oracle.server.submitAnnouncement(hexToBytes(step.ann_hex), 'node');
      else oracle.server.reference!.routes.forceRebuild();
      await checkScenarioStep(app, routes, step, i, {
        path: (src, dst) => oracle.server.views.path(src, dst),
      });
    }
    await oracle.server.close();
  });

  it('reports the routing metrics on /metrics', async () => {
    const res = await httpRequest(app.adminAddress()!.port, '/metrics');
    const text = res.body.toString();
    for (const m of [
      'snode_tree_swaps_total',
      'snode_tree_updates_replayed_total',
      'snode_route_snapshot_age_seconds',
      'snode_route_tree_cache_total',
      'snode_verify_pool_queue_depth',
      'snode_mailbox_rejections_total',
      'snode_subnode_actors',
      'snode_event_loop_lag_p99_seconds',
    ])
      expect(text, m).to.contain(m);
    expect(sampleValue(text, 'snode_tree_swaps_total')).to.be.greaterThan(0);
  });

  describe('back-pressure', () => {
    let small: App;
    before(async () => {
      small = await startTestApp({
        privateKeyHex: routes.self.private_hex,
        version: routes.self.version,
        clock,
        config: { routing: { mode: 'fast', subnodeMailbox: 1 } },
      });
    });
    after(async () => small.close());

    it('answers 503 when a node floods its actor beyond the mailbox bound', async () => {
      const anns = (routes.steps as Step[]).filter((st) => st.action === 'ann');
      clock.set(anns[anns.length - 1].now_ms);
      const port = small.address().port;
      const statuses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          httpRequest(port, '/subnode', {
            method: 'POST',
            body: bencodeEncode({
              sq: 'ann',
              ann: hexToBytes(anns[0].ann_hex),
              txid: Uint8Array.of(i),
              p: 22,
            }),
            headers: announcerHeaders(hexToBytes(anns[0].ann_hex)),
          }).then((r) => r.status),
        ),
      );
      expect(statuses).to.include(200);
      expect(statuses).to.include(503);
      expect(small.server.routing!.directory.stats.rejected).to.equal(
        statuses.filter((x) => x === 503).length,
      );
    });
  });
});
