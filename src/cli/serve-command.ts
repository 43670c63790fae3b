/** `snode serve`: run the route server (embedded default: one process, no external service). */
import type { Command } from 'commander';
import type { ConfigOverrides } from '../config.ts';
import type { ConfigLocation, ConfigWarning } from '../config-file.ts';
import { fail } from './output.ts';

interface ServeFlags {
  config?: string;
  host?: string;
  port?: string;
  adminHost?: string;
  adminPort?: string;
  peer?: string[];
  allowPeer?: string[];
  identityFile?: string;
  logLevel?: string;
  cjdns?: boolean;
  cjdnsAdmin?: string;
  cjdnsPassword?: string;
  cjdnsAdminFile?: string;
  redis?: string;
  forwardSubnode?: string;
  storePath?: string;
  storeMode?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the route server: HTTP read API, POST /subnode, replication websocket')
    .option(
      '-c, --config <file>',
      "config file: JSON (the Rust port's config.json too), or the original cjdnsnode's config.js, evaluated " +
        '(default: ./config.json, else ./config.js, else /etc/snode/config.json; docs/configuration.md)',
    )
    .option(
      '--host <addr>',
      "public HTTP listen address (default auto = 127.0.0.1, plus the cjdns node's address with --cjdns; :: = every interface; env SNODE_HTTP_HOST)",
    )
    .option('-p, --port <n>', 'HTTP/websocket port (default 3333; env SNODE_HTTP_PORT)')
    .option(
      '--admin-host <addr>',
      'admin listener (/status, /metrics, /debugnode) address (default 127.0.0.1; env SNODE_ADMIN_HOST)',
    )
    .option('--admin-port <n>', 'admin listener port (default 3335; env SNODE_ADMIN_PORT)')
    .option(
      '--peer <url>',
      'pull announcements from this route server (repeatable; env SNODE_PEERS)',
      collect,
    )
    .option(
      '--allow-peer <addr|cidr>',
      'only these addresses may connect for replication (repeatable; default everyone)',
      collect,
    )
    .option(
      '--store-path <file>',
      'the announcement log that survives restarts (default $STATE_DIRECTORY/announcements.log under systemd, else .snode/announcements.log; env SNODE_STORE_PATH)',
    )
    .option(
      '--store-mode <mode>',
      'file (default) | memory (nothing survives the process) | off; a cluster (--redis) keeps its state in Redis instead (env SNODE_STORE_MODE)',
    )
    .option(
      '--identity-file <file>',
      'where the generated identity is kept (default $STATE_DIRECTORY/identity.json under systemd, else .snode/identity.json)',
    )
    .option(
      '--log-level <level>',
      'fatal|error|warn|info|debug|trace|silent (default info; env SNODE_LOG_LEVEL)',
    )
    .option(
      '--cjdns',
      'attach to the local cjdroute (config cjdns.enabled / connectCjdns; env SNODE_CJDNS=1)',
    )
    .option(
      '--cjdns-admin <addr:port>',
      'cjdns admin API, e.g. 127.0.0.1:11234 or [::1]:11234 (default: ~/.cjdnsadmin, else 127.0.0.1:11234)',
    )
    .option(
      '--cjdns-password <password>',
      'cjdns admin password (default: ~/.cjdnsadmin, else NONE; env SNODE_CJDNS_ADMIN_PASSWORD)',
    )
    .option(
      '--cjdns-admin-file <file>',
      'read {addr, port, password} from this file instead of ~/.cjdnsadmin',
    )
    .option(
      '--redis <url>',
      'cluster bus: redis://host:port shared by every process of the cluster (env SNODE_CLUSTER_REDIS_URL; default: in-memory, one process)',
    )
    .option(
      '--forward-subnode <url>',
      'edge: forward subnode queries from cjdns to this URL (HAProxy /subnode) instead of answering them (env SNODE_CLUSTER_FORWARD_SUBNODE_URL)',
    )
    .addHelpText(
      'after',
      '\nEnvironment: SNODE_HTTP_HOST, SNODE_HTTP_PORT, SNODE_HTTP_TRUSTED_PROXIES (comma separated), SNODE_PEERS (comma separated), SNODE_LOG_LEVEL,\n' +
        'SNODE_ADMIN_HOST, SNODE_ADMIN_PORT, SNODE_ADMIN_TOKEN (bearer token for the admin listener), SNODE_ADMIN=0 (no admin listener),\n' +
        'SNODE_IDENTITY_PRIVATE_KEY (64 hex), SNODE_IDENTITY_PUBLIC_KEY (….k), SNODE_IDENTITY_FILE, SNODE_IDENTITY_VERSION,\n' +
        'SNODE_CJDNS=1, SNODE_CJDNS_ADMIN_ADDR, SNODE_CJDNS_ADMIN_PORT, SNODE_CJDNS_ADMIN_PASSWORD, SNODE_CJDNS_ADMIN_FILE,\n' +
        'SNODE_CLUSTER_REDIS_URL, SNODE_CLUSTER_KEY (required with Redis: snode keygen --cluster), SNODE_CLUSTER_PASSWORD, SNODE_CLUSTER_SENTINELS (host:port,…), SNODE_CLUSTER_SENTINEL_MASTER,\n' +
        'SNODE_CLUSTER_SENTINEL_PASSWORD, SNODE_CLUSTER_WAIT_REPLICAS, SNODE_CLUSTER_CATCH_UP_TIMEOUT_MS, SNODE_CLUSTER_PREFIX,\n' +
        'SNODE_CLUSTER_PROCESS_NAME, SNODE_CLUSTER_FORWARD_SUBNODE_URL (docs/cluster.md),\n' +
        "SNODE_ROUTING_POLICY=best|original (default best: the lowest-cost route whose label fits; original: the original's choice).\n" +
        'SNODE_STORE_MODE, SNODE_STORE_PATH (docs/store.md).\n' +
        "A single process reloads its stored announcements before it listens, and answers a node's ann only\n" +
        'once the announcement is on disk (docs/store.md).\n' +
        'Booleans take 1/true or 0/false only; an unknown SNODE_* variable is reported at start.\n' +
        'With --cjdns, /readyz answers 503 until the link to cjdroute is attached; see docs/cjdns.md.\n' +
        'What each listener exposes and how to lock it down: docs/security.md.\n' +
        'Precedence: flags > environment > config file > defaults. Logs are JSON lines on stderr.\n' +
        'SIGTERM/SIGINT close the listener, finish requests in flight, and exit 0.',
    )
    .action(async (flags: ServeFlags) => {
      let config;
      let location: ConfigLocation;
      const warnings: ConfigWarning[] = [];
      try {
        const overrides: ConfigOverrides = {};
        if (flags.host !== undefined || flags.port !== undefined)
          overrides.http = { host: flags.host, port: flags.port as unknown as number };
        if (flags.adminHost !== undefined || flags.adminPort !== undefined)
          overrides.admin = { host: flags.adminHost, port: flags.adminPort as unknown as number };
        if (flags.peer) overrides.peers = flags.peer;
        if (flags.allowPeer) overrides.replication = { allowList: flags.allowPeer };
        if (flags.identityFile) overrides.identity = { file: flags.identityFile };
        if (flags.storePath !== undefined || flags.storeMode !== undefined)
          overrides.store = { path: flags.storePath, mode: flags.storeMode as 'file' };
        if (flags.logLevel) overrides.log = { level: flags.logLevel as 'info' };
        if (flags.redis !== undefined || flags.forwardSubnode !== undefined)
          overrides.cluster = { redisUrl: flags.redis, forwardSubnodeUrl: flags.forwardSubnode };
        if (
          flags.cjdns ||
          flags.cjdnsAdmin ||
          flags.cjdnsPassword !== undefined ||
          flags.cjdnsAdminFile
        ) {
          const endpoint = flags.cjdnsAdmin
            ? (await import('../transport/admin-credentials.ts')).parseAdminEndpoint(
                flags.cjdnsAdmin,
              )
            : undefined;
          overrides.cjdns = {
            enabled: flags.cjdns ? true : undefined,
            adminAddr: endpoint?.addr,
            adminPort: endpoint?.port,
            adminPassword: flags.cjdnsPassword,
            adminFile: flags.cjdnsAdminFile,
          };
        }
        const { loadConfig } = await import('../config.ts'); // zod is slow to load: only `serve` needs it
        const { locateConfigFile } = await import('../config-file.ts');
        location = locateConfigFile(flags.config);
        const file = location.kind === 'file' ? location.path : undefined;
        config = loadConfig({ file, overrides, warn: (w) => warnings.push(w) });
      } catch (e) {
        fail(e);
      }
      // loaded here so the other subcommands do not pay for the server's modules at start-up
      const [{ startApp }, { createLogger }] = await Promise.all([
        import('../app.ts'),
        import('../log.ts'),
      ]);
      const log = createLogger(config.log.level);
      if (location.kind === 'file') {
        log.info(
          { event: 'config:file:loaded', file: location.path, how: location.how },
          'configuration file read',
        );
      } else {
        log.info(
          { event: 'config:file:none', lookedFor: location.lookedFor },
          'no configuration file: defaults, environment and flags',
        );
      }
      for (const { message, ...fields } of warnings) log.warn(fields, message);
      // the handlers go in before the start: a SIGTERM while starting (the listener may already
      // be up) stops the server once it has started instead of killing the process mid-start
      const started = startApp(config, log);
      const shutdown = (signal: string): void => {
        log.info({ event: 'snode:process:stopping', signal }, 'shutting down');
        started
          .then((app) => app.close())
          .then(
            () => {
              log.info({ event: 'snode:process:stopped' }, 'stopped');
              process.exit(0);
            },
            () => process.exit(1),
          );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      try {
        await started;
      } catch (e) {
        log.fatal({ event: 'snode:process:start_failed', err: e }, 'could not start');
        process.exit(1);
      }
    });
}
