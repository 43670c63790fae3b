/**
 * Every route-server scenario (test/fixtures/vectors/route_server.json) through a running server
 * started on the given routing, each step checked byte-exactly by `checkScenarioStep`: one mocha
 * suite per scenario, one test per step. The engines' scenario tests differ only in the routing
 * and in what happens before each step.
 */
import type { App } from '../../src/app.ts';
import type { ConfigInput } from '../../src/config.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { startTestApp } from './app.ts';
import { checkScenarioStep, type ScenarioStep } from './scenario-steps.ts';
import { loadVectors } from './vectors.ts';

export interface ScenarioSuiteOptions {
  /** the `routing` section the server starts with */
  readonly routing: NonNullable<ConfigInput['routing']>;
  /** run before each step is checked (after the clock is set) */
  readonly beforeStep?: (app: App) => Promise<void>;
}

export function describeScenariosOverHttp(title: string, opts: ScenarioSuiteOptions): void {
  const file = loadVectors('route_server.json');
  describe(title, () => {
    for (const scenario of file.vectors as ScenarioStep[]) {
      describe(scenario.name as string, () => {
        let app: App;
        const clock = new ManualClock(0);
        before(async () => {
          app = await startTestApp({
            privateKeyHex: scenario.self.private_hex,
            version: scenario.self.version,
            clock,
            config: { routing: opts.routing },
          });
        });
        after(async () => app.close());

        (scenario.steps as ScenarioStep[]).forEach((step: ScenarioStep, i: number) => {
          it(`step ${i}: ${step.action} ${step.note ? '— ' + String(step.note).slice(0, 60) : ''}`, async () => {
            clock.set(step.now_ms);
            await opts.beforeStep?.(app);
            await checkScenarioStep(app, scenario, step, i);
          });
        });
      });
    }
  });
}
