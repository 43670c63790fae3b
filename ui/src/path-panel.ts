/** The route panel: two nodes in, the server's route out (label, hops), drawn on the map. */
import { fetchPath, type UiPath } from './api.ts';
import { byId, el, replace } from './dom.ts';
import { shortIp } from './format.ts';

export class PathPanel {
  private readonly src = byId<HTMLInputElement>('path-src');
  private readonly dst = byId<HTMLInputElement>('path-dst');
  private readonly out = byId('path-result');
  current: UiPath | null = null;

  constructor(
    private readonly onPath: (p: UiPath | null) => void,
    private readonly select: (ip: string) => void,
  ) {
    byId<HTMLFormElement>('path-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.find();
    });
    byId('path-clear').addEventListener('click', () => this.clear());
  }

  setSrc(ip: string): void {
    this.src.value = ip;
    if (this.dst.value.trim() !== '') void this.find();
  }

  setDst(ip: string): void {
    this.dst.value = ip;
    if (this.src.value.trim() !== '') void this.find();
  }

  clear(): void {
    this.current = null;
    this.src.value = '';
    this.dst.value = '';
    replace(this.out);
    this.onPath(null);
  }

  async find(): Promise<UiPath | null> {
    const s = this.src.value.trim();
    const d = this.dst.value.trim();
    if (s === '' || d === '') {
      replace(this.out, el('p', { class: 'hint' }, 'give both ends'));
      return null;
    }
    replace(this.out, el('p', { class: 'hint' }, 'asking the route server…'));
    try {
      const p = await fetchPath(s, d);
      this.current = p;
      this.render(p);
      this.onPath(p);
      return p;
    } catch (e) {
      this.current = null;
      replace(this.out, el('p', { class: 'error', id: 'path-error' }, (e as Error).message));
      this.onPath(null);
      return null;
    }
  }

  private render(p: UiPath): void {
    if (!p.found) {
      replace(
        this.out,
        el('p', { class: 'error', id: 'path-none' }, 'no route between these nodes'),
      );
      return;
    }
    const rows = p.nodes.map((ip, i) => {
      const a = el('a', { class: 'node mono', title: ip }, shortIp(ip));
      a.addEventListener('click', () => this.select(ip));
      const hop = i > 0 ? p.hops[i - 1] : undefined;
      return el(
        'tr',
        {},
        el('td', { class: 'num' }, String(i)),
        el('td', {}, a),
        el('td', { class: 'mono' }, hop ? hop.label : '—'),
      );
    });
    replace(
      this.out,
      el(
        'dl',
        {},
        el('dt', {}, 'label'),
        el('dd', { class: 'mono', id: 'path-label' }, p.label ?? ''),
        el('dt', {}, 'hops'),
        el('dd', { id: 'path-hops' }, String(p.hops.length)),
      ),
      el(
        'table',
        { id: 'path-table' },
        el(
          'tr',
          {},
          el('th', { class: 'num' }, '#'),
          el('th', {}, 'node'),
          el('th', {}, 'hop label'),
        ),
        ...rows,
      ),
    );
  }
}
