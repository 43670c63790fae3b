/**
 * Whole-table answers (`/walk`, `/dump`, `/ni`; issue 12 item 3) on a table of 20,000 nodes:
 * streamed byte for byte as they were built in one piece before; a client that requests and
 * never reads holds one chunk of ours, not the body; the per-client and total caps refuse more
 * (429 / 503) while `/healthz` keeps answering; a stalled answer is cut after the write timeout
 * and a slow one at the deadline (sockets destroyed, slots released). The client address comes
 * from X-Forwarded-For only through a trusted proxy. Replication websockets have a per-address
 * cap too.
 */
import { expect } from 'chai';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { App } from '../../../src/app.ts';
import { READ_CHUNK_BYTES } from '../../../src/server/http-views.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { generateIdentity } from '../../../src/server/identity.ts';
import { startTestApp } from '../../helpers/app.ts';
import { httpRequest } from '../../helpers/http.ts';
import { sampleValue, scrapeMetrics } from '../../helpers/metrics.ts';
import { oracleDump, oracleNi, oracleWalk } from '../../helpers/read-api-oracle.ts';
import { rawClient, until, type RawClient } from '../../helpers/raw-http.ts';
import { fillSyntheticTable } from '../../helpers/synthetic-table.ts';

const KEY = bytesToHex(generateIdentity(22).privateKey!);
/**
 * The streaming of whole-table answers is under test, not the engine: the tables are filled
 * directly (fillSyntheticTable writes a NodeTable, which the reference engine holds), so these
 * servers run the reference engine.
 */
const FILLED = { mode: 'reference' } as const;
const NODES = 20_000;
/** what one stalled answer may hold in the server's socket buffer: a chunk or two, never the body */
const HELD_BOUND = 4 * READ_CHUNK_BYTES;

/** The server side of each accepted connection, by the client's port. */
function trackConnections(app: App): Map<number, Socket> {
  const byPort = new Map<number, Socket>();
  app.http.on('connection', (s: Socket) => byPort.set(s.remotePort!, s));
  return byPort;
}

async function metric(
  app: App,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return sampleValue(await scrapeMetrics(app.adminAddress()!.port), name, labels) ?? 0;
}

const heavyActive = (app: App): Promise<number> => metric(app, 'snode_http_heavy_active');

