/**
 * The `cluster` section of the configuration (docs/cluster.md): the Redis bus, or without
 * `redisUrl` the embedded in-memory one. Mounted by src/config.ts; kept free of runtime imports
 * so loading the configuration stays cheap.
 */
import { z } from 'zod';

/** the cluster bus; without redisUrl, the embedded in-memory bus */
export const clusterSchema = z
  .object({
    /** redis://[:password@]host:port[/db] shared by every process of the cluster */
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    /** Redis Sentinel instead of redisUrl: the sentinels (`host:port`) to ask for the primary */
    sentinels: z
      .preprocess(
        (v) =>
          typeof v === 'string'
            ? v
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean)
            : v,
        z
          .array(
            z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, 'must be host:port'),
          )
          .min(1)
          .max(16),
      )
      .optional(),
    /** the master name the sentinels monitor */
    sentinelMaster: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9_.-]')
      .default('snode'),
    /** the sentinels' own password (their requirepass), if they have one */
    sentinelPassword: z.string().min(1).optional(),
    /**
     * the cluster key: 64 hex digits (32 random bytes, `snode keygen --cluster`), the same in every
     * process; every envelope on the bus carries its HMAC-SHA256 tag and one without it is
     * refused. Required with Redis (docs/cluster.md, "An authenticated bus").
     */
    key: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (snode keygen --cluster)')
      .optional(),
    /** the Redis data nodes' password (overrides one in redisUrl; with sentinels, the only place for it) */
    password: z.string().min(1).optional(),
    /**
     * an append is durable (and the announcement acknowledged) only once this many Redis replicas
     * acknowledged it (WAIT); 0 = once the primary stored it
     */
    waitReplicas: z.coerce.number().int().min(0).max(16).default(0),
    /** how long WAIT waits for the replicas before the append counts as not durable */
    waitTimeoutMs: z.coerce.number().int().min(10).max(2500).default(1000),
    /** key and channel prefix (several clusters can share one Redis) */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9_.:-]')
      .default('snode'),
    /** this process on the bus (default hostname-pid-random: unique per process start) */
    processName: z
      .string()
      .regex(/^[0-9A-Za-z._:@-]{1,64}$/, 'must be 1-64 of [0-9A-Za-z._:@-]')
      .optional(),
    /** approximate bound of the Redis stream (XADD MAXLEN ~) */
    streamMaxLen: z.coerce.number().int().min(1000).default(200_000),
    /** announcements kept in memory while Redis is unavailable */
    backlogLimit: z.coerce.number().int().min(1).default(50_000),
    /** longest wait for the durable record before a failed-over node is applied locally anyway */
    catchUpTimeoutMs: z.coerce.number().int().min(10).default(5000),
    /** edge process: forward subnode queries to this URL (HAProxy's /subnode) instead of answering */
    forwardSubnodeUrl: z
      .string()
      .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
      .optional(),
  })
  .strict()
  .refine((c) => !(c.redisUrl && c.sentinels), {
    message: 'set either redisUrl or sentinels, not both',
    path: ['sentinels'],
  })
  .refine(
    (c) =>
      c.key !== undefined ||
      (c.redisUrl === undefined && (c.sentinels === undefined || c.sentinels.length === 0)),
    {
      message:
        'a cluster on Redis needs a cluster key: 64 hex digits, the same in every process (snode keygen --cluster; SNODE_CLUSTER_KEY)',
      path: ['key'],
    },
  )
  .prefault({});

export type ClusterSettings = z.infer<typeof clusterSchema>;

/** Every default of the section (the schema is the one place they are written). */
export const CLUSTER_DEFAULTS: ClusterSettings = clusterSchema.parse(undefined);

/** `host:port` (IPv6 in brackets) → parts. */
export function parseHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(s.slice(i + 1)) };
}

/** The cluster runs on Redis (a URL or sentinels) rather than the embedded bus. */
export function usesRedis(c: ClusterSettings): boolean {
  return c.redisUrl !== undefined || (c.sentinels !== undefined && c.sentinels.length > 0);
}
