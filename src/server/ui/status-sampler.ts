/**
 * Samples the live status of the process for the map page: counters from the metrics registry
 * turned into per-second rates between two samples, and the current gauges (nodes, links,
 * replication peers, cjdns link, cluster). One sampler serves every viewer (the event stream
 * samples once per tick, whatever the number of pages open).
 */
import type { Counter } from 'prom-client';
import type { PeerInfo } from '../../replication/peer-info.ts';
import { totalsBy, type Totals } from '../metrics.ts';
import type { UiPeer, UiRates, UiStatus } from './status-wire.ts';

export interface StatusSources {
  readonly counters: {
    readonly announcements: Counter<'source' | 'result'>;
    readonly queries: Counter<'type'>;
    readonly routeLookups: Counter<'result'>;
  };
  /** ms, the server's clock (shown as the status time) */
  now(): number;
  /** ms, monotonic (the rates' interval) */
  monotonic?(): number;
  self(): UiStatus['self'];
  readiness(): { ready: boolean; checks: UiStatus['checks'] };
  nodes(): number;
  links(): number;
  peerInfo(): PeerInfo;
  cjdns(): Readonly<Record<string, unknown>> | null;
  cluster(): UiStatus['cluster'];
}

/** Rates between two totals over `seconds` (a counter that went down, e.g. reset: its new total). */
export function ratesOf(now: Totals, before: Totals | undefined, seconds: number): UiRates {
  const perSecond: Record<string, number> = {};
  const total: Record<string, number> = {};
  for (const [k, v] of now) {
    total[k] = v;
    const prev = before?.get(k) ?? 0;
    const delta = v >= prev ? v - prev : v;
    perSecond[k] = seconds > 0 && before !== undefined ? delta / seconds : 0;
  }
  return { perSecond, total };
}

function peerOf(
  p: PeerInfo['peers'][number] & { sync?: Partial<Record<string, unknown>> },
): UiPeer {
  const base = {
    addr: p.addr,
    outstandingRequests: p.outstandingRequests,
    msgsOnWire: p.msgsOnWire,
    msgQueue: p.msgQueue,
  };
  const s = p.sync;
  if (!s) return base;
  const num = (k: string): number => (typeof s[k] === 'number' ? (s[k] as number) : 0);
  return {
    ...base,
    sync: {
      state: typeof s.state === 'string' ? s.state : 'unknown',
      advertised: num('advertised'),
      needed: num('needed'),
      fetched: num('fetched'),
      failed: num('failed'),
      progress: num('progress'),
    },
  };
}

export class StatusSampler {
  private previous: { at: number; ann: Totals; src: Totals; q: Totals; routes: Totals } | undefined;

  constructor(private readonly sources: StatusSources) {}

  async sample(): Promise<UiStatus> {
    const s = this.sources;
    const at = s.monotonic ? s.monotonic() : performance.now();
    const [ann, src, q, routes] = await Promise.all([
      totalsBy(s.counters.announcements, 'result'),
      totalsBy(s.counters.announcements, 'source'),
      totalsBy(s.counters.queries, 'type'),
      totalsBy(s.counters.routeLookups, 'result'),
    ]);
    const prev = this.previous;
    const seconds = prev ? Math.max(0, (at - prev.at) / 1000) : 0;
    this.previous = { at, ann, src, q, routes };
    const readiness = s.readiness();
    const info = s.peerInfo();
    return {
      time: s.now(),
      intervalSec: seconds,
      self: s.self(),
      ready: readiness.ready,
      checks: readiness.checks,
      nodes: s.nodes(),
      links: s.links(),
      announcements: ratesOf(ann, prev?.ann, seconds),
      announcementSources: ratesOf(src, prev?.src, seconds),
      queries: ratesOf(q, prev?.q, seconds),
      routeLookups: ratesOf(routes, prev?.routes, seconds),
      replication: { peers: info.peers.map(peerOf), storedAnnouncements: info.announcements },
      cjdns: s.cjdns(),
      cluster: s.cluster(),
    };
  }
}