/** Status line of a request whose answer we read. */
async function statusOf(
  port: number,
  path: string,
  opts: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<number> {
  const head = `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${Object.entries(
    opts.headers ?? {},
  )
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  const c = await rawClient(
    port,
    head,
    opts.localAddress ? { localAddress: opts.localAddress } : {},
  );
  await until(() => /^HTTP\/1\.1 \d{3}/.test(c.received()), `the answer to ${path}`);
  c.socket.destroy();
  return Number(c.received().slice(9, 12));
}

describe('whole-table answers (/walk, /dump, /ni)', function () {
  this.timeout(120_000);

  describe('byte for byte', () => {
    let app: App;
    before(async () => {
      app = await startTestApp({ privateKeyHex: KEY, config: { routing: FILLED } });
      fillSyntheticTable(app.server.reference!.nodes, 3000);
    });
    after(async () => app?.close());

    it('/walk over many chunks equals the body built in one piece', async () => {
      const r = await httpRequest(app.address().port, '/walk', { timeoutMs: 30_000 });
      expect(r.status).to.equal(200);
      expect(r.headers['content-type']).to.equal('text/plain; charset=utf-8');
      const want = oracleWalk(app.server.reference!.nodes);
      expect(Buffer.byteLength(want)).to.be.above(20 * READ_CHUNK_BYTES);
      expect(r.body.toString('utf8') === want, 'identical bytes').to.equal(true);
    });

    it('/dump equals the body built in one piece', async () => {
      const r = await httpRequest(app.address().port, '/dump', { timeoutMs: 30_000 });
      expect(r.status).to.equal(200);
      expect(r.headers['content-type']).to.equal('application/octet-stream');
      expect(Buffer.compare(r.body, Buffer.from(oracleDump(app.server.reference!.nodes)))).to.equal(
        0,
      );
    });

    it('/ni (and /ni/) equals JSON.stringify of the value, indented by 2', async () => {
      const want = oracleNi(app.server.reference!.nodes, app.replication.peerInfo());
      for (const path of ['/ni', '/ni/']) {
        const r = await httpRequest(app.address().port, path, { timeoutMs: 30_000 });
        expect(r.status).to.equal(200);
        expect(r.headers['content-type']).to.equal('application/json; charset=utf-8');
        expect(r.body.toString('utf8') === want, `${path}: identical bytes`).to.equal(true);
      }
    });

    it('HEAD has the head and no body', async () => {
      const r = await httpRequest(app.address().port, '/walk', { method: 'HEAD' });
      expect(r.status).to.equal(200);
      expect(r.body.length).to.equal(0);
    });
  });

  describe('clients that never read', () => {
    let app: App;
    let sockets: Map<number, Socket>;
    const held: RawClient[] = [];
    before(async () => {
      app = await startTestApp({
        privateKeyHex: KEY,
        config: {
          routing: FILLED,
          http: { heavy: { perAddress: 2, total: 4, writeTimeoutMs: 3000 } },
        },
      });
      fillSyntheticTable(app.server.reference!.nodes, NODES);
      sockets = trackConnections(app);
    });
    after(async () => {
      for (const c of held) c.socket.destroy();
      await app?.close();
    });

    it('hold one chunk each, not the body (4 clients on 2 addresses, bodies of 5–15 MB)', async () => {
      for (const [addr, path] of [
        ['127.0.0.2', '/walk'],
        ['127.0.0.2', '/dump'],
        ['127.0.0.3', '/walk'],
        ['127.0.0.3', '/dump'],
      ] as const) {
        held.push(
          await rawClient(app.address().port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, {
            localAddress: addr,
            read: false,
          }),
        );
      }
      await until(async () => (await heavyActive(app)) === 4, 'four heavy answers in progress');
      // each one stalls once the kernel's buffers are full; what the server holds is then bounded
      const server = held.map((c) => sockets.get(c.socket.localPort!)!);
      await until(() => server.every((s) => s.writableLength > 0), 'the four answers to stall');
      for (const s of server)
        expect(s.writableLength, 'bytes waiting in the server').to.be.at.most(HELD_BOUND);
    });

    it('refuses a third heavy request from the same address (429) and any when all are taken (503)', async () => {
      const port = app.address().port;
      expect(await statusOf(port, '/walk', { localAddress: '127.0.0.2' })).to.equal(429);
      expect(await statusOf(port, '/dump', { localAddress: '127.0.0.4' })).to.equal(503);
      expect(await metric(app, 'snode_http_heavy_refused_total', { reason: 'address' })).to.equal(
        1,
      );
      expect(await metric(app, 'snode_http_heavy_refused_total', { reason: 'total' })).to.equal(1);
    });

    it('answers /healthz, /path and /ni/<ip> while they hold', async () => {
      const port = app.address().port;
      expect((await httpRequest(port, '/healthz')).status).to.equal(200);
      expect((await httpRequest(port, '/ni/fc00::1')).status).to.equal(200);
      expect((await httpRequest(port, '/path/fc00::1/fc00::2')).status).to.equal(200);
    });

    it('cuts them after the write timeout: sockets destroyed, slots released', async () => {
      const server = held.map((c) => sockets.get(c.socket.localPort!)!);
      await Promise.all(
        server.map(
          (s) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r()))),
        ),
      );
      await until(async () => (await heavyActive(app)) === 0, 'the slots to be released');
      expect(await metric(app, 'snode_http_heavy_ended_total', { end: 'write_timeout' })).to.equal(
        4,
      );
      // and the next request is served in full
      const r = await httpRequest(app.address().port, '/dump', { timeoutMs: 60_000 });
      expect(r.status).to.equal(200);
      expect(r.body.length).to.equal(oracleDump(app.server.reference!.nodes).length);
    });
  });

  describe('limits of one answer', () => {
    let app: App;
    before(async () => {
      app = await startTestApp({
        privateKeyHex: KEY,
        config: { routing: FILLED, http: { heavy: { deadlineMs: 50 } } },
      });
      fillSyntheticTable(app.server.reference!.nodes, NODES);
    });
    after(async () => app?.close());

    it('cuts an answer still going at heavy.deadlineMs', async () => {
      const r = await httpRequest(app.address().port, '/walk', { timeoutMs: 30_000 }).catch(
        (e: Error) => e,
      );
      // the client sees a body cut short (or the reset)
      if (!(r instanceof Error))
        expect(r.body.length).to.be.below(
          Buffer.byteLength(oracleWalk(app.server.reference!.nodes)),
        );
      await until(
        async () => (await metric(app, 'snode_http_heavy_ended_total', { end: 'deadline' })) === 1,
        'the deadline',
      );
      expect(await heavyActive(app)).to.equal(0);
    });
  });

  describe('behind a trusted proxy', () => {
    let app: App;
    const held: RawClient[] = [];
    before(async () => {
      app = await startTestApp({
        privateKeyHex: KEY,
        config: {
          routing: FILLED,
          http: {
            trustedProxies: ['127.0.0.1'],
            heavy: { perAddress: 1, total: 8, writeTimeoutMs: 60_000 },
          },
        },
      });
      fillSyntheticTable(app.server.reference!.nodes, NODES);
    });
    after(async () => {
      for (const c of held) c.socket.destroy();
      await app?.close();
    });

    it("counts each client by the proxy's X-Forwarded-For, and an untrusted sender by its own address", async () => {
      const port = app.address().port;
      const hold = async (localAddress: string, xff: string): Promise<void> => {
        held.push(
          await rawClient(
            port,
            `GET /walk HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${xff}\r\n\r\n`,
            { localAddress, read: false },
          ),
        );
      };
      await hold('127.0.0.1', '203.0.113.7'); // through the proxy: client 203.0.113.7
      await hold('127.0.0.5', '203.0.113.8'); // not a proxy: client 127.0.0.5, its header ignored
      await until(async () => (await heavyActive(app)) === 2, 'two heavy answers in progress');
      // the same client through the proxy, even behind a forged first hop: refused
      expect(
        await statusOf(port, '/walk', {
          localAddress: '127.0.0.1',
          headers: { 'X-Forwarded-For': '198.51.100.1, 203.0.113.7' },
        }),
      ).to.equal(429);
      // another client through the proxy: served
      expect(
        await statusOf(port, '/walk', {
          localAddress: '127.0.0.1',
          headers: { 'X-Forwarded-For': '203.0.113.9' },
        }),
      ).to.equal(200);
      // the untrusted sender cannot borrow another address
      expect(
        await statusOf(port, '/walk', {
          localAddress: '127.0.0.5',
          headers: { 'X-Forwarded-For': '203.0.113.10' },
        }),
      ).to.equal(429);
    });
  });
});

describe('replication websockets per address', function () {
  this.timeout(30_000);
  let app: App;
  const open: WebSocket[] = [];
  before(async () => {
    app = await startTestApp({
      privateKeyHex: KEY,
      config: { replication: { maxInboundPeersPerAddress: 2 } },
    });
  });
  after(async () => {
    for (const ws of open) ws.terminate();
    await app?.close();
  });

  /** Connect from `localAddress`: 101 → 'open', otherwise the refusal's status. */
  const connectFrom = (localAddress: string): Promise<number | 'open'> =>
    new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${app.address().port}/cjdnsnode_websocket`, {
        localAddress,
      });
      ws.once('open', () => {
        open.push(ws);
        resolve('open');
      });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('error', () => undefined);
    });

  it('accepts replication.maxInboundPeersPerAddress from one address, refuses the next with 429, accepts another address', async () => {
    expect(await connectFrom('127.0.0.2')).to.equal('open');
    expect(await connectFrom('127.0.0.2')).to.equal('open');
    expect(await connectFrom('127.0.0.2')).to.equal(429);
    expect(await connectFrom('127.0.0.3')).to.equal('open');
    expect(
      await metric(app, 'snode_peer_refused_total', { reason: 'TooManyFromAddress' }),
    ).to.equal(1);
  });
});
