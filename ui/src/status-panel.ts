/** The live status panel, redrawn from every sample of the status stream. */
import type { UiRates, UiStatus } from './api.ts';
import { byId, el, replace } from './dom.ts';
import { ago, count, rate } from './format.ts';

const HISTORY = 120;

function ratesTable(id: string, title: string, r: UiRates): HTMLElement {
  const keys = Object.keys(r.total).sort((a, b) => (r.total[b] ?? 0) - (r.total[a] ?? 0));
  return el(
    'table',
    { id },
    el(
      'tr',
      {},
      el('th', {}, title),
      el('th', { class: 'num' }, '/s'),
      el('th', { class: 'num' }, 'total'),
    ),
    ...(keys.length === 0
      ? [el('tr', {}, el('td', { class: 'hint' }, 'none yet'), el('td', {}), el('td', {}))]
      : keys.map((k) =>
          el(
            'tr',
            { 'data-key': k },
            el('td', {}, k),
            el('td', { class: 'num' }, rate(r.perSecond[k] ?? 0)),
            el('td', { class: 'num' }, count(r.total[k] ?? 0)),
          ),
        )),
  );
}

function sum(r: Readonly<Record<string, number>>): number {
  let s = 0;
  for (const v of Object.values(r)) s += v;
  return s;
}

export class StatusPanel {
  private readonly history: number[] = [];
  private readonly spark = el('canvas', {
    class: 'spark',
    width: '340',
    height: '36',
    id: 'ann-spark',
  });
  latest: UiStatus | null = null;

  constructor(private readonly onSample?: (s: UiStatus) => void) {}

  connection(connected: boolean): void {
    const dot = byId('status-conn');
    dot.className = `dot ${connected ? 'on' : 'off'}`;
    dot.title = connected ? 'live' : 'disconnected (retrying)';
  }

  update(s: UiStatus): void {
    this.latest = s;
    if (s.intervalSec > 0) {
      this.history.push(sum(s.announcements.perSecond));
      if (this.history.length > HISTORY) this.history.shift();
    }
    const failing = Object.entries(s.checks).filter(([, c]) => !c.ok);
    const peers = s.replication.peers;
    replace(
      byId('status-body'),
      el(
        'dl',
        {},
        el('dt', {}, 'state'),
        el(
          'dd',
          { id: 'status-ready', class: s.ready ? '' : 'error' },
          s.ready
            ? 'ready'
            : `not ready: ${failing.map(([k, c]) => `${k}${c.detail ? ` (${c.detail})` : ''}`).join(', ')}`,
        ),
        el('dt', {}, 'nodes'),
        el('dd', { id: 'status-nodes' }, count(s.nodes)),
        el(
          'dt',
          {},
          'links',
          el(
            'span',
            {
              class: 'hint',
              title: 'links as the nodes announce them: a link both ends announce counts twice',
            },
            ' (announced)',
          ),
        ),
        el('dd', { id: 'status-links' }, count(s.links)),
        el('dt', {}, 'stored'),
        el('dd', {}, `${count(s.replication.storedAnnouncements)} announcements`),
      ),
      el('h3', {}, 'Announcements by result'),
      this.spark,
      ratesTable('status-announcements', 'result', s.announcements),
      el('h3', {}, 'Announcements by source'),
      ratesTable('status-sources', 'source', s.announcementSources),
      el('h3', {}, 'Subnode queries'),
      ratesTable('status-queries', 'type', s.queries),
      el('h3', {}, 'Route lookups'),
      ratesTable('status-routes', 'result', s.routeLookups),
      el('h3', {}, `Replication peers (${peers.length})`),
      peers.length === 0
        ? el('p', { class: 'hint' }, 'no peers')
        : el(
            'table',
            { id: 'status-peers' },
            el(
              'tr',
              {},
              el('th', {}, 'peer'),
              el('th', { class: 'num' }, 'queue'),
              el('th', {}, 'initial sync'),
            ),
            ...peers.map((p) =>
              el(
                'tr',
                {},
                el('td', { class: 'mono' }, p.addr),
                el('td', { class: 'num' }, `${p.msgQueue}/${p.outstandingRequests}`),
                el(
                  'td',
                  {},
                  p.sync
                    ? el(
                        'div',
                        {
                          title: `${p.sync.state}: ${p.sync.fetched} fetched, ${p.sync.failed} failed of ${p.sync.needed} needed (${p.sync.advertised} advertised)`,
                        },
                        `${p.sync.state} ${Math.round(p.sync.progress * 100)} %`,
                        el(
                          'div',
                          { class: 'bar' },
                          el('div', { style: `width:${Math.round(p.sync.progress * 100)}%` }),
                        ),
                      )
                    : 'inbound',
                ),
              ),
            ),
          ),
      el('h3', {}, 'cjdns link'),
      s.cjdns === null
        ? el('p', { class: 'hint', id: 'status-cjdns' }, 'not enabled')
        : el(
            'dl',
            { id: 'status-cjdns' },
            el('dt', {}, 'state'),
            el('dd', {}, String(s.cjdns.state ?? '?')),
            el('dt', {}, 'admin'),
            el('dd', { class: 'mono' }, String(s.cjdns.adminAddr ?? '?')),
            el('dt', {}, 'attached'),
            el('dd', {}, typeof s.cjdns.attachedAt === 'string' ? s.cjdns.attachedAt : '—'),
            el('dt', {}, 'last error'),
            el('dd', {}, typeof s.cjdns.lastError === 'string' ? s.cjdns.lastError : '—'),
          ),
      el('h3', {}, `Cluster (${s.cluster.bus} bus)`),
      el(
        'dl',
        {},
        el('dt', {}, 'bus'),
        el(
          'dd',
          {},
          `${s.cluster.connected ? 'connected' : 'disconnected'}, ${s.cluster.ready ? 'caught up' : 'catching up'}, backlog ${count(s.cluster.backlog)}`,
        ),
        el('dt', {}, 'lag'),
        el(
          'dd',
          {},
          s.cluster.lagMs.p99 !== undefined ? `p99 ${count(s.cluster.lagMs.p99)} ms` : '—',
        ),
      ),
      el(
        'table',
        { id: 'status-processes' },
        el(
          'tr',
          {},
          el('th', {}, 'process'),
          el('th', { class: 'num' }, 'entries'),
          el('th', {}, 'last seen'),
        ),
        ...s.cluster.processes.map((p) =>
          el(
            'tr',
            {},
            el('td', { class: 'mono' }, p.origin + (p.self ? ' (this)' : '')),
            el('td', { class: 'num' }, count(p.entries)),
            el('td', {}, p.self ? 'now' : ago(s.time - p.lastSeen)),
          ),
        ),
      ),
    );
    this.drawSpark();
    this.onSample?.(s);
  }

  private drawSpark(): void {
    const ctx = this.spark.getContext('2d');
    if (!ctx) return;
    const { width: w, height: h } = this.spark;
    ctx.clearRect(0, 0, w, h);
    const max = Math.max(1, ...this.history);
    ctx.strokeStyle = '#2a9d8f';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    this.history.forEach((v, i) => {
      const x = (i / (HISTORY - 1)) * w;
      const y = h - 2 - (v / max) * (h - 4);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = '#66727f';
    ctx.font = '10px system-ui';
    ctx.fillText(`${rate(this.history[this.history.length - 1] ?? 0)}/s (max ${rate(max)})`, 4, 11);
  }
}
