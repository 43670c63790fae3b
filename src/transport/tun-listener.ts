/**
 * `http.host: auto` with the cjdns link on: the public listener also accepts connections on the
 * cjdns node's own IPv6 — the address of its TUN interface, which only cjdns nodes can reach —
 * while the main listener stays on loopback. The address is known once the link is attached
 * (Core_nodeInfo), so this listener follows the link: bound at each attachment (moved if the
 * address changed), retried while the TUN interface refuses the bind. Its connections are
 * handed to the same HTTP server (every limit and route applies unchanged), marked as having come
 * over cjdns (over-cjdns.ts: no subnode API there).
 */
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import type { Logger } from '../log.ts';
import { markOverCjdns } from './over-cjdns.ts';

export const TUN_LISTEN_RETRY_MS = 10_000;

export class TunListener {
  private net: Server | undefined;
  private bound: string | undefined;
  private wanted: string | undefined;
  private retry: NodeJS.Timeout | undefined;
  private binding = false;
  private closed = false;

  constructor(
    private readonly http: HttpServer,
    private readonly port: number,
    private readonly log: Logger,
    private readonly retryMs = TUN_LISTEN_RETRY_MS,
  ) {}

  /** The address listened on now, if any. */
  get address(): string | undefined {
    return this.bound;
  }

  /** Listen on `ipv6` (the attached cjdns node's address). */
  follow(ipv6: string): void {
    if (
      this.closed ||
      (this.wanted === ipv6 && (this.bound === ipv6 || this.retry || this.binding))
    )
      return;
    this.wanted = ipv6;
    if (this.binding) return; // the bind under way follows the new address when it is done
    clearTimeout(this.retry);
    this.retry = undefined;
    void this.rebind();
  }

  private async rebind(): Promise<void> {
    this.binding = true;
    try {
      await this.bindWanted();
    } finally {
      this.binding = false;
    }
    // the address changed while binding: follow it
    if (!this.closed && this.wanted !== this.bound && !this.retry) void this.rebind();
  }

  private async bindWanted(): Promise<void> {
    const ipv6 = this.wanted;
    if (this.closed || ipv6 === undefined) return;
    await this.stop();
    const net = createServer((socket) => {
      markOverCjdns(socket);
      this.http.emit('connection', socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        net.once('error', reject);
        net.listen({ host: ipv6, port: this.port }, () => {
          net.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      if (this.closed || this.wanted !== ipv6) return;
      this.log.warn(
        {
          event: 'http:tun:listen_failed',
          host: ipv6,
          port: this.port,
          err: (e as Error).message,
          retryInMs: this.retryMs,
        },
        'cannot listen on the cjdns address (is the cjdns TUN interface up?)',
      );
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (!this.binding) void this.rebind();
      }, this.retryMs);
      this.retry.unref();
      return;
    }
    if (this.closed || this.wanted !== ipv6) {
      net.close();
      return;
    }
    this.net = net;
    this.bound = ipv6;
    net.on('error', (err) =>
      this.log.warn({ event: 'http:tun:error', err: err.message }, 'cjdns-address listener error'),
    );
    this.log.info(
      { event: 'http:tun:listening', host: ipv6, port: this.port },
      'also listening on the cjdns address',
    );
  }

  private stop(): Promise<void> {
    const net = this.net;
    this.net = undefined;
    this.bound = undefined;
    return net ? new Promise((resolve) => net.close(() => resolve())) : Promise.resolve();
  }

  /** Stop listening (connections already handed over close with the HTTP server). */
  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    return this.stop();
  }
}
