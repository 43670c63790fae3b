/** `snode serve`: run the route server (embedded default: one process, no external service). */
import type { Command } from 'commander';
import { startApp } from '../app.ts';
import { loadConfig, type ConfigOverrides } from '../config.ts';
import { createLogger } from '../log.ts';
import { fail } from './output.ts';

interface ServeFlags {
  config?: string;
  host?: string;
  port?: string;
  peer?: string[];
  identityFile?: string;
  logLevel?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the route server: HTTP read API, POST /subnode, replication websocket')
    .option('-c, --config <file>', 'config file: JSON, or the original cjdnsnode config.js {connectCjdns, peers}')
    .option('--host <addr>', 'HTTP listen address (default :: = every interface; env SNODE_HTTP_HOST)')
    .option('-p, --port <n>', 'HTTP/websocket port (default 3333; env SNODE_HTTP_PORT)')
    .option('--peer <url>', 'pull announcements from this route server (repeatable; env SNODE_PEERS)', collect)
    .option('--identity-file <file>', 'where the generated identity is kept (default .snode/identity.json)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default info; env SNODE_LOG_LEVEL)')
    .addHelpText(
      'after',
      '\nEnvironment: SNODE_HTTP_HOST, SNODE_HTTP_PORT, SNODE_PEERS (comma separated), SNODE_LOG_LEVEL,\n' +
        'SNODE_IDENTITY_PRIVATE_KEY (64 hex), SNODE_IDENTITY_FILE, SNODE_IDENTITY_VERSION.\n' +
        'Precedence: flags > environment > config file > defaults. Logs are JSON lines on stderr.\n' +
        'SIGTERM/SIGINT close the listener, finish requests in flight, and exit 0.',
    )
    .action(async (flags: ServeFlags) => {
      let config;
      try {
        const overrides: ConfigOverrides = {};
        if (flags.host !== undefined || flags.port !== undefined) overrides.http = { host: flags.host, port: flags.port as unknown as number };
        if (flags.peer) overrides.peers = flags.peer;
        if (flags.identityFile) overrides.identity = { file: flags.identityFile };
        if (flags.logLevel) overrides.log = { level: flags.logLevel as 'info' };
        config = loadConfig({ file: flags.config, overrides });
      } catch (e) {
        fail(e);
      }
      const log = createLogger(config.log.level);
      let app;
      try {
        app = await startApp(config, log);
      } catch (e) {
        log.fatal({ event: 'snode:process:start_failed', err: e }, 'could not start');
        process.exit(1);
      }
      const shutdown = (signal: string): void => {
        log.info({ event: 'snode:process:stopping', signal }, 'shutting down');
        app.close().then(
          () => {
            log.info({ event: 'snode:process:stopped' }, 'stopped');
            process.exit(0);
          },
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
}
