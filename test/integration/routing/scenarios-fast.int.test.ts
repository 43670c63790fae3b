/**
 * The route-server scenarios of scenarios-http.int.test.ts against `routing.mode: 'fast'` (subnode
 * actors, verification workers, worker tree replicas), with the tree replicas synced before
 * every step: once routes are current, every reply — `ann` stateHash and error, `gr` frames,
 * `/path`, `/ni`, `/walk`, `/dump` — is byte-identical to the original's. (Without the sync the
 * routes are those of the last swapped snapshot, up to `routing.swapIntervalMs` old, where the
 * original's are up to 3 s old: the reference mode keeps that timing.)
 *
 * The step checks below are those of scenarios-http.int.test.ts, which says:
 * Every scenario of test/fixtures/vectors/route_server.json through a running server: `ann` steps as
 * `POST /subnode` queries, `subnode_message` steps as the same dictionary over `POST /subnode`
 * with the route-header fields in headers, `getRoute` and `http` steps as GETs. Replies must be
 * byte-exact (the stubbed replication counts of `/` and `/ni` compared by presence, and the
 * deliberate 404 for unknown paths: docs/compatibility.md).
 */
import type { App } from '../../../src/app.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { startTestApp } from '../../helpers/app.ts';
import { checkScenarioStep } from '../../helpers/scenario-steps.ts';
import { loadVectors } from '../../helpers/vectors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Step = any;

const file = loadVectors('route_server.json');

describe('route server over HTTP, fast routing (route-server scenarios)', () => {
  for (const scenario of file.vectors as Step[]) {
    describe(scenario.name as string, () => {
      let app: App;
      const clock = new ManualClock(0);
      before(async () => {
        // parity with the original's replies: the fast engine under the original's route policy
        app = await startTestApp({
          privateKeyHex: scenario.self.private_hex,
          version: scenario.self.version,
          clock,
          config: { routing: { mode: 'fast', policy: 'original' } },
        });
      });
      after(async () => app.close());

      (scenario.steps as Step[]).forEach((step: Step, i: number) => {
        it(`step ${i}: ${step.action} ${step.note ? '— ' + String(step.note).slice(0, 60) : ''}`, async () => {
          clock.set(step.now_ms);
          // fast routing: answers come from the active snapshot; make it current first
          await app.server.syncRoutes();
          await checkScenarioStep(app, scenario, step, i);
        });
      });
    });
  }
});
