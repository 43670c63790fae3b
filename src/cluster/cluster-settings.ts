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
  .prefault({});

export type ClusterSettings = z.infer<typeof clusterSchema>;

/** Every default of the section (the schema is the one place they are written). */
export const CLUSTER_DEFAULTS: ClusterSettings = clusterSchema.parse(undefined);
