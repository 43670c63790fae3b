/**
 * Who the client of a request is, for the per-address limits and the replication allow-list.
 * The socket's peer, unless that peer is a trusted proxy (`http.trustedProxies`, e.g. the
 * cluster's HAProxy with `option forwardfor`): then `X-Forwarded-For` is read from the right —
 * each proxy appends the address it received from — skipping trusted proxies; the first other
 * address is the client. Entries left of it were written by the client itself and are ignored,
 * so a client cannot pick its own address. A malformed entry stops the walk at the last proxy.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { AllowList } from '../replication/allow-list.ts';

export class ClientAddress {
  private readonly proxies: AllowList | undefined;

  constructor(trustedProxies: readonly string[]) {
    this.proxies = trustedProxies.length > 0 ? new AllowList(trustedProxies) : undefined;
  }

  of(req: IncomingMessage): string {
    const peer = req.socket.remoteAddress ?? '';
    if (!this.proxies || !this.proxies.allows(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!.trim();
      if (hop === '' || isIP(hop) === 0) break;
      client = hop;
      if (!this.proxies.allows(hop)) break;
    }
    return client;
  }
}
