/**
 * Configuration: one zod schema with the defaults in it, read from a file (JSON, or the
 * original cjdnsnode `config.js` shape `{connectCjdns, peers}`), the environment (SNODE_*)
 * and command-line flags, in that order of increasing precedence; validated once and frozen.
 * This is the only module that reads process.env.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { clusterSchema } from './cluster/cluster-settings.ts';
import { RsError } from './errors.ts';
import { replicationSchema } from './replication/replication-settings.ts';
import { routingSchema } from './routing/routing-settings.ts';
import { seederSchema } from './seeder/seeder-settings.ts';
import { storeSchema } from './store/store-settings.ts';
import { cjdnsSchema } from './transport/cjdns-settings.ts';
import { adminSchema, httpSchema } from './transport/http-settings.ts';

export const configSchema = z
  .object({
    /** the public listener (read API, POST /subnode, replication websocket; docs/security.md) */
    http: httpSchema,
    /** the operator listener (/status, /metrics, /debugnode; docs/security.md) */
    admin: adminSchema,
    identity: z
      .object({
        /** curve25519 private key, 64 hex digits; when absent the key is read from / created in `file` */
        privateKey: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits').optional(),
        /**
         * the cjdns node's public key (`….k`) for a process that does not hold its private key: a
         * cluster behind a cjdns edge; an attached edge refuses a cjdroute with another key
         */
        publicKey: z.string().regex(/^[0-9a-z]{52}\.k$/, 'must be a cjdns public key (52 base32 digits + .k)').optional(),
        /** where a generated identity is persisted (under $STATE_DIRECTORY when systemd sets it) */
        file: z.string().min(1).default('.snode/identity.json'),
        /** protocol version announced in replies (`p`) */
        version: z.coerce.number().int().min(1).max(65535).default(22),
      })
      .strict()
      .prefault({}),
    /** replication: websocket URLs of other route servers to pull from */
    peers: z.array(z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL')).default([]),
    /** replication limits and timers (docs/replication.md); every field has a default */
    replication: replicationSchema,
    /** route engine and the fast engine's tunables (README "Tunables"); every field has a default */
    routing: routingSchema,
    /** the link to the local cjdroute (docs/cjdns.md) */
    cjdns: cjdnsSchema,
    /** the cluster bus (docs/cluster.md); without redisUrl, the embedded in-memory bus */
    cluster: clusterSchema,
    /** the peering seeder (docs/seeder.md); the Rust port's keys, every field has a default */
    seeder: seederSchema,
    /** the single process's announcement log (docs/store.md); a cluster keeps its state in Redis */
    store: storeSchema,
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };
export type ConfigOverrides = DeepPartial<ConfigInput>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge for plain objects; arrays and scalars of `b` replace those of `a`. */
export function mergeConfig(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeConfig(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/** Remove `//` and `/* *\/` comments outside string literals (a `ws://` URL is not a comment). */
function stripJsComments(text: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== null) {
      out += c;
      if (c === '\\' && i + 1 < text.length) out += text[++i];
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') {
      quote = c;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * The original's config.js is a CommonJS module `module.exports = { connectCjdns, peers }`.
 * We never execute it: the object literal is extracted and read as JSON5-ish data.
 */
function parseOriginalConfigJs(text: string, path: string): Record<string, unknown> {
  const m = /module\.exports\s*=\s*(\{[\s\S]*\})\s*;?\s*$/.exec(stripJsComments(text));
  if (!m) throw new RsError('RS_ERR_CONFIG_INVALID', `${path}: not JSON and not a 'module.exports = {…}' config`);
  const jsonish = m[1]!
    .replace(/'((?:[^'\\]|\\.)*)'/g, (_s, g: string) => JSON.stringify(g.replace(/\\'/g, "'")))
    .replace(/([{,]\s*)([A-Za-z_$][\w$]*)\s*:/g, '$1"$2":')
    .replace(/,(\s*[}\]])/g, '$1');
  try {
    return JSON.parse(jsonish) as Record<string, unknown>;
  } catch (e) {
    throw new RsError('RS_ERR_CONFIG_INVALID', `${path}: cannot read the config object (${(e as Error).message})`);
  }
}

