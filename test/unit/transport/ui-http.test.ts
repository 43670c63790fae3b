/**
 * The bounds of the map page's endpoints (src/transport/ui-http.ts): the graph goes out as a
 * heavy answer (per-client and total caps, a stalled or vanished client's slot released, a
 * stream nobody reads cut); at most M status streams; the built files served from one directory
 * and nothing else.
 */
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { RsError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import { concatBytes } from '../../../src/protocol/hex.ts';
import type { RouteServer } from '../../../src/server/route-server.ts';
import { decodeGraph } from '../../../src/server/ui/graph-wire.ts';
import { HeavyRequests } from '../../../src/transport/heavy-requests.ts';
import { readUiAsset } from '../../../src/transport/ui-assets.ts';
import { UiHttp, type StreamHeavy, type UiLimits } from '../../../src/transport/ui-http.ts';
import { meshServer } from '../../helpers/mesh.ts';

/** A response whose client reads nothing: every write reports a full buffer, no drain comes. */
class StalledResponse extends EventEmitter {
  status = 0;
  headers: Record<string, unknown> = {};
  written = 0;
  chunks: Uint8Array[] = [];
  ended = false;
  destroyed = false;
  writableFinished = false;
  writableLength = 0;
  writeHead(status: number, headers: Record<string, unknown>): this {
    this.status = status;
    this.headers = headers;
    return this;
  }
  write(chunk: Uint8Array | string): boolean {
    this.written += chunk.length;
    this.writableLength += chunk.length;
    return false;
  }
  end(): void {
    this.ended = true;
    this.writableFinished = true;
    this.emit('finish');
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

function request(): IncomingMessage {
  return Object.assign(new EventEmitter(), { method: 'GET' }) as unknown as IncomingMessage;
}

const asRes = (r: StalledResponse): ServerResponse => r as unknown as ServerResponse;

async function refused(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
    expect.fail('not refused');
  } catch (e) {
    expect((e as RsError).code).to.equal(code);
  }
}

/** A client that reads everything at once. */
class ReadingResponse extends StalledResponse {
  override write(chunk: Uint8Array | string): boolean {
    this.written += chunk.length;
    if (typeof chunk !== 'string') this.chunks.push(chunk.slice());
    return true;
  }
}

/** No heavy answer expected on this path. */
const noHeavy: StreamHeavy = () => Promise.reject(new Error('no heavy answer expected'));

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('map page endpoints: bounds', () => {
  let server: RouteServer;
  const uis: UiHttp[] = [];

  before(async () => {
    ({ server } = await meshServer(30));
  });

  after(() => {
    for (const ui of uis) ui.close();
  });

  function ui(limits: Partial<UiLimits>, dir?: string): UiHttp {
    const u = new UiHttp({
      nodes: server.nodes,
      route: (s, d) => server.getRoute(s, d),
      now: () => server.clock.now(),
      log: silentLogger(),
      ...(dir ? { dir } : {}),
      limits,
      status: {
        counters: server.metrics,
        now: () => server.clock.now(),
        self: () => ({ key: 'k', ipv6: 'fc00::1', version: 22 }),
        readiness: () => ({ ready: true, checks: {} }),
        nodes: () => server.nodes.size,
        links: () => server.linkCount(),
        peerInfo: () => ({ peers: [], announcements: 0, annByHashLen: 0 }),
        cjdns: () => null,
        cluster: () => ({
          bus: 'memory',
          connected: true,
          ready: true,
          backlog: 0,
          lagMs: { last: undefined, p99: undefined },
          processes: [],
        }),
      },
    });
    uis.push(u);
    return u;
  }

  function heavy(
    limits: { perAddress?: number; total?: number; writeTimeoutMs?: number } = {},
  ): (client: string, res: StalledResponse) => StreamHeavy {
    const h = new HeavyRequests(
      { perAddress: 1, total: 2, writeTimeoutMs: 60_000, deadlineMs: 60_000, ...limits },
      new Registry(),
    );
    return (client, res) => (answer) => h.answer(request(), asRes(res), client, answer);
  }

  it('streams the graph as the node table holds it', async () => {
    const u = ui({});
    const r = new ReadingResponse();
    await u.handle(request(), asRes(r), '/ui/api/graph', heavy()('a', r));
    expect(r.status).to.equal(200);
    expect(r.headers['Content-Type']).to.equal('application/octet-stream');
    expect(r.ended).to.equal(true);
    expect(decodeGraph(concatBytes(...r.chunks)).nodeCount).to.equal(30);
  });

  it('takes a heavy slot per graph stream: per client (429), in all (503), freed when a client goes away', async () => {
    const u = ui({});
    const stream = heavy({ perAddress: 1, total: 2 });
    const a1 = new StalledResponse();
    const b1 = new StalledResponse();
    const sa = u.handle(request(), asRes(a1), '/ui/api/graph', stream('a', a1));
    const sb = u.handle(request(), asRes(b1), '/ui/api/graph', stream('b', b1));
    await tick();
    expect(a1.status).to.equal(200);
    expect(a1.written, 'one chunk, then it waits for the client').to.be.greaterThan(0);
    expect(a1.ended).to.equal(false);
    const a2 = new StalledResponse();
    await refused(
      u.handle(request(), asRes(a2), '/ui/api/graph', stream('a', a2)),
      'RS_ERR_HTTP_TOO_MANY_REQUESTS',
    );
    const c1 = new StalledResponse();
    await refused(
      u.handle(request(), asRes(c1), '/ui/api/graph', stream('c', c1)),
      'RS_ERR_HTTP_BUSY',
    );
    a1.destroy(); // the client disconnects
    await sa;
    const a3 = new StalledResponse();
    const sa3 = u.handle(request(), asRes(a3), '/ui/api/graph', stream('a', a3));
    await tick();
    expect(a3.status).to.equal(200);
    b1.destroy();
    a3.destroy();
    await Promise.all([sb, sa3]);
  });

  it('cuts a graph stream its client does not read', async () => {
    const u = ui({});
    const stream = heavy({ perAddress: 1, total: 1, writeTimeoutMs: 30 });
    const r = new StalledResponse();
    await u.handle(request(), asRes(r), '/ui/api/graph', stream('a', r)); // resolves once cut
    expect(r.destroyed).to.equal(true);
    expect(r.ended).to.equal(false);
    const next = new StalledResponse();
    const s = u.handle(request(), asRes(next), '/ui/api/graph', stream('a', next));
    await tick();
    expect(next.status).to.equal(200);
    next.destroy();
    await s;
  });

  it('caps the status streams and sends the first sample at once', async () => {
    const u = ui({ eventStreams: 1, statusIntervalMs: 60_000 });
    const r = new StalledResponse();
    r.write = function (chunk: Uint8Array | string): boolean {
      this.written += chunk.length;
      this.emit('data', String(chunk));
      return true;
    };
    const events: string[] = [];
    r.on('data', (d: string) => events.push(d));
    await u.handle(request(), asRes(r), '/ui/api/events', noHeavy);
    expect(r.headers['Content-Type']).to.equal('text/event-stream; charset=utf-8');
    await refused(
      u.handle(request(), asRes(new StalledResponse()), '/ui/api/events', noHeavy),
      'RS_ERR_HTTP_BUSY',
    );
    for (let i = 0; i < 100 && !events.some((e) => e.startsWith('event: status')); i++)
      await new Promise((res) => setTimeout(res, 5));
    const first = events.find((e) => e.startsWith('event: status'))!;
    const status = JSON.parse(first.slice(first.indexOf('data: ') + 6)) as { nodes: number };
    expect(status.nodes).to.equal(30);
    r.destroy();
    const again = new StalledResponse();
    await u.handle(request(), asRes(again), '/ui/api/events', noHeavy);
    expect(again.status).to.equal(200);
    again.destroy();
  });

  it('serves the built files of one directory only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snode-ui-'));
    try {
      writeFileSync(join(dir, 'index.html'), '<!doctype html>');
      writeFileSync(join(dir, 'app.js'), 'export {}');
      expect((await readUiAsset(dir, '')).contentType).to.equal('text/html; charset=utf-8');
      expect((await readUiAsset(dir, 'app.js')).body.toString()).to.equal('export {}');
      for (const name of [
        '..',
        '../package.json',
        '.hidden.js',
        'a/b.js',
        'app.ts',
        'missing.js',
        'x'.repeat(200) + '.js',
      ]) {
        try {
          await readUiAsset(dir, name);
          expect.fail(`served ${name}`);
        } catch (e) {
          expect((e as RsError).code, name).to.equal('RS_ERR_HTTP_NOT_FOUND');
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says how to build the page when it is not built', async () => {
    const u = ui({}, join(tmpdir(), 'snode-no-such-ui-dir'));
    try {
      await u.handle(request(), asRes(new StalledResponse()), '/ui/', noHeavy);
      expect.fail('served');
    } catch (e) {
      expect((e as RsError).message).to.match(/not built .*npm run build:ui/);
    }
  });
});
