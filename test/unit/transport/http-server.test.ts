/**
 * The public listener's subnode API is the cluster's own: a connection that came over cjdns —
 * accepted by the cjdns-address listener of `http.host: auto` ('::1' stands in for the cjdns
 * node's TUN address, as in tun-listener.test.ts) — is refused `POST /subnode` with 403, while
 * the same server answers it on its main listener and serves the read API on both.
 */
import { expect } from 'chai';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../../src/lib/clock.ts';
import { silentLogger } from '../../../src/log.ts';
import { bencodeEncode } from '../../../src/protocol/bencode.ts';
import { generateIdentity } from '../../../src/server/identity.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import { ClientAddress } from '../../../src/transport/client-address.ts';
import { HeavyRequests } from '../../../src/transport/heavy-requests.ts';
import { createHttpServer } from '../../../src/transport/http-server.ts';
import { heavySchema } from '../../../src/transport/http-settings.ts';
import { TunListener } from '../../../src/transport/tun-listener.ts';
import { httpRequest } from '../../helpers/http.ts';
import { until } from '../../helpers/raw-http.ts';

describe('transport/http-server', () => {
  describe('POST /subnode over cjdns', () => {
    let server: RouteServer;
    let http: Server;
    let tun: TunListener;
    let port: number;

    before(async () => {
      // the listener is under test, not the engine: the reference engine starts no workers
      server = new RouteServer({
        self: generateIdentity(22),
        clock: new ManualClock(1_700_000_000_000),
        routing: { mode: 'reference' },
      });
      http = createHttpServer({
        server,
        metrics: server.metrics,
        log: silentLogger(),
        maxBodyBytes: 65536,
        requestTimeoutMs: 5000,
        readiness: () => ({ ready: true, checks: {} }),
        peerInfo: () => ({ peers: [], announcements: 0, annByHashLen: 0 }),
        clientAddress: new ClientAddress([]),
        heavy: new HeavyRequests(heavySchema.parse({}), server.metrics.registry),
      });
      await new Promise<void>((r) => http.listen({ host: '127.0.0.1', port: 0 }, () => r()));
      port = (http.address() as AddressInfo).port;
      tun = new TunListener(http, port, silentLogger());
      tun.follow('::1');
      await until(() => tun.address === '::1', 'listening on ::1');
    });
    after(async () => {
      await tun.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      await server.close();
    });

    const pn = (host: string) =>
      httpRequest(port, '/subnode', {
        host,
        method: 'POST',
        body: bencodeEncode({ sq: 'pn', txid: Uint8Array.of(1), p: 22 }),
        headers: {
          'x-cjdns-ip': 'fc00:0000:0000:0000:0000:0000:0000:0001',
          'x-cjdns-version': '22',
        },
      });

    it('is refused with 403 on the cjdns-address listener', async () => {
      const r = await pn('::1');
      expect(r.status).to.equal(403);
      expect(JSON.parse(r.body.toString()).error.code).to.equal('RS_ERR_HTTP_FORBIDDEN');
    });

    it('is answered on the main listener, and the read API on both', async () => {
      expect((await pn('127.0.0.1')).status).to.equal(200);
      expect((await httpRequest(port, '/healthz', { host: '::1' })).status).to.equal(200);
      expect((await httpRequest(port, '/walk', { host: '::1' })).status).to.equal(200);
    });
  });
});
