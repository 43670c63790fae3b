/**
 * The HTTP listeners under misuse (issue 12, items 4 and 5): an aborted upload is a debug line,
 * not an error with a stack; a request that times out gets a 408 and its socket is destroyed (not
 * half-closed, which a client that never closes would hold forever); a body declared or grown
 * over the limit is refused with 413 without being read to its end; CONNECT gets a 405; the
 * operator endpoints answer only on the admin listener (loopback by default), which can require
 * a bearer token.
 */
import { expect } from 'chai';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { App } from '../../../src/app.ts';
import { validateConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { generateIdentity } from '../../../src/server/identity.ts';
import { startTestApp } from '../../helpers/app.ts';
import { httpRequest } from '../../helpers/http.ts';
import { nextServerSocket, rawClient, until } from '../../helpers/raw-http.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
const KEY = bytesToHex(generateIdentity(22).privateKey!);
const MB = 1024 * 1024;

/** Send `total` bytes of body in 64 KB writes, stopping once the server answered or went away. */
async function pushBody(
  socket: Socket,
  total: number,
  chunk: (n: number) => string,
  received: () => string,
): Promise<number> {
  let sent = 0;
  const block = 64 * 1024;
  while (sent < total && !socket.destroyed && received() === '') {
    const ok = socket.write(chunk(block));
    sent += block;
    if (!ok) {
      await new Promise<void>((r) => {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          r();
        };
        socket.once('drain', done);
        socket.once('close', done);
      });
    }
  }
  return sent;
}

describe('HTTP listeners under misuse', function () {
  this.timeout(30_000);
  const logs: any[] = [];
  let app: App;
  let port: number;

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line));
        cb();
      },
    });
    app = await startTestApp({
      privateKeyHex: KEY,
      config: { http: { requestTimeoutMs: 300, maxBodyBytes: 4096 } },
      log: createLogger('debug', sink),
    });
    port = app.address().port;
  });
  after(async () => app?.close());

  it('logs an aborted upload as a debug line without a stack, not as an internal error', async () => {
    const mark = logs.length;
    const c = await rawClient(
      port,
      'POST /subnode HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nd1:q',
    );
    await new Promise((r) => setTimeout(r, 20));
    c.socket.destroy();
    await until(
      () => logs.slice(mark).some((l) => l.event === 'http:request:aborted'),
      'the aborted-request log line',
    );
    const after = logs.slice(mark);
    expect(
      after.filter((l) => l.level >= 40),
      'no warning or error',
    ).to.deep.equal([]);
    const line = after.find((l) => l.event === 'http:request:aborted');
    expect(line.level).to.equal(20);
    expect(JSON.stringify(line)).to.not.match(/stack/);
  });

  it('answers a request that times out with 408 and destroys its socket (the client keeps its side open)', async () => {
    const server = nextServerSocket(app.http);
    const c = await rawClient(port, 'GET / HTTP/1.1\r\nHost: x\r\n'); // the headers never end
    const s = await server;
    await new Promise<void>((r) => s.once('close', () => r()));
    expect(s.destroyed).to.equal(true);
    await until(() => c.received() !== '', 'the 408');
    expect(c.received()).to.match(/^HTTP\/1\.1 408 /);
    c.socket.destroy();
  });

  it('refuses a declared 10 GB body with 413 without reading it', async () => {
    const server = nextServerSocket(app.http);
    const c = await rawClient(
      port,
      'POST /subnode HTTP/1.1\r\nHost: x\r\nContent-Length: 10737418240\r\n\r\n',
    );
    const s = await server;
    const sent = await pushBody(c.socket, 16 * MB, (n) => 'x'.repeat(n), c.received);
    await until(() => s.destroyed, 'the server to close the connection');
    expect(c.received()).to.match(/^HTTP\/1\.1 413 /);
    expect(c.received()).to.match(/RS_ERR_HTTP_BODY_TOO_LARGE/);
    expect(s.bytesRead, `read ${s.bytesRead} of the ${sent} bytes sent`).to.be.below(MB);
    c.socket.destroy();
  });

  it('refuses a chunked body with 413 once it passes the limit, and stops reading', async () => {
    const server = nextServerSocket(app.http);
    const c = await rawClient(
      port,
      'POST /subnode HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    const s = await server;
    const piece = `1000\r\n${'y'.repeat(0x1000)}\r\n`;
    const sent = await pushBody(
      c.socket,
      16 * MB,
      (n) => piece.repeat(Math.floor(n / piece.length)),
      c.received,
    );
    if (!c.socket.destroyed) c.socket.write('0\r\n\r\n');
    await until(() => s.destroyed, 'the server to close the connection');
    expect(c.received()).to.match(/^HTTP\/1\.1 413 /);
    expect(s.bytesRead, `read ${s.bytesRead} of the ${sent} bytes sent`).to.be.below(MB);
    c.socket.destroy();
  });

  it('answers CONNECT with 405 and closes the connection', async () => {
    const server = nextServerSocket(app.http);
    const c = await rawClient(
      port,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    );
    const s = await server;
    await new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));
    await until(() => c.received() !== '', 'the 405');
    expect(c.received()).to.match(/^HTTP\/1\.1 405 /);
    c.socket.destroy();
  });

  it('still serves after all of that', async () => {
    expect((await httpRequest(port, '/healthz')).status).to.equal(200);
  });
});

