/**
 * Configuration: one zod schema with the defaults in it, read from a file (config-file.ts:
 * JSON, the original cjdnsnode's config.js, the Rust port's config.json), the environment
 * (config-env.ts: SNODE_*) and command-line flags, in that order of increasing precedence;
 * validated once and frozen. docs/configuration.md. Only config*.ts read process.env.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { configFromEnv } from './config-env.ts';
import { readConfigFile, type ConfigWarning } from './config-file.ts';
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
        privateKey: z
          .string()
          .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits')
          .optional(),
        /**
         * the cjdns node's public key (`….k`) for a process that does not hold its private key: a
         * cluster behind a cjdns edge; an attached edge refuses a cjdroute with another key
         */
        publicKey: z
          .string()
          .regex(/^[0-9a-z]{52}\.k$/, 'must be a cjdns public key (52 base32 digits + .k)')
          .optional(),
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
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};
export type ConfigOverrides = DeepPartial<ConfigInput>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge for plain objects; arrays and scalars of `b` replace those of `a`. */
export function mergeConfig(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    out[k] =
      isPlainObject(v) && isPlainObject(out[k])
        ? mergeConfig(out[k] as Record<string, unknown>, v)
        : v;
  }
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
  return stateDir
    ? {
        identity: { file: join(stateDir, 'identity.json') },
        store: { path: join(stateDir, 'announcements.log') },
      }
    : {};
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

export function loadConfig(opts: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  /** told about what is ignored rather than refused (docs/configuration.md, "Warnings") */
  warn?: (w: ConfigWarning) => void;
}): Readonly<Config> {
  const env = opts.env ?? process.env;
  const warn = opts.warn ?? (() => undefined);
  let raw = defaultsFromEnv(env);
  if (opts.file) raw = mergeConfig(raw, readConfigFile(opts.file, { env, warn }));
  raw = mergeConfig(raw, configFromEnv(env, warn));
  if (opts.overrides) raw = mergeConfig(raw, opts.overrides as Record<string, unknown>);
  return validateConfig(raw);
}
