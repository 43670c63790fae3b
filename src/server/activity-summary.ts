/**
 * The `info` line an operator reads every minute (`snode:activity:summary`): announcements by
 * reply error and by source, subnode queries by type, route lookups by result in the last
 * period, and the node and link counts now. The figures are the increments of the `/metrics` counters since the
 * previous line, so the log and the metrics never disagree. docs/logs.md.
 */
import type { Logger } from '../log.ts';
import { totalsBy, type ServerMetrics, type Totals } from './metrics.ts';

export const ACTIVITY_SUMMARY_INTERVAL_MS = 60_000;

/** What grew since `before`, as a plain object (keys that did not grow are left out). */
function increments(now: Totals, before: Totals | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of now) {
    const d = v - (before?.get(k) ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

interface Reading {
  readonly at: number;
  readonly announcements: Totals;
  readonly sources: Totals;
  readonly queries: Totals;
  readonly lookups: Totals;
}

export interface ActivitySources {
  readonly metrics: ServerMetrics;
  readonly nodes: () => number;
  readonly links: () => number;
  readonly now: () => number;
}

export class ActivitySummary {
  private last: Reading | undefined;

  constructor(
    private readonly sources: ActivitySources,
    private readonly log: Logger,
  ) {}

  /** Read the counters now; the first line covers the time since this call. */
  async start(): Promise<void> {
    this.last = await this.read();
  }

  private async read(): Promise<Reading> {
    const m = this.sources.metrics;
    return {
      at: this.sources.now(),
      announcements: await totalsBy(m.announcements, 'result'),
      sources: await totalsBy(m.announcements, 'source'),
      queries: await totalsBy(m.queries, 'type'),
      lookups: await totalsBy(m.routeLookups, 'result'),
    };
  }

  /** Log the line for the period since the previous one. */
  async emit(): Promise<void> {
    const now = await this.read();
    const before = this.last;
    this.last = now;
    this.log.info(
      {
        event: 'snode:activity:summary',
        periodSeconds: before ? Math.round((now.at - before.at) / 1000) : undefined,
        announcements: increments(now.announcements, before?.announcements),
        announcementSources: increments(now.sources, before?.sources),
        queries: increments(now.queries, before?.queries),
        routeLookups: increments(now.lookups, before?.lookups),
        nodes: this.sources.nodes(),
        links: this.sources.links(),
      },
      'activity since the previous summary',
    );
  }
}

/** Log a summary every `intervalMs` until the returned function is called. */
export async function startActivitySummary(
  sources: ActivitySources,
  log: Logger,
  intervalMs = ACTIVITY_SUMMARY_INTERVAL_MS,
): Promise<() => void> {
  const summary = new ActivitySummary(sources, log);
  await summary.start();
  const timer = setInterval(() => {
    summary
      .emit()
      .catch((err: unknown) =>
        log.warn({ event: 'snode:activity:summary_failed', err }, 'could not summarise'),
      );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
