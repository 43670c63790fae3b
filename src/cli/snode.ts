/**
 * The `snode` command. Subcommands: serve, replay, ann, key, keygen, label, scheme.
 * Every command has --help. Results are JSON on stdout and nothing else goes there; errors are
 * `{"error":{"code","message"}}` lines on stderr with exit status 1. `snode` alone prints the
 * help on stderr and exits 1 (it did nothing the caller asked for).
 */
import { Command, CommanderError } from 'commander';
import { RsError } from '../errors.ts';
import { VERSION } from '../lib/version.ts';
import { registerKeyCommands } from './key-commands.ts';
import { fail } from './output.ts';
import { registerProtocolCommands } from './protocol-commands.ts';
import { registerReplayCommand } from './replay-command.ts';
import { registerServeCommand } from './serve-command.ts';

const program = new Command();
program
  .name('snode')
  .description('cjdns route server (supernode) and protocol tools')
  .version(VERSION)
  .exitOverride();
// commander's own error text is replaced by the JSON error line; help asked for goes to stdout,
// help shown because a command was incomplete goes to stderr
const output = { writeErr: (s: string) => process.stderr.write(s), outputError: () => undefined };
program.configureOutput(output);
// `snode replay … | head`: a closed stdout ends the command quietly instead of crashing on EPIPE
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

registerServeCommand(program);
registerReplayCommand(program);
registerProtocolCommands(program);
registerKeyCommands(program);

function walk(cmd: Command): void {
  cmd.exitOverride().configureOutput(output);
  for (const c of cmd.commands) walk(c);
}
walk(program);

if (process.argv.length <= 2) {
  program.outputHelp({ error: true });
  process.exit(1);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help, --version (0); `snode ann` without its subcommand: the help on stderr (1)
    if (
      e.code === 'commander.helpDisplayed' ||
      e.code === 'commander.version' ||
      e.code === 'commander.help'
    )
      process.exit(e.exitCode);
    fail(
      new RsError(
        'RS_ERR_CLI_USAGE',
        `${e.message.replace(/^error: /, '')} (add --help for the usage)`,
      ),
    );
  }
  fail(e);
}
