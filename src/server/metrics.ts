/**
 * Prometheus metrics of one route server instance. Each instance owns its registry (several
 * servers can live in one test process).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly announcements: Counter<'source' | 'result'>;
  readonly queries: Counter<'type'>;
  readonly routeLookups: Counter<'result'>;
  readonly routeCache: Counter<'result'>;
  readonly malformed: Counter<'way'>;
  readonly httpRequests: Counter<'route' | 'status'>;
  readonly seederPosts: Counter<'result'>;
  readonly nodes: Gauge;
  readonly links: Gauge;
  readonly storeSize: Gauge;
  readonly eventLoopLagP99: Gauge;
  private readonly loopDelay: IntervalHistogram;

  constructor(sources: { nodes: () => number; links: () => number; storeSize: () => number; seederEntries?: () => number }, opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.announcements = new Counter({
      name: 'snode_announcements_total',
      help: 'Announcements handled, by source (node, gossip) and reply error (none = accepted)',
      labelNames: ['source', 'result'],
      registers,
    });
    this.queries = new Counter({ name: 'snode_subnode_queries_total', help: 'Subnode queries by type', labelNames: ['type'], registers });
    this.routeLookups = new Counter({ name: 'snode_route_lookups_total', help: 'Route lookups by result (found, none)', labelNames: ['result'], registers });
    this.routeCache = new Counter({ name: 'snode_route_cache_total', help: 'Route cache lookups by result (hit, miss)', labelNames: ['result'], registers });
    this.malformed = new Counter({ name: 'snode_malformed_input_total', help: 'Malformed inputs rejected, by way in', labelNames: ['way'], registers });
    this.httpRequests = new Counter({ name: 'snode_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers });
    this.seederPosts = new Counter({ name: 'snode_seeder_posts_total', help: 'Peering credential posts (sq: pc) by result (ok, err)', labelNames: ['result'], registers });
    const seederEntries = sources.seederEntries;
    if (seederEntries) new Gauge({ name: 'snode_seeder_entries', help: 'Peering credentials held by the seeder', registers, collect() { this.set(seederEntries()); } });
    this.nodes = new Gauge({ name: 'snode_nodes', help: 'Nodes with a record', registers, collect() { this.set(sources.nodes()); } });
    this.links = new Gauge({ name: 'snode_links', help: 'Links held in node records', registers, collect() { this.set(sources.links()); } });
    this.storeSize = new Gauge({ name: 'snode_replication_store_announcements', help: 'Announcements in the replication store', registers, collect() { this.set(sources.storeSize()); } });
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    const loop = this.loopDelay;
    this.eventLoopLagP99 = new Gauge({
      name: 'snode_event_loop_lag_p99_seconds',
      help: 'p99 event-loop delay since the previous scrape',
      registers,
      collect() {
        this.set(loop.percentile(99) / 1e9);
        loop.reset();
      },
    });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'snode_' });
  }

  close(): void {
    this.loopDelay.disable();
  }
}
