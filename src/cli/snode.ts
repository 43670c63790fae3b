/**
 * The `snode` command. Subcommands: serve, replay, ann, key, label, scheme.
 * Every command has --help; results are JSON on stdout; invalid input exits 1 with
 * {"error":{"code","message"}} on stdout.
 */
import { Command, CommanderError } from 'commander';
import { RsError } from '../errors.ts';
import { fail } from './output.ts';
import { registerProtocolCommands } from './protocol-commands.ts';
import { registerReplayCommand } from './replay-command.ts';
import { registerServeCommand } from './serve-command.ts';

const program = new Command();
program
  .name('snode')
  .description('cjdns route server (supernode) and protocol tools')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();
program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
// `snode replay … | head`: a closed stdout ends the command quietly instead of crashing on EPIPE
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

registerServeCommand(program);
registerReplayCommand(program);
registerProtocolCommands(program);

function walk(cmd: Command): void {
  cmd.exitOverride();
  for (const c of cmd.commands) walk(c);
}
walk(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') process.exit(0);
    fail(new RsError('RS_ERR_CLI_USAGE', e.message.replace(/^error: /, '')));
  }
  fail(e);
}
