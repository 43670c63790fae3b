/**
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

describe('route server over HTTP (route-server scenarios)', () => {
  for (const scenario of file.vectors as Step[]) {
    describe(scenario.name as string, () => {
      let app: App;
      const clock = new ManualClock(0);
      before(async () => {
        // the scenarios are the original's exact replies, with its 3 s graph cadence: the reference engine
        app = await startTestApp({
          privateKeyHex: scenario.self.private_hex,
          version: scenario.self.version,
          clock,
          config: { routing: { mode: 'reference', policy: 'original' } },
        });
      });
      after(async () => app.close());

      (scenario.steps as Step[]).forEach((step: Step, i: number) => {
        it(`step ${i}: ${step.action} ${step.note ? '— ' + String(step.note).slice(0, 60) : ''}`, async () => {
          clock.set(step.now_ms);
          await checkScenarioStep(app, scenario, step, i);
        });
      });
    });
  }
});
