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
import { parseHostPort, usesRedis, type ClusterSettings } from './cluster-settings.ts';
import { parseClusterKey } from './envelope-auth.ts';
import { MemoryClusterBus, MemoryClusterHub } from './memory-bus.ts';
import { describeRedisTarget } from './redis-target.ts';
import type { ClusterSink } from './sink.ts';

export interface StartedCluster {
  readonly actor: ClusterActor;
  readonly bus: ClusterBus;
  /** another process may read this bus (Redis, or a bus handed in): publish to it; the
   *  embedded bus of a single process has no reader */
  readonly shared: boolean;
  status(): ClusterStatus;
  /** for /readyz: ok once caught up and while announcements can be made durable */
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
  const redis = usesRedis(c) ? await import('./redis-bus.ts') : undefined;
  const bus: ClusterBus =
    opts.bus ??
    (redis
      ? new redis.RedisClusterBus({
          url: c.redisUrl,
          sentinels: c.sentinels?.map(parseHostPort),
          sentinelMaster: c.sentinelMaster,
          sentinelPassword: c.sentinelPassword,
          password: c.password,
          prefix: c.prefix,
          streamMaxLen: c.streamMaxLen,
          waitReplicas: c.waitReplicas,
          waitTimeoutMs: c.waitTimeoutMs,
          log,
        })
      : // the embedded bus trims its record like Redis would (a single process never reads it back)
        new MemoryClusterBus(new MemoryClusterHub(c.streamMaxLen)));
  const actor = await ClusterActor.start({
    bus,
    sink,
    key: c.key !== undefined ? parseClusterKey(c.key) : undefined,
    origin: c.processName,
    system: opts.system,
    log,
    registry,
    now: opts.now,
    backlogLimit: c.backlogLimit,
    catchUpTimeoutMs: c.catchUpTimeoutMs,
  });
  log.info(
    {
      event: 'cluster:bus:started',
      bus: bus.kind,
      origin: actor.origin,
      redis: usesRedis(c)
        ? describeRedisTarget({
            url: c.redisUrl,
            sentinels: c.sentinels?.map(parseHostPort),
            sentinelMaster: c.sentinelMaster,
          })
        : undefined,
      prefix: c.prefix,
    },
    bus.kind === 'redis' ? 'cluster bus on Redis' : 'embedded in-memory cluster bus',
  );
  return {
    actor,
    bus,
    shared: opts.bus !== undefined || c.redisUrl !== undefined,
    status: () => actor.status(),
    readiness: () => clusterReadiness(actor.status()),
    close: () => actor.close(),
  };
}

/**
 * The `cluster` check of /readyz (HAProxy health-checks /readyz, so a process that is not ready
 * gets no traffic): ready once the startup catch-up is done AND while an accepted announcement
 * can be made durable — connected, no refused write waiting to be repaired, nothing left to
 * re-publish. While not ready, announcements are not acknowledged anyway (docs/cluster.md).
 */
export function clusterReadiness(s: ClusterStatus): { ok: boolean; detail: string } {
  if (s.failed) return { ok: false, detail: 'cluster actor failed' };
  if (!s.ready)
    return {
      ok: false,
      detail: s.connected ? 'catching up from the durable record' : 'waiting for Redis to catch up',
    };
  if (s.busProblem) return { ok: false, detail: s.busProblem };
  if (!s.connected)
    return {
      ok: false,
      detail: `Redis unavailable; backlog ${s.backlog}, not acknowledging announcements`,
    };
  if (!s.writable) {
    const f = s.lastWriteFailure;
    return {
      ok: false,
      detail: f
        ? `Redis refuses writes (${f.reason}: ${f.message.slice(0, 120)}); backlog ${s.backlog}, not acknowledging announcements`
        : `re-publishing the backlog (${s.backlog}) and ${s.dirtyNodes} node(s)`,
    };
  }
  return { ok: true, detail: 'caught up' };
}
