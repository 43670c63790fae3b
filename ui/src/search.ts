/**
 * Search by IPv6 or key. Any part of an address matches (colons optional: `fc12:34` and `fc1234`
 * find the same nodes); a key (`….k`) or a `::`-shortened address is resolved by the server.
 */
import { fetchNode } from './api.ts';
import { byId, el, replace } from './dom.ts';

const MAX_RESULTS = 12;

export class Search {
  private readonly plain: string[];
  private readonly input = byId<HTMLInputElement>('search-input');
  private readonly list = byId<HTMLUListElement>('search-results');
  private results: string[] = [];
  private debounce: number | undefined;

  constructor(
    private readonly ips: readonly string[],
    private readonly onSelect: (ip: string) => void,
  ) {
    this.plain = ips.map((ip) => ip.replaceAll(':', ''));
    this.input.addEventListener('input', () => {
      window.clearTimeout(this.debounce);
      this.debounce = window.setTimeout(() => this.update(), 120);
    });
    byId<HTMLFormElement>('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.submit();
    });
  }

  /** Nodes whose address contains `query` (colons ignored), best first. */
  matches(query: string): string[] {
    const q = query.trim().toLowerCase().replaceAll(':', '');
    if (q.length < 2 || !/^[0-9a-f]+$/.test(q)) return [];
    const starts: string[] = [];
    const contains: string[] = [];
    for (let i = 0; i < this.plain.length && starts.length < MAX_RESULTS; i++) {
      const at = this.plain[i]!.indexOf(q);
      if (at === 0) starts.push(this.ips[i]!);
      else if (at > 0 && contains.length < MAX_RESULTS) contains.push(this.ips[i]!);
    }
    return [...starts, ...contains].slice(0, MAX_RESULTS);
  }

  private update(): void {
    const q = this.input.value.trim();
    this.results = q.endsWith('.k') || q.includes('::') ? [] : this.matches(q);
    replace(
      this.list,
      ...this.results.map((ip) => {
        const li = el('li', { class: 'mono', 'data-ip': ip }, ip);
        li.addEventListener('click', () => this.onSelect(ip));
        return li;
      }),
    );
    if (q.length >= 2 && this.results.length === 0 && !q.endsWith('.k') && !q.includes('::')) {
      this.list.append(el('li', { class: 'hint' }, 'no node matches'));
    }
  }

  private async submit(): Promise<void> {
    const q = this.input.value.trim();
    if (q === '') return;
    this.update();
    if (this.results.length > 0) {
      this.onSelect(this.results[0]!);
      return;
    }
    try {
      const node = await fetchNode(q);
      this.onSelect(node.ip);
    } catch (e) {
      replace(this.list, el('li', { class: 'error' }, (e as Error).message));
    }
  }

  /** Run a search as if typed (the tests and links use it). */
  async run(query: string): Promise<void> {
    this.input.value = query;
    await this.submit();
  }
}
