/**
 * `npm run cluster -- --processes N [--base-port P]`: the docker-compose topology without Docker —
 * redis-server, N route servers sharing one identity, HAProxy in front — on loopback ports.
 * Ctrl-C (SIGINT) or SIGTERM stops everything.
 */
import { join } from 'node:path';
import { DOCKER_HAPROXY, renderHaproxyConfig } from '../src/cluster/native/haproxy-config.ts';
import { launchCluster } from '../src/cluster/native/launcher.ts';

const USAGE = `usage: npm run cluster -- [--processes N] [--base-port P] [options]

Starts redis-server (append-only file, a generated password, protected mode, noeviction), N
route-server processes (node bin/snode.js serve, one shared cjdns identity,
SNODE_CLUSTER_REDIS_URL) and haproxy on loopback ports, prints the URLs, restarts a route server
that dies (with backoff, and says so), and stops everything on Ctrl-C / SIGTERM. Needs
redis-server and haproxy on PATH.

  --processes N        route-server processes (default 3)
  --base-port P        haproxy on P, route servers on P+1..P+N, redis on P+N+1, admin listeners on P+N+2..P+2N+1 (default: free ports)
  --host ADDR          loopback address to bind (default 127.0.0.1)
  --dir DIR            logs, Redis data and haproxy.cfg here (default: a new temp dir)
  --private-key HEX    the cluster's curve25519 private key (default: a new identity)
  --log-level LEVEL    route-server log level (default info)
  --render-haproxy     print deploy/haproxy.cfg (the docker-compose variant) and exit
  -h, --help           this help
`;

function fail(msg: string): never {
  process.stderr.write(`cluster: ${msg}\n\n${USAGE}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const flags = new Map<string, string | true>();
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '-h' || a === '--help') flags.set('help', true);
  else if (a === '--render-haproxy') flags.set('render-haproxy', true);
  else if (
    ['--processes', '--base-port', '--host', '--dir', '--private-key', '--log-level'].includes(a)
  ) {
    const v = args[++i];
    if (v === undefined || v.startsWith('--')) fail(`${a} needs a value`);
    flags.set(a.slice(2), v);
  } else fail(`unknown argument ${a}`);
}
if (flags.has('help')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (flags.has('render-haproxy')) {
  process.stdout.write(renderHaproxyConfig(DOCKER_HAPROXY));
  process.exit(0);
}

const intFlag = (
  name: string,
  def: number | undefined,
  min: number,
  max: number,
): number | undefined => {
  const v = flags.get(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`--${name} must be an integer ${min}..${max}`);
  return n;
};
const processes = intFlag('processes', 3, 1, 64)!;
const basePort = intFlag('base-port', undefined, 1, 65535 - processes - 1);
const privateKeyHex = flags.get('private-key') as string | undefined;
if (privateKeyHex !== undefined && !/^[0-9a-fA-F]{64}$/.test(privateKeyHex))
  fail('--private-key must be 64 hex digits');

const cluster = await launchCluster({
  processes,
  basePort,
  host: flags.get('host') as string | undefined,
  dir: flags.get('dir') as string | undefined,
  privateKeyHex: privateKeyHex?.toLowerCase(),
  logLevel: flags.get('log-level') as string | undefined,
  onProgress: (line) => process.stderr.write(`cluster: ${line}\n`),
}).catch((e: unknown) => {
  process.stderr.write(`cluster: could not start: ${(e as Error).message}\n`);
  process.exit(1);
});

process.stdout.write(
  [
    '',
    `snode cluster up: ${processes} route server(s) behind haproxy`,
    `  haproxy (use this)   ${cluster.haproxy.url}   e.g. curl ${cluster.haproxy.url}/ni`,
    ...cluster.snodes.map(
      (s) =>
        `  snode${s.index + 1}               ${s.url}   (pid ${s.process.pid})   admin ${s.adminUrl}`,
    ),
    `  redis                ${cluster.redis.url.replace(/\/\/:[^@]*@/, '//:…@')}   (password in ${join(cluster.redis.dir, 'redis-auth.conf')}; append-only file in ${cluster.redis.dir})`,
    `  identity             ${cluster.identity.key} (${cluster.identity.ipv6})`,
    `  logs and config      ${cluster.dir}`,
    'Ctrl-C stops everything.',
    '',
  ].join('\n'),
);

// a route server that dies is restarted by the launcher (with backoff), which says so on stderr
let stopping = false;

const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`cluster: ${signal}: stopping route servers, haproxy, redis\n`);
  cluster.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`cluster: stop failed: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
