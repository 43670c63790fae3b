/**
 * The bounds of the map page's endpoints (src/transport/ui-http.ts): at most N whole-graph
 * streams at a time, a stalled or aborted stream releases its slot, a stream past its deadline is
 * cut; at most M status streams; the built files served from one directory and nothing else.
 */
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RsError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/log.ts';
import type { RouteServer } from '../../../src/server/route-server.ts';
import { RequestGate } from '../../../src/transport/request-gate.ts';
import { readUiAsset } from '../../../src/transport/ui-assets.ts';
import { UiHttp, type UiLimits } from '../../../src/transport/ui-http.ts';
import { meshServer } from '../../helpers/mesh.ts';

/** A response whose client reads nothing: every write reports a full buffer, no drain comes. */
class StalledResponse extends EventEmitter {
  status = 0;
  headers: Record<string, unknown> = {};
  written = 0;
  ended = false;
  destroyed = false;
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

function expectBusy(fn: () => unknown): void {
  try {
    fn();
    expect.fail('not refused');
  } catch (e) {
    expect(e).to.be.instanceOf(RsError);
    expect((e as RsError).code).to.equal('RS_ERR_HTTP_BUSY');
  }
}

async function rejectsBusy(p: Promise<unknown>): Promise<void> {
  try {
    await p;
    expect.fail('not refused');
  } catch (e) {
    expect((e as RsError).code).to.equal('RS_ERR_HTTP_BUSY');
  }
}

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
        cluster: () => ({ bus: 'memory', connected: true, ready: true, backlog: 0, lagMs: { last: undefined, p99: undefined }, processes: [] }),
      },
    });
    uis.push(u);
    return u;
  }

  it('RequestGate: a slot per request up to the limit, each released once', () => {
    const gate = new RequestGate(2, 'things');
    const a = gate.acquire();
    const b = gate.acquire();
    expectBusy(() => gate.acquire());
    a();
    a(); // a second release frees nothing more
    expect(gate.active).to.equal(1);
    const c = gate.acquire();
    expectBusy(() => gate.acquire());
    b();
    c();
    expect(gate.active).to.equal(0);
  });

  it('refuses a graph stream beyond the limit and frees the slot of a client that went away', async () => {
    const u = ui({ graphStreams: 2, graphDeadlineMs: 60_000 });
    const r1 = new StalledResponse();
    const r2 = new StalledResponse();
    const s1 = u.handle(request(), asRes(r1), '/ui/api/graph');
    const s2 = u.handle(request(), asRes(r2), '/ui/api/graph');
    await tick();
    expect(r1.status).to.equal(200);
    expect(r1.written, 'one slice, then it waits for the client').to.be.greaterThan(0);
    expect(r1.ended).to.equal(false);
    await rejectsBusy(u.handle(request(), asRes(new StalledResponse()), '/ui/api/graph'));
    r1.destroy(); // the client disconnects
    await s1;
    const r3 = new StalledResponse();
    const s3 = u.handle(request(), asRes(r3), '/ui/api/graph');
    await tick();
    expect(r3.status).to.equal(200);
    r2.destroy();
    r3.destroy();
    await Promise.all([s2, s3]);
  });

  it('cuts a graph stream that outlives its deadline', async () => {
    const u = ui({ graphStreams: 1, graphDeadlineMs: 30 });
    const r = new StalledResponse();
    await u.handle(request(), asRes(r), '/ui/api/graph'); // resolves once the deadline destroyed it
    expect(r.destroyed).to.equal(true);
    expect(r.ended).to.equal(false);
    const next = new StalledResponse();
    const s = u.handle(request(), asRes(next), '/ui/api/graph');
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
    await u.handle(request(), asRes(r), '/ui/api/events');
    expect(r.headers['Content-Type']).to.equal('text/event-stream; charset=utf-8');
    await rejectsBusy(u.handle(request(), asRes(new StalledResponse()), '/ui/api/events'));
    for (let i = 0; i < 100 && !events.some((e) => e.startsWith('event: status')); i++) await new Promise((res) => setTimeout(res, 5));
    const first = events.find((e) => e.startsWith('event: status'))!;
    const status = JSON.parse(first.slice(first.indexOf('data: ') + 6)) as { nodes: number };
    expect(status.nodes).to.equal(30);
    r.destroy();
    const again = new StalledResponse();
    await u.handle(request(), asRes(again), '/ui/api/events');
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
      for (const name of ['..', '../package.json', '.hidden.js', 'a/b.js', 'app.ts', 'missing.js', 'x'.repeat(200) + '.js']) {
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
      await u.handle(request(), asRes(new StalledResponse()), '/ui/');
      expect.fail('served');
    } catch (e) {
      expect((e as RsError).message).to.match(/not built .*npm run build:ui/);
    }
  });
});
