/** `snode replay <scenario.json>`: run a captured or vector scenario, one JSON line per step. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RsError } from '../errors.ts';
import { fail, printJson } from './output.ts';

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description(
      'replay a scenario (test/fixtures/vectors/route_server.json format) against a fresh in-memory server',
    )
    .argument('<scenario.json>', 'a file holding one scenario object, or a whole vectors file')
    .option('--id <id>', 'only the scenario with this id or name')
    .addHelpText(
      'after',
      '\nPrints one JSON line per step: {"id","step","action", …actual outcome under the step\'s own field names}.\n' +
        'A step that cannot be run gets {"error":{"code","message"}} on its line, and the exit status is 1.',
    )
    .action(async (file: string, opts: { id?: string }) => {
      try {
        let value: unknown;
        try {
          value = JSON.parse(readFileSync(file, 'utf8'));
        } catch (e) {
          throw new RsError('RS_ERR_INPUT_INVALID', `cannot read ${file}: ${(e as Error).message}`);
        }
        const { readScenarios, replayScenario } = await import('../server/replay.ts');
        const { scenarios, names } = readScenarios(value);
        const chosen = opts.id
          ? scenarios.filter((s) => s.id === opts.id || s.name === opts.id)
          : scenarios;
        if (chosen.length === 0)
          throw new RsError('RS_ERR_INPUT_INVALID', `no scenario ${opts.id ?? ''} in ${file}`);
        let stepFailed = false;
        for (const s of chosen) {
          for (const line of await replayScenario(s, names)) {
            if ('error' in line) stepFailed = true;
            printJson(line);
          }
        }
        // a step that could not be run (unknown action, missing field) is invalid input: exit 1
        if (stepFailed) process.exitCode = 1;
      } catch (e) {
        fail(e);
      }
    });
}
