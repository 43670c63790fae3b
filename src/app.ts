/**
 * Composition root of one route-server process: identity, route server, HTTP, timers, and
 * graceful shutdown. `snode serve` and the integration tests start it.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Config } from './config.ts';
import { TABLE_CLEAN_CYCLE_MS } from './graph/constants.ts';
import type { Logger } from './log.ts';
import { hexToBytes } from './protocol/hex.ts';
import { systemClock, type Clock } from './server/clock.ts';
import type { PeerInfo } from './server/http-views.ts';
import { identityFromPrivateKey, loadOrCreateIdentity, type SelfIdentity } from './server/identity.ts';
import { RouteServer } from './server/route-server.ts';
import { createHttpServer, type Readiness } from './transport/http-server.ts';

export interface App {
  readonly server: RouteServer;
  readonly http: Server;
  readonly identity: SelfIdentity;
  /** the bound HTTP address (port resolved when 0 was asked for) */
  address(): { host: string; port: number };
  close(): Promise<void>;
}

export interface AppOptions {
  clock?: Clock;
  /** run node expiry on a timer (default true) */
  expiryTimer?: boolean;
}

export function resolveIdentity(config: Readonly<Config>, log: Logger): SelfIdentity {
  if (config.identity.privateKey) {
    return identityFromPrivateKey(hexToBytes(config.identity.privateKey.toLowerCase()), config.identity.version);
  }
  const { identity, created } = loadOrCreateIdentity(config.identity.file, config.identity.version);
  log.info(
    { event: created ? 'identity:file:created' : 'identity:file:loaded', file: config.identity.file, key: identity.key, ipv6: identity.ipv6 },
    created ? 'generated a new route-server identity' : 'loaded the route-server identity',
  );
  return identity;
}

export async function startApp(config: Readonly<Config>, log: Logger, opts: AppOptions = {}): Promise<App> {
  const identity = resolveIdentity(config, log);
  const server = new RouteServer({ self: identity, clock: opts.clock ?? systemClock, log });
  let listening = false;
  const peerInfo = (): PeerInfo => ({ peers: [], ...server.core.store.sizes() });
  const readiness = (): Readiness => ({ ready: listening, checks: { http: { ok: listening } } });

  const http = createHttpServer({
    server,
    metrics: server.metrics,
    log,
    maxBodyBytes: config.http.maxBodyBytes,
    requestTimeoutMs: config.http.requestTimeoutMs,
    readiness,
    peerInfo,
    status: () => ({ self: { key: identity.key, ipv6: identity.ipv6, version: identity.version }, nodes: server.core.nodes.size }),
  });

  const timers: NodeJS.Timeout[] = [];
  if (opts.expiryTimer ?? true) {
    const t = setInterval(() => {
      const n = server.expire();
      if (n > 0) log.info({ event: 'snode:table:expired', announcements: n }, 'expired silent nodes');
    }, TABLE_CLEAN_CYCLE_MS);
    t.unref();
    timers.push(t);
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen({ host: config.http.host, port: config.http.port }, () => {
      http.off('error', reject);
      resolve();
    });
  });
  listening = true;
  const addr = http.address() as AddressInfo;
  log.info({ event: 'http:server:listening', host: addr.address, port: addr.port, key: identity.key, ipv6: identity.ipv6 }, 'route server listening');

  let closing: Promise<void> | undefined;
  return {
    server,
    http,
    identity,
    address: () => ({ host: addr.address, port: addr.port }),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        listening = false;
        for (const t of timers) clearInterval(t);
        http.close(() => resolve());
        http.closeIdleConnections();
        setTimeout(() => http.closeAllConnections(), 5000).unref();
        server.close();
      })),
  };
}