/** Translate the original's keys ({connectCjdns, peers}) into ours. */
function fromOriginalShape(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  if ('connectCjdns' in out) {
    const enabled = out.connectCjdns;
    delete out.connectCjdns;
    out.cjdns = mergeConfig(isPlainObject(out.cjdns) ? out.cjdns : {}, { enabled });
  }
  return out;
}

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RsError('RS_ERR_CONFIG_INVALID', `cannot read config file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = parseOriginalConfigJs(text, path);
  }
  if (!isPlainObject(raw)) throw new RsError('RS_ERR_CONFIG_INVALID', `${path}: the config must be an object`);
  return fromOriginalShape(raw);
}

/** SNODE_HTTP_HOST, SNODE_HTTP_PORT, SNODE_PEERS (comma separated), SNODE_LOG_LEVEL, … */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (path: string[], v: unknown): void => {
    let o = out;
    for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
    o[path[path.length - 1]!] = v;
  };
  const map: Array<[string, string[]]> = [
    ['SNODE_HTTP_HOST', ['http', 'host']],
    ['SNODE_HTTP_PORT', ['http', 'port']],
    ['SNODE_HTTP_MAX_BODY_BYTES', ['http', 'maxBodyBytes']],
    ['SNODE_ADMIN_HOST', ['admin', 'host']],
    ['SNODE_ADMIN_PORT', ['admin', 'port']],
    ['SNODE_ADMIN_TOKEN', ['admin', 'token']],
    ['SNODE_IDENTITY_PRIVATE_KEY', ['identity', 'privateKey']],
    ['SNODE_IDENTITY_PUBLIC_KEY', ['identity', 'publicKey']],
    ['SNODE_IDENTITY_FILE', ['identity', 'file']],
    ['SNODE_IDENTITY_VERSION', ['identity', 'version']],
    ['SNODE_LOG_LEVEL', ['log', 'level']],
    ['SNODE_CJDNS_ADMIN_ADDR', ['cjdns', 'adminAddr']],
    ['SNODE_CJDNS_ADMIN_PORT', ['cjdns', 'adminPort']],
    ['SNODE_CJDNS_ADMIN_PASSWORD', ['cjdns', 'adminPassword']],
    ['SNODE_CJDNS_ADMIN_FILE', ['cjdns', 'adminFile']],
    ['SNODE_CLUSTER_REDIS_URL', ['cluster', 'redisUrl']],
    ['SNODE_CLUSTER_PREFIX', ['cluster', 'prefix']],
    ['SNODE_CLUSTER_PROCESS_NAME', ['cluster', 'processName']],
    ['SNODE_CLUSTER_FORWARD_SUBNODE_URL', ['cluster', 'forwardSubnodeUrl']],
    ['SNODE_STORE_MODE', ['store', 'mode']],
    ['SNODE_STORE_PATH', ['store', 'path']],
    ['SNODE_ROUTING_MODE', ['routing', 'mode']],
    ['SNODE_ROUTING_POLICY', ['routing', 'policy']],
    ['SNODE_ROUTING_SWAP_INTERVAL_MS', ['routing', 'swapIntervalMs']],
    ['SNODE_ROUTING_MAX_UPDATES_PER_SWAP', ['routing', 'maxUpdatesPerSwap']],
    ['SNODE_ROUTING_VERIFY_WORKERS', ['routing', 'verifyWorkers']],
    ['SNODE_ROUTING_REPLICA_BACKEND', ['routing', 'replicaBackend']],
  ];
  for (const [name, path] of map) if (env[name] !== undefined && env[name] !== '') set(path, env[name]);
  if (env.SNODE_PEERS) set(['peers'], env.SNODE_PEERS.split(',').map((s) => s.trim()).filter(Boolean));
  if (env.SNODE_HTTP_TRUSTED_PROXIES) set(['http', 'trustedProxies'], env.SNODE_HTTP_TRUSTED_PROXIES.split(',').map((s) => s.trim()).filter(Boolean));
  if (env.SNODE_ADMIN === '0' || env.SNODE_ADMIN === 'false') set(['admin', 'enabled'], false);
  if (env.SNODE_CJDNS === '1' || env.SNODE_CJDNS === 'true') set(['cjdns', 'enabled'], true);
  return out;
}

/**
 * Defaults that depend on how the process was started, below every source: systemd's
 * `StateDirectory=` sets $STATE_DIRECTORY (absolute; several are separated by `:`), and the
 * generated identity and the announcement log then live there rather than under the working
 * directory.
 */
export function defaultsFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const stateDir = env.STATE_DIRECTORY?.split(':')[0];
  return stateDir ? { identity: { file: join(stateDir, 'identity.json') }, store: { path: join(stateDir, 'announcements.log') } } : {};
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Validate a merged raw config; errors name every offending key. */
export function validateConfig(raw: unknown): Readonly<Config> {
  const r = configSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.flatMap((i) =>
      // name an unknown key by its own path (`http.prot`), not by its parent's
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) => `  - ${[...i.path, k].join('.')}: unknown key`)
        : [`  - ${i.path.join('.') || '(root)'}: ${i.message}`],
    );
    throw new RsError('RS_ERR_CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
  }
  return deepFreeze(r.data);
}

export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: ConfigOverrides }): Readonly<Config> {
  const env = opts.env ?? process.env;
  let raw = defaultsFromEnv(env);
  if (opts.file) raw = mergeConfig(raw, readConfigFile(opts.file));
  raw = mergeConfig(raw, configFromEnv(env));
  if (opts.overrides) raw = mergeConfig(raw, opts.overrides as Record<string, unknown>);
  return validateConfig(raw);
}
