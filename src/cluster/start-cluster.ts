/**
 * Start the cluster layer of one process from its config: the Redis bus when `cluster.redisUrl`
 * is set (SNODE_CLUSTER_REDIS_URL, `snode serve --redis <url>`), else the embedded in-memory bus,
 * and the cluster actor on it. app.ts calls this and wires the route server:
 *
 * ```ts
 * const cluster = await startCluster(config, routeServerSink(server), log, server.metrics.registry);
 * if (cluster.shared) server.setClusterHooks({
 *   beforeNodeAnnouncement: (nodeIp) => cluster.actor.catchUpBeforeLocalApply(nodeIp),
 *   afterNodeAccepted: (bytes, nodeIp) => cluster.actor.publishAccepted(bytes, nodeIp), // ack after this
 * });
 * // readiness: checks.cluster = cluster.readiness()
 * // shutdown:  await cluster.close()
 * ```
 */
import type { Registry } from 'prom-client';
import type { ActorSystem } from '../actors/actor-system.ts';
import { ClusterActor, type ClusterStatus } from './cluster-actor.ts';
import type { Logger } from '../log.ts';
import type { ClusterBus } from './bus.ts';
import type { ClusterSettings } from './cluster-settings.ts';
import { MemoryClusterBus, MemoryClusterHub } from './memory-bus.ts';
import type { ClusterSink } from './sink.ts';

export interface StartedCluster {
  readonly actor: ClusterActor;
  readonly bus: ClusterBus;
  /** another process may read this bus (Redis, or a bus handed in): publish to it; the
   *  embedded bus of a single process has no reader */
  readonly shared: boolean;
  status(): ClusterStatus;
  /** for /readyz: not ok until the startup catch-up is done */
  readiness(): { ok: boolean; detail: string };
  close(): Promise<void>;
}

export interface StartClusterOptions {
  /** the process's actor system (default: the cluster actor gets its own) */
  readonly system?: ActorSystem;
  readonly now?: () => number;
  /** a bus to use instead of the one the config names (tests) */
  readonly bus?: ClusterBus;
}

export async function startCluster(
  config: Readonly<{ cluster: ClusterSettings }>,
  sink: ClusterSink,
  log: Logger,
  registry: Registry | undefined,
  opts: StartClusterOptions = {},
): Promise<StartedCluster> {
  const c = config.cluster;
  // ioredis is loaded only for a Redis bus: a single process starts without it
  const redis = c.redisUrl ? await import('./redis-bus.ts') : undefined;
  const bus: ClusterBus =
    opts.bus ??
    (redis && c.redisUrl
      ? new redis.RedisClusterBus({ url: c.redisUrl, prefix: c.prefix, streamMaxLen: c.streamMaxLen, log })
      : // the embedded bus trims its record like Redis would (a single process never reads it back)
        new MemoryClusterBus(new MemoryClusterHub(c.streamMaxLen)));
  const actor = await ClusterActor.start({
    bus,
    sink,
    origin: c.processName,
    system: opts.system,
    log,
    registry,
    now: opts.now,
    backlogLimit: c.backlogLimit,
    catchUpTimeoutMs: c.catchUpTimeoutMs,
  });
  log.info(
    { event: 'cluster:bus:started', bus: bus.kind, origin: actor.origin, redis: redis && c.redisUrl ? redis.redactRedisUrl(c.redisUrl) : undefined, prefix: c.prefix },
    bus.kind === 'redis' ? 'cluster bus on Redis' : 'embedded in-memory cluster bus',
  );
  return {
    actor,
    bus,
    shared: opts.bus !== undefined || c.redisUrl !== undefined,
    status: () => actor.status(),
    readiness: () => {
      const s = actor.status();
      const detail = s.failed
        ? 'cluster actor failed'
        : !s.ready
          ? s.connected
            ? 'catching up from the durable record'
            : 'waiting for Redis to catch up'
          : s.connected
            ? 'caught up'
            : `caught up; Redis unavailable, backlog ${s.backlog}`;
      return { ok: s.ready, detail };
    },
    close: () => actor.close(),
  };
}
