/**
 * The `SNODE_*` environment variables: one table of every variable snode reads, mapped to its
 * config key. Values stay text (the schema coerces and validates numbers) except lists (comma
 * separated) and booleans, which are parsed strictly: `1`/`true` or `0`/`false` (any case), and
 * anything else is an error naming the variable rather than a silent `false`. A `SNODE_*`
 * variable that is not in the table is reported (with the nearest known name), not ignored.
 * docs/configuration.md.
 */
import { RsError } from './errors.ts';
import type { ConfigWarning } from './config-file.ts';

type EnvKind = 'text' | 'list' | 'boolean';

interface EnvVariable {
  readonly name: string;
  readonly path: readonly string[];
  readonly kind: EnvKind;
}

const v = (name: string, path: string, kind: EnvKind = 'text'): EnvVariable => ({
  name,
  path: path.split('.'),
  kind,
});

/** Every variable that sets a config key. */
export const ENV_VARIABLES: readonly EnvVariable[] = [
  v('SNODE_HTTP_HOST', 'http.host'),
  v('SNODE_HTTP_PORT', 'http.port'),
  v('SNODE_HTTP_MAX_BODY_BYTES', 'http.maxBodyBytes'),
  v('SNODE_HTTP_TRUSTED_PROXIES', 'http.trustedProxies', 'list'),
  v('SNODE_ADMIN', 'admin.enabled', 'boolean'),
  v('SNODE_ADMIN_HOST', 'admin.host'),
  v('SNODE_ADMIN_PORT', 'admin.port'),
  v('SNODE_ADMIN_TOKEN', 'admin.token'),
  v('SNODE_IDENTITY_PRIVATE_KEY', 'identity.privateKey'),
  v('SNODE_IDENTITY_PUBLIC_KEY', 'identity.publicKey'),
  v('SNODE_IDENTITY_FILE', 'identity.file'),
  v('SNODE_IDENTITY_VERSION', 'identity.version'),
  v('SNODE_PEERS', 'peers', 'list'),
  v('SNODE_LOG_LEVEL', 'log.level'),
  v('SNODE_CJDNS', 'cjdns.enabled', 'boolean'),
  v('SNODE_CJDNS_ADMIN_ADDR', 'cjdns.adminAddr'),
  v('SNODE_CJDNS_ADMIN_PORT', 'cjdns.adminPort'),
  v('SNODE_CJDNS_ADMIN_PASSWORD', 'cjdns.adminPassword'),
  v('SNODE_CJDNS_ADMIN_FILE', 'cjdns.adminFile'),
  v('SNODE_CLUSTER_REDIS_URL', 'cluster.redisUrl'),
  v('SNODE_CLUSTER_SENTINELS', 'cluster.sentinels', 'list'),
  v('SNODE_CLUSTER_SENTINEL_MASTER', 'cluster.sentinelMaster'),
  v('SNODE_CLUSTER_SENTINEL_PASSWORD', 'cluster.sentinelPassword'),
  v('SNODE_CLUSTER_PASSWORD', 'cluster.password'),
  v('SNODE_CLUSTER_KEY', 'cluster.key'),
  v('SNODE_CLUSTER_WAIT_REPLICAS', 'cluster.waitReplicas'),
  v('SNODE_CLUSTER_CATCH_UP_TIMEOUT_MS', 'cluster.catchUpTimeoutMs'),
  v('SNODE_CLUSTER_PREFIX', 'cluster.prefix'),
  v('SNODE_CLUSTER_PROCESS_NAME', 'cluster.processName'),
  v('SNODE_CLUSTER_FORWARD_SUBNODE_URL', 'cluster.forwardSubnodeUrl'),
  v('SNODE_ROUTING_MODE', 'routing.mode'),
  v('SNODE_ROUTING_POLICY', 'routing.policy'),
  v('SNODE_ROUTING_SWAP_INTERVAL_MS', 'routing.swapIntervalMs'),
  v('SNODE_ROUTING_MAX_UPDATES_PER_SWAP', 'routing.maxUpdatesPerSwap'),
  v('SNODE_ROUTING_VERIFY_WORKERS', 'routing.verifyWorkers'),
  v('SNODE_ROUTING_SYNC_VERIFY_WORKERS', 'routing.syncVerifyWorkers'),
  v('SNODE_ROUTING_VERIFY_WORKER_NICE', 'routing.verifyWorkerNice'),
  v('SNODE_ROUTING_VERIFY_WORKER_SCHED_IDLE', 'routing.verifyWorkerSchedIdle', 'boolean'),
  v('SNODE_ROUTING_VERIFY_BATCH_TIMEOUT_MS', 'routing.verifyBatchTimeoutMs'),
  v('SNODE_ROUTING_REPLICA_BACKEND', 'routing.replicaBackend'),
  v('SNODE_ROUTING_REPLICA_NICE', 'routing.replicaNice'),
  v('SNODE_STORE_MODE', 'store.mode'),
  v('SNODE_STORE_PATH', 'store.path'),
];

/** Variables snode reads that are not config keys (bin/snode.js: run the sources, not dist/). */
const OTHER_VARIABLES = ['SNODE_FROM_SOURCE'];

/** A boolean variable: 1/true or 0/false, any case; anything else is refused. */
export function parseEnvBoolean(name: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === '1' || t === 'true') return true;
  if (t === '0' || t === 'false') return false;
  throw new RsError(
    'RS_ERR_CONFIG_INVALID',
    `invalid configuration:\n  - ${name}: must be 1, true, 0 or false, not ${JSON.stringify(text.slice(0, 40))}`,
  );
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known variable nearest to `name`, when it is near enough to be a typo. */
function nearest(name: string): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const known of [...ENV_VARIABLES.map((x) => x.name), ...OTHER_VARIABLES]) {
    const d = editDistance(name, known);
    if (!best || d < best.d) best = { name: known, d };
  }
  return best && best.d <= Math.max(2, Math.floor(name.length / 6)) ? best.name : undefined;
}

/** The config keys the environment sets (empty variables are unset), and warnings about the rest. */
export function configFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  warn: (w: ConfigWarning) => void = () => undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (path: readonly string[], value: unknown): void => {
    let o = out;
    for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
    o[path[path.length - 1]!] = value;
  };
  for (const { name, path, kind } of ENV_VARIABLES) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    if (kind === 'list')
      set(
        path,
        text
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
    else if (kind === 'boolean') set(path, parseEnvBoolean(name, text));
    else set(path, text);
  }
  const known = new Set([...ENV_VARIABLES.map((x) => x.name), ...OTHER_VARIABLES]);
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('SNODE_') || known.has(name)) continue;
    const guess = nearest(name);
    warn({
      event: 'config:env:unknown',
      variable: name,
      ...(guess ? { didYouMean: guess } : {}),
      message: `${name} is not a variable snode reads${guess ? ` (did you mean ${guess}?)` : ''}: ignored`,
    });
  }
  return out;
}
