/**
 * Prometheus figures of the cluster bus, registered on the process's registry (`/metrics`).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ClusterMetricSources {
  backlog(): number;
  connected(): boolean;
  caughtUp(): boolean;
  /** appends go straight to Redis and are acknowledged (no write failure waiting to be repaired) */
  writable(): boolean;
}

/**
 * A one-label counter counted by plain additions and handed to prom-client when it collects (a
 * scrape, `get()`): the follower counts every record entry it reads, and prom-client's `inc`
 * hashes and validates its labels object each time. Exact whenever read.
 */
export class CounterTally {
  private readonly pending = new Map<string, number>();
  counter: Counter<'result'> | undefined;

  inc(labels: { readonly result: string }): void {
    this.pending.set(labels.result, (this.pending.get(labels.result) ?? 0) + 1);
  }

  /** prom-client's collect hook: the counts so far into the counter */
  flush(): void {
    for (const [result, n] of this.pending) this.counter?.inc({ result }, n);
    this.pending.clear();
  }
}

function talliedCounter(name: string, help: string, registers: Registry[]): CounterTally {
  const tally = new CounterTally();
  tally.counter = new Counter({
    name,
    help,
    labelNames: ['result'],
    registers,
    collect() {
      tally.flush();
    },
  });
  return tally;
}

export class ClusterMetrics {
  readonly published: Counter<'result'>;
  readonly applied: CounterTally;
  readonly deltas: CounterTally;
  readonly gaps: Counter<'cause'>;
  readonly resyncs: Counter<'cause'>;
  readonly writeErrors: Counter<'reason'>;
  readonly notAcknowledged: Counter<'reason'>;
  readonly lag: Histogram;

  constructor(registry: Registry | undefined, sources: ClusterMetricSources) {
    const registers = registry ? [registry] : [];
    this.published = new Counter({
      name: 'snode_cluster_published_total',
      help: 'Announcements this process published on the cluster bus, by result (durable, backlog, backlog_full, failed)',
      labelNames: ['result'],
      registers,
    });
    this.applied = talliedCounter(
      'snode_cluster_applied_total',
      'Record entries from other processes, by result (applied, duplicate, covered, own, malformed)',
      registers,
    );
    this.deltas = talliedCounter(
      'snode_cluster_deltas_total',
      'Record entries from other processes that carried a record delta, by how they were applied (delta: the delta itself; full: it did not fit this record, the announcement was applied in full; stored: already held)',
      registers,
    );
    this.gaps = new Counter({
      name: 'snode_cluster_gaps_total',
      help: 'Gaps detected in the live frames and repaired from the durable record, by cause',
      labelNames: ['cause'],
      registers,
    });
    this.resyncs = new Counter({
      name: 'snode_cluster_resyncs_total',
      help: 'Full resynchronisations from the node snapshots, by cause',
      labelNames: ['cause'],
      registers,
    });
    this.writeErrors = new Counter({
      name: 'snode_cluster_write_errors_total',
      help: 'Writes the cluster bus refused or lost, by reason (oom, readonly, auth, noperm, masterdown, loading, busy, noreplicas, timeout, connection, other); announcements are not acknowledged meanwhile',
      labelNames: ['reason'],
      registers,
    });
    this.notAcknowledged = new Counter({
      name: 'snode_cluster_not_acknowledged_total',
      help: 'Announcements from nodes this process did not acknowledge because the cluster could not take them now, by reason (catching_up, bus_unavailable, write_failed_<reason>, backlog_full, unencodable); the node sends them again',
      labelNames: ['reason'],
      registers,
    });
    this.lag = new Histogram({
      name: 'snode_cluster_replication_lag_seconds',
      help: 'From acceptance by the origin process to application here',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    new Gauge({
      name: 'snode_cluster_backlog',
      help: 'Announcements waiting for Redis',
      registers,
      collect() {
        this.set(sources.backlog());
      },
    });
    new Gauge({
      name: 'snode_cluster_connected',
      help: '1 when the cluster bus is connected',
      registers,
      collect() {
        this.set(sources.connected() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'snode_cluster_writable',
      help: '1 when announcements can be made durable (and so acknowledged) now',
      registers,
      collect() {
        this.set(sources.writable() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'snode_cluster_caught_up',
      help: '1 once the startup catch-up finished',
      registers,
      collect() {
        this.set(sources.caughtUp() ? 1 : 0);
      },
    });
  }
}
