/** A node's details: identity, last seen, its links with their values, its kept announcements. */
import type { UiNode } from './api.ts';
import { byId, el, replace } from './dom.ts';
import { ago, count, isoTime, shortIp } from './format.ts';

export interface DetailsActions {
  select(ip: string): void;
  routeFrom(ip: string): void;
  routeTo(ip: string): void;
  /** the server's clock now (ms), for "last seen" */
  serverNow(): number;
}

function nodeLink(ip: string, actions: DetailsActions): HTMLElement {
  const a = el('a', { class: 'node mono', title: ip, 'data-ip': ip }, shortIp(ip));
  a.addEventListener('click', () => actions.select(ip));
  return a;
}

function value(v: number): string {
  return v === 0 ? '0' : v >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

export function showLoading(ip: string): void {
  replace(
    byId('details'),
    el('h2', {}, 'Node'),
    el('p', { class: 'mono' }, ip),
    el('p', { class: 'hint' }, 'loading…'),
  );
}

export function showError(ip: string, message: string): void {
  replace(
    byId('details'),
    el('h2', {}, 'Node'),
    el('p', { class: 'mono' }, ip),
    el('p', { class: 'error' }, message),
  );
}

export function showNode(node: UiNode, degreeOnMap: number, actions: DetailsActions): void {
  const from = el('button', { type: 'button', id: 'route-from' }, 'Route from here');
  from.addEventListener('click', () => actions.routeFrom(node.ip));
  const to = el('button', { type: 'button', id: 'route-to' }, 'Route to here');
  to.addEventListener('click', () => actions.routeTo(node.ip));

  const links = el(
    'table',
    { id: 'node-links' },
    el(
      'tr',
      {},
      el('th', {}, 'peer'),
      el('th', {}, 'label'),
      el('th', { class: 'num' }, 'value'),
      el('th', { class: 'num' }, 'back'),
      el('th', { class: 'num' }, 'lag'),
    ),
    ...node.links.map((l) =>
      el(
        'tr',
        {},
        el('td', {}, nodeLink(l.peer, actions)),
        el('td', { class: 'mono' }, l.label),
        el('td', { class: 'num' }, value(l.value)),
        el(
          'td',
          {
            class: 'num',
            title: l.back
              ? `the peer announces this node with ${l.back.label}`
              : 'the peer does not announce this node',
          },
          l.back ? value(l.back.value) : '—',
        ),
        el('td', { class: 'num' }, l.last ? String(l.last.lag) : '—'),
      ),
    ),
  );
  const anns = el(
    'table',
    { id: 'node-announcements' },
    el(
      'tr',
      {},
      el('th', {}, 'time'),
      el('th', {}, 'kind'),
      el('th', { class: 'num' }, 'bytes'),
      el('th', {}, 'entities'),
    ),
    ...node.announcements.map((a) =>
      el(
        'tr',
        { title: `hash ${a.hash}` },
        el('td', {}, isoTime(a.timestamp)),
        el('td', {}, a.isReset ? 'reset' : 'update'),
        el('td', { class: 'num' }, count(a.bytes)),
        el(
          'td',
          {},
          Object.entries(a.entities)
            .map(([t, n]) => `${n} ${t}`)
            .join(', ') || '—',
        ),
      ),
    ),
  );
  replace(
    byId('details'),
    el('h2', {}, 'Node'),
    el(
      'dl',
      {},
      el('dt', {}, 'IPv6'),
      el('dd', { class: 'mono', id: 'node-ip' }, node.ip),
      el('dt', {}, 'key'),
      el('dd', { class: 'mono' }, node.key),
      el('dt', {}, 'last seen'),
      el(
        'dd',
        { id: 'node-last-seen', title: isoTime(node.lastSeen) },
        `${ago(actions.serverNow() - node.lastSeen)} (${isoTime(node.lastSeen)})`,
      ),
      el('dt', {}, 'version'),
      el('dd', {}, String(node.version)),
      el('dt', {}, 'scheme'),
      el('dd', { class: 'mono' }, node.encodingScheme),
      el('dt', {}, 'peers'),
      el('dd', {}, `${node.links.length} announced links, ${degreeOnMap} on the map`),
    ),
    el('div', { class: 'row', style: 'margin-top:8px' }, from, to),
    el('h3', {}, `Links (${node.links.length})`),
    el('div', { class: 'links' }, links),
    el('h3', {}, `Kept announcements (${node.announcements.length})`),
    anns,
  );
}
