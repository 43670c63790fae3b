/**
 * Prometheus metrics of the fast routing path, read from the supervisor's counters at scrape
 * time (no work on the hot path): swaps, replayed updates, full rebuilds, snapshot age and lag,
 * destination-tree cache hits, verification pool depth, mailbox rejections, subnode actors.
 * The event-loop lag gauge is in metrics.ts.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RoutingSupervisor } from './routing-supervisor.ts';

/** A counter whose value is read from a monotonic source at scrape time. */
function counterFrom(registry: Registry, name: string, help: string, read: () => number): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v > last) this.inc(v - last);
      last = Math.max(last, v);
    },
  });
}

function gaugeFrom(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

export function registerRoutingMetrics(registry: Registry, r: RoutingSupervisor): void {
  const t = r.trees;
  counterFrom(
    registry,
    'snode_tree_swaps_total',
    'Active/standby route tree swaps',
    () => t.stats.swaps,
  );
  counterFrom(
    registry,
    'snode_tree_updates_replayed_total',
    'Node updates replayed into the replica that missed them',
    () => t.stats.updatesReplayed,
  );
  counterFrom(
    registry,
    'snode_tree_full_rebuilds_total',
    'Snapshots built by recomputing every row',
    () => t.stats.fullRebuilds,
  );
  counterFrom(
    registry,
    'snode_tree_replica_restarts_total',
    'Tree replicas restarted by their supervisor',
    () => t.stats.replicaRestarts,
  );
  counterFrom(
    registry,
    'snode_tree_deferred_flushes_total',
    'Update batches the standby replica mailbox refused (resent)',
    () => t.stats.deferredFlushes,
  );
  gaugeFrom(
    registry,
    'snode_route_snapshot_age_seconds',
    'Time since the active route snapshot was activated',
    () => Math.max(0, Date.now() - t.active.activatedAtMs) / 1000,
  );
  gaugeFrom(
    registry,
    'snode_route_snapshot_lag_updates',
    'Node updates not yet visible in the active snapshot',
    () => t.lagUpdates,
  );
  gaugeFrom(
    registry,
    'snode_route_snapshot_build_seconds',
    'Build time of the last snapshot (in its replica)',
    () => t.stats.lastBuildMs / 1000,
  );
  let last = { hits: 0, misses: 0, pairs: 0 };
  new Counter({
    name: 'snode_route_tree_cache_total',
    help: 'Route lookups by how they were answered: hit (a cached destination tree), pair (a pair search), miss (a tree search)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const now = t.treeCacheTotals();
      if (now.hits > last.hits) this.inc({ result: 'hit' }, now.hits - last.hits);
      if (now.pairs > last.pairs) this.inc({ result: 'pair' }, now.pairs - last.pairs);
      if (now.misses > last.misses) this.inc({ result: 'miss' }, now.misses - last.misses);
      last = now;
    },
  });
  counterFrom(
    registry,
    'snode_route_fitting_searches_total',
    'Route lookups (best policy) whose cheapest path had a label too long, answered by the fitting search',
    () => t.treeCacheTotals().fitting,
  );
  counterFrom(
    registry,
    'snode_route_fitting_over_budget_total',
    'Fitting searches (best policy) that hit their work bound and answered the fewest-bits fitting route instead of the cheapest',
    () => t.treeCacheTotals().fittingOverBudget,
  );
  counterFrom(
    registry,
    'snode_route_trees_grown_total',
    'Hot destinations whose whole shortest-path tree was grown in the background',
    () => t.treeCacheTotals().grown,
  );
  gaugeFrom(
    registry,
    'snode_route_trees_cached',
    'Destination trees cached on the active snapshot',
    () => t.active.cachedTrees,
  );
  const pool = r.pool;
  gaugeFrom(
    registry,
    'snode_verify_pool_workers',
    'Verification worker threads taking new announcements (routing.syncVerifyWorkers while the initial sync pulls, routing.verifyWorkers after)',
    () => pool?.size ?? 0,
  );
  gaugeFrom(
    registry,
    'snode_verify_pool_queue_depth',
    'Announcements waiting for a verification worker',
    () => pool?.queueDepth ?? 0,
  );
  gaugeFrom(
    registry,
    'snode_verify_pool_in_flight',
    'Announcements being verified',
    () => pool?.inFlight ?? 0,
  );
  gaugeFrom(
    registry,
    'snode_verify_pool_workers_sched_idle',
    'Verification worker threads running under SCHED_IDLE (routing.verifyWorkerSchedIdle, once serving)',
    () => pool?.idleWorkers ?? 0,
  );
  counterFrom(
    registry,
    'snode_verify_worker_restarts_total',
    'Verification workers replaced after they died or hung',
    () => pool?.stats.workerRestarts ?? 0,
  );
  counterFrom(
    registry,
    'snode_verify_worker_hung_total',
    'Verification workers stopped because a batch went unanswered for routing.verifyBatchTimeoutMs',
    () => pool?.stats.workerTimeouts ?? 0,
  );
  new Counter({
    name: 'snode_mailbox_rejections_total',
    help: 'Messages refused because a bounded queue was full, by queue (subnode, verify_pool)',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ queue: 'subnode' }, r.directory.stats.rejected);
      this.inc({ queue: 'verify_pool' }, pool?.stats.rejected ?? 0);
    },
  });
  gaugeFrom(
    registry,
    'snode_subnode_actors',
    'Live subnode actors: nodes that had work to queue (a crash), until passivated',
    () => r.directory.activeActors,
  );
  counterFrom(
    registry,
    'snode_subnode_crashes_total',
    'Subnode actor crashes',
    () => r.directory.stats.crashes,
  );
  counterFrom(
    registry,
    'snode_subnode_rebuilds_total',
    'Node records rebuilt from the store after a crash',
    () => r.directory.stats.rebuilt,
  );
}
