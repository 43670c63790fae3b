/**
 * Metrics of the process rather than of one route server: prom-client's default process and
 * Node.js metrics, the event-loop delay over fixed windows, and `snode_build_info`. Registered
 * once per process (a test process holds many route servers) and merged into every `/metrics`
 * answer by ServerMetrics. docs/metrics.md lists them.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../lib/version.ts';

/**
 * prom-client's event-loop-lag family resets its delay histogram at every scrape, so two scrapers
 * (or a curl beside Prometheus) each see a part of the window: left out, and replaced by
 * `snode_event_loop_lag_*_seconds`, which read fixed windows.
 */
const RESET_ON_READ = [
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
];

/** Length of one event-loop delay window; the gauges show the last complete one. */
export const EVENT_LOOP_WINDOW_MS = 10_000;

export interface LoopWindow {
  readonly p99Seconds: number;
  readonly maxSeconds: number;
}

/** What the window reads of perf_hooks' event-loop delay histogram (nanoseconds). */
export type DelaySampler = Pick<IntervalHistogram, 'percentile' | 'max' | 'reset'>;

/**
 * The event-loop delay of the last complete window. Only `close()` (a timer, never a scrape)
 * ends a window, so reading never changes what the next reader sees.
 */
export class EventLoopDelayWindow {
  private last: LoopWindow | undefined;

  constructor(private readonly sampler: DelaySampler) {}

  private current(): LoopWindow {
    return { p99Seconds: this.sampler.percentile(99) / 1e9, maxSeconds: this.sampler.max / 1e9 };
  }

  /** End the window in progress: it becomes what `read()` answers; the next one starts empty. */
  close(): void {
    this.last = this.current();
    this.sampler.reset();
  }

  /** The last complete window (before the first one closes, the one in progress). */
  read(): LoopWindow {
    return this.last ?? this.current();
  }
}

function registerEventLoopWindow(registry: Registry): void {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const window = new EventLoopDelayWindow(h);
  setInterval(() => window.close(), EVENT_LOOP_WINDOW_MS).unref();
  const over = `over the last complete ${EVENT_LOOP_WINDOW_MS / 1000} s window (10 ms resolution)`;
  new Gauge({
    name: 'snode_event_loop_lag_p99_seconds',
    help: `p99 event-loop delay ${over}`,
    registers: [registry],
    collect() {
      this.set(window.read().p99Seconds);
    },
  });
  new Gauge({
    name: 'snode_event_loop_lag_max_seconds',
    help: `Longest event-loop delay ${over}`,
    registers: [registry],
    collect() {
      this.set(window.read().maxSeconds);
    },
  });
}

function registerBuildInfo(registry: Registry): void {
  const info = new Gauge({
    name: 'snode_build_info',
    help: 'Always 1; the labels name the build: version (package.json), node (Node.js version)',
    labelNames: ['version', 'node'],
    registers: [registry],
  });
  info.set({ version: VERSION, node: process.versions.node }, 1);
}

let shared: Registry | undefined;

/** The process's registry (created on first use). */
export function processRegistry(): Registry {
  if (shared) return shared;
  const registry = new Registry();
  // the left-out lag family still samples; at 1 s resolution that costs one timer a second
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  for (const name of RESET_ON_READ) registry.removeSingleMetric(name);
  registerEventLoopWindow(registry);
  registerBuildInfo(registry);
  shared = registry;
  return registry;
}