describe('the admin listener', function () {
  this.timeout(30_000);
  let app: App;

  before(async () => {
    app = await startTestApp({ privateKeyHex: KEY });
  });
  after(async () => app?.close());

  it('binds loopback by default; the public listener binds loopback (plus the cjdns address) by default', () => {
    const c = validateConfig({});
    expect(c.admin).to.deep.include({ enabled: true, host: '127.0.0.1', port: 3335 });
    expect(c.admin.token).to.equal(undefined);
    expect(c.http.host).to.equal('auto');
  });

  for (const path of ['/status', '/metrics', `/debugnode/fc00::1`]) {
    it(`serves ${path} on the admin listener only (404 on the public one)`, async () => {
      const pub = await httpRequest(app.address().port, path);
      expect(pub.status).to.equal(404);
      expect(JSON.parse(pub.body.toString()).error.code).to.equal('RS_ERR_HTTP_NOT_FOUND');
      expect((await httpRequest(app.adminAddress()!.port, path)).status).to.equal(200);
    });
  }

  it('answers health on both listeners', async () => {
    for (const p of [app.address().port, app.adminAddress()!.port]) {
      expect((await httpRequest(p, '/healthz')).status).to.equal(200);
      expect((await httpRequest(p, '/readyz')).status).to.equal(200);
    }
  });

  describe('with admin.token', () => {
    let locked: App;
    const token = 'a-long-enough-operator-token';
    before(async () => {
      locked = await startTestApp({ privateKeyHex: KEY, config: { admin: { token } } });
    });
    after(async () => locked?.close());

    it('refuses a request without the token, or with another one (401)', async () => {
      const port = locked.adminAddress()!.port;
      const attempts: Array<Record<string, string>> = [
        {},
        { authorization: 'Bearer not-the-token-at-all' },
        { authorization: `Basic ${token}` },
      ];
      for (const headers of attempts) {
        const r = await httpRequest(port, '/metrics', { headers });
        expect(r.status).to.equal(401);
        expect(r.headers['www-authenticate']).to.equal('Bearer');
        expect(JSON.parse(r.body.toString()).error.code).to.equal('RS_ERR_HTTP_UNAUTHORIZED');
      }
    });

    it('answers with the token', async () => {
      const r = await httpRequest(locked.adminAddress()!.port, '/metrics', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(r.status).to.equal(200);
      expect(r.body.toString()).to.match(/snode_http_heavy_active/);
    });

    it('refuses a token shorter than 16 characters in the configuration', () => {
      expect(() => validateConfig({ admin: { token: 'short' } })).to.throw(/admin\.token/);
    });
  });

  it('can be turned off (admin.enabled false)', async () => {
    const none = await startTestApp({ privateKeyHex: KEY, config: { admin: { enabled: false } } });
    try {
      expect(none.admin).to.equal(undefined);
      expect(none.adminAddress()).to.equal(undefined);
    } finally {
      await none.close();
    }
  });
});
