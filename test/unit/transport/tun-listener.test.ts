/**
 * The cjdns-address listener of `http.host: auto`: connections on the followed address reach the
 * same HTTP server; an address that cannot be bound is retried; following another address moves
 * the listener. '::1' and '127.0.0.1' stand in for the cjdns node's TUN address.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../../src/log.ts';
import { TunListener } from '../../../src/transport/tun-listener.ts';
import { httpRequest } from '../../helpers/http.ts';
import { until } from '../../helpers/raw-http.ts';

describe('transport/tun-listener', () => {
  let http: Server;
  let port: number;
  let tun: TunListener | undefined;

  beforeEach(async () => {
    http = createServer((_req, res) => res.end('same server'));
    await new Promise<void>((r) => http.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    port = (http.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await tun?.close();
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  });

  it('hands connections on the followed address to the HTTP server, on the same port', async () => {
    tun = new TunListener(http, port, silentLogger());
    tun.follow('::1');
    await until(() => tun!.address === '::1', 'listening on ::1');
    const r = await httpRequest(port, '/', { host: '::1' });
    expect(r.body.toString()).to.equal('same server');
  });

  it('retries an address it cannot bind yet, and moves when the address changes', async () => {
    tun = new TunListener(http, port, silentLogger(), 20);
    tun.follow('192.0.2.1'); // not an address of this host (TEST-NET-1)
    await new Promise((r) => setTimeout(r, 60));
    expect(tun.address).to.equal(undefined);
    tun.follow('::1');
    await until(() => tun!.address === '::1', 'listening on ::1');
    expect((await httpRequest(port, '/', { host: '::1' })).status).to.equal(200);
    await tun.close();
    expect(tun.address).to.equal(undefined);
    const refused = await httpRequest(port, '/', { host: '::1', timeoutMs: 1000 }).catch(
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(refused).to.equal('ECONNREFUSED');
  });
});
