/**
 * Prometheus metrics of one route server instance. Each instance owns its registry (several
 * servers can live in one test process); `/metrics` serves it merged with the process's own
 * (process-metrics.ts), every series labelled with the process's name. docs/metrics.md lists
 * every metric.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { processRegistry } from './process-metrics.ts';

/** Route lookups take microseconds on a snapshot; the reference engine's lazy rebuild, seconds. */
const LOOKUP_BUCKETS = [
  5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1, 2.5,
];
/** Announcements: parse and verify (a worker), the node's actor, in a cluster the durable bus. */
const ANNOUNCEMENT_BUCKETS = [
  1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** A counter's values summed by one label's value. */
export type Totals = Map<string, number>;

/** Sum a counter's values by one label (missing label: `unknown`); reads, never resets. */
export async function totalsBy<L extends string>(counter: Counter<L>, label: L): Promise<Totals> {
  const out: Totals = new Map();
  for (const v of (await counter.get()).values) {
    const key = String(v.labels[label] ?? 'unknown');
    out.set(key, (out.get(key) ?? 0) + v.value);
  }
  return out;
}

/** The label every series of a process carries (docs/metrics.md, "Several processes"). */
export const PROCESS_LABEL = 'process';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly announcements: Counter<'source' | 'result'>;
  readonly announcementSeconds: Histogram<'source'>;
  readonly queries: Counter<'type'>;
  readonly routeLookups: Counter<'result'>;
  readonly routeLookupSeconds: Histogram<'query'>;
  /** the two children of routeLookupSeconds, bound once (lookups are the hot path) */
  readonly grLookupSeconds: ReturnType<Histogram<'query'>['labels']>;
  readonly pathLookupSeconds: ReturnType<Histogram<'query'>['labels']>;
  readonly routeCache: Counter<'result'>;
  readonly malformed: Counter<'way'>;
  readonly httpRequests: Counter<'route' | 'status'>;
  readonly seederPosts: Counter<'result'>;
  readonly nodes: Gauge;
  readonly links: Gauge;
  readonly storeSize: Gauge;
  private labels: Record<string, string> = {};

  constructor(sources: {
    nodes: () => number;
    links: () => number;
    storeSize: () => number;
    seederEntries?: () => number;
  }) {
    const registers = [this.registry];
    this.announcements = new Counter({
      name: 'snode_announcements_total',
      help: 'Announcements handled, by source (node, gossip, cluster) and reply error (none = accepted)',
      labelNames: ['source', 'result'],
      registers,
    });
    this.announcementSeconds = new Histogram({
      name: 'snode_announcement_duration_seconds',
      help: 'From an announcement received to its outcome (for source node: until it is durable and the reply can go)',
      labelNames: ['source'],
      buckets: ANNOUNCEMENT_BUCKETS,
      registers,
    });
    this.queries = new Counter({
      name: 'snode_subnode_queries_total',
      help: 'Subnode queries by type',
      labelNames: ['type'],
      registers,
    });
    this.routeLookups = new Counter({
      name: 'snode_route_lookups_total',
      help: 'Route lookups by result (found, none)',
      labelNames: ['result'],
      registers,
    });
    this.routeLookupSeconds = new Histogram({
      name: 'snode_route_lookup_duration_seconds',
      help: 'Route lookup time, by query (gr = subnode query, path = GET /path)',
      labelNames: ['query'],
      buckets: LOOKUP_BUCKETS,
      registers,
    });
    this.grLookupSeconds = this.routeLookupSeconds.labels({ query: 'gr' });
    this.pathLookupSeconds = this.routeLookupSeconds.labels({ query: 'path' });
    this.routeCache = new Counter({
      name: 'snode_route_cache_total',
      help: 'Route cache lookups by result (hit, miss)',
      labelNames: ['result'],
      registers,
    });
    this.malformed = new Counter({
      name: 'snode_malformed_input_total',
      help: 'Malformed inputs rejected, by way in',
      labelNames: ['way'],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'snode_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers,
    });
    this.seederPosts = new Counter({
      name: 'snode_seeder_posts_total',
      help: 'Peering credential posts (sq: pc) by result (ok, err)',
      labelNames: ['result'],
      registers,
    });
    const seederEntries = sources.seederEntries;
    if (seederEntries) {
      new Gauge({
        name: 'snode_seeder_entries',
        help: 'Peering credentials held by the seeder',
        registers,
        collect() {
          this.set(seederEntries());
        },
      });
    }
    this.nodes = new Gauge({
      name: 'snode_nodes',
      help: 'Nodes with a record',
      registers,
      collect() {
        this.set(sources.nodes());
      },
    });
    this.links = new Gauge({
      name: 'snode_links',
      help: 'Links held in node records',
      registers,
      collect() {
        this.set(sources.links());
      },
    });
    this.storeSize = new Gauge({
      name: 'snode_replication_store_announcements',
      help: 'Announcements in the replication store',
      registers,
      collect() {
        this.set(sources.storeSize());
      },
    });
  }

  /** Name this process in every series (`process="<name>"`): the cluster's process name. */
  setProcessName(name: string): void {
    this.labels = { [PROCESS_LABEL]: name };
    this.registry.setDefaultLabels(this.labels);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The `/metrics` body: this server's metrics and the process's, with the process label. */
  async exposition(): Promise<string> {
    const merged = Registry.merge([processRegistry(), this.registry]);
    merged.setDefaultLabels(this.labels);
    return merged.metrics();
  }
}
