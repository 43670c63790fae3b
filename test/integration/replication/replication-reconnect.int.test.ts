/**
 * Reconnecting to configured peers: one reconnect timer per peer, never two (the original arms
 * two after an error followed by a close), a growing delay, and readiness that waits for a
 * complete sync (a failed one is retried) unless `syncTimeoutMs` gives up on it.
 */
import { expect } from 'chai';
import { createServer, type AddressInfo } from 'node:net';
import type { App } from '../../../src/app.ts';
import type { ReplicationSettings } from '../../../src/replication/replication-settings.ts';
import { startTestApp } from '../../helpers/app.ts';
import { httpRequest } from '../../helpers/http.ts';
import { sampleValue } from '../../helpers/metrics.ts';
import { RawServer, routeVectors, waitUntil } from '../../unit/replication/fixtures.ts';

const { identity } = routeVectors();

function start(peers: string[], replication: Partial<ReplicationSettings>): Promise<App> {
  return startTestApp({
    privateKeyHex: identity('bob').private_hex,
    config: { peers, replication: { tickMs: 20, reconnectJitter: 0, ...replication } },
  });
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('replication reconnect', () => {
  let app: App | undefined;
  let raw: RawServer | undefined;
  afterEach(async () => {
    await app?.close();
    await raw?.close();
    app = undefined;
    raw = undefined;
  });

  it('keeps one timer and doubles the delay while the remote kills every session at once', async () => {
    raw = await RawServer.start((p) => {
      p.send({ type: 'HELLO', seq: 0, version: 1 });
      setTimeout(() => p.ws.terminate(), 5);
    });
    app = await start([raw.url], {
      reconnectBaseMs: 20,
      reconnectMaxMs: 160,
      stableSessionMs: 60_000,
    });
    await waitUntil(() => raw!.connections >= 6, 'six sessions', 5000);
    const d = app.replication.stats().dialers[0]!;
    expect(d.maxTimersArmed).to.equal(1);
    expect(d.delays.slice(0, 5)).to.deep.equal([20, 40, 80, 160, 160]);
    // every ended session armed exactly one timer
    expect(d.scheduled).to.be.oneOf([d.attempts - 1, d.attempts]);
    expect(d.attempts).to.be.at.least(raw.connections);
  });

  it('arms one timer per failed dial (error then close) and backs off from the error base', async () => {
    const port = await closedPort();
    app = await start([`ws://127.0.0.1:${port}/cjdnsnode_websocket`], {
      reconnectErrorBaseMs: 25,
      reconnectMaxMs: 400,
    });
    await waitUntil(
      () => app!.replication.stats().dialers[0]!.attempts >= 5,
      'five attempts',
      5000,
    );
    const d = app.replication.stats().dialers[0]!;
    expect(d.maxTimersArmed).to.equal(1);
    expect(d.timersArmed).to.be.at.most(1);
    expect(d.delays.slice(0, 4)).to.deep.equal([25, 50, 100, 200]);
    expect(d.scheduled).to.be.oneOf([d.attempts - 1, d.attempts]);
  });

  it('counts failed dials, is not ready while the sync fails (naming the peer and the reason), and retries it until it completes', async () => {
    const port = await closedPort();
    const url = `ws://127.0.0.1:${port}/cjdnsnode_websocket`;
    app = await start([url], { reconnectErrorBaseMs: 200, reconnectMaxMs: 400, syncQuietMs: 200 });
    const check = async (): Promise<{ status: number; ok: boolean; detail: string }> => {
      const res = await httpRequest(app!.address().port, '/readyz');
      const c = JSON.parse(res.body.toString()).checks[`peer ${url}`];
      return { status: res.status, ...c };
    };
    await waitUntil(async () => (await check()).detail.startsWith('failed'), 'the failed dial');
    const failed = await check();
    expect(failed.status).to.equal(503);
    expect(failed.ok).to.equal(false);
    expect(failed.detail).to.match(/^failed, retrying on the next connection: dial failed/);
    const metrics = (await httpRequest(app.adminAddress()!.port, '/metrics')).body.toString();
    expect(sampleValue(metrics, 'snode_peer_dials_total', { result: 'failed' })).to.be.greaterThan(
      0,
    );
    // the peer comes up: the next dial's session takes the sync up again and completes it
    raw = await RawServer.start((p) => p.send({ type: 'HELLO', seq: 0, version: 1 }), port);
    await waitUntil(async () => (await check()).status === 200, 'ready after the retry', 10_000);
    const done = await check();
    expect(done.ok).to.equal(true);
    expect(done.detail).to.match(/^synced/);
  });

  it('is not ready while the first sync runs, and turns ready after syncTimeoutMs if it never settles', async () => {
    // a peer that greets and then trickles one INV every 50 ms: never quiet, never settled
    raw = await RawServer.start((p) => {
      p.send({ type: 'HELLO', seq: 0, version: 1 });
      const t = setInterval(() => {
        if (p.closed) clearInterval(t);
        else
          p.send({
            type: 'INV',
            seq: 0,
            hashes: [new Uint8Array(64).fill(Math.floor(Math.random() * 256))],
          });
      }, 50);
    });
    app = await start([raw.url], { syncQuietMs: 200, syncTimeoutMs: 800, requestTimeoutMs: 5000 });
    await waitUntil(() => raw!.connections === 1, 'connected');
    const early = await httpRequest(app.address().port, '/readyz');
    expect(early.status).to.equal(503);
    expect(JSON.parse(early.body.toString()).checks[`peer ${raw.url}`].detail).to.match(
      /^(syncing|waiting)/,
    );
    await waitUntil(
      async () => (await httpRequest(app!.address().port, '/readyz')).status === 200,
      'ready after the timeout',
      3000,
    );
    const ready = JSON.parse((await httpRequest(app.address().port, '/readyz')).body.toString());
    expect(ready.checks[`peer ${raw.url}`].detail).to.match(/^timeout/);
  });

  it('reconnects to a remote that restarts on the same port, one session at a time', async () => {
    raw = await RawServer.start((p) => p.send({ type: 'HELLO', seq: 0, version: 1 }));
    const port = raw.port;
    app = await start([raw.url], {
      reconnectBaseMs: 30,
      reconnectErrorBaseMs: 30,
      reconnectMaxMs: 200,
      stableSessionMs: 60_000,
    });
    let sessions = 0;
    for (let round = 0; round < 3; round++) {
      await waitUntil(
        () => raw!.connections === 1 && app!.replication.stats().peers.length === 1,
        `session ${round + 1}`,
        5000,
      );
      sessions++;
      await raw.close(); // kill the remote
      await waitUntil(() => app!.replication.stats().peers.length === 0, 'our side noticed');
      raw = await RawServer.start((p) => p.send({ type: 'HELLO', seq: 0, version: 1 }), port);
    }
    await waitUntil(() => raw!.connections === 1, 'the last reconnect', 5000);
    const d = app.replication.stats().dialers[0]!;
    expect(sessions).to.equal(3);
    expect(d.maxTimersArmed).to.equal(1);
    expect(d.delays.length).to.equal(d.scheduled);
  });
});
