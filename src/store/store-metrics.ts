/**
 * Prometheus figures of the announcement store, registered on the process's registry (`/metrics`).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class StoreMetrics {
  readonly records: Counter<'kind'>;
  readonly commits: Counter;
  readonly commitSeconds: Histogram;
  readonly compactions: Counter<'result'>;
  readonly fileBytes: Gauge;
  readonly healthy: Gauge;

  constructor(registry: Registry | undefined) {
    const registers = registry ? [registry] : [];
    this.records = new Counter({
      name: 'snode_store_records_total',
      help: 'Records appended to the announcement log, by kind (put: accepted, del: left the kept set)',
      labelNames: ['kind'],
      registers,
    });
    this.commits = new Counter({
      name: 'snode_store_commits_total',
      help: 'Group commits (one append and fdatasync each)',
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'snode_store_commit_seconds',
      help: 'Time of one group commit (append and fdatasync)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.compactions = new Counter({
      name: 'snode_store_compactions_total',
      help: 'Compactions of the announcement log, by result (done, failed)',
      labelNames: ['result'],
      registers,
    });
    this.fileBytes = new Gauge({
      name: 'snode_store_file_bytes',
      help: 'Size of the announcement log',
      registers,
    });
    this.healthy = new Gauge({
      name: 'snode_store_healthy',
      help: '1 while appends are durable; 0 after a write failure until the log is rewritten',
      registers,
    });
  }
}
