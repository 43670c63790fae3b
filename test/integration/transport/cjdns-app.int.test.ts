/**
 * `snode serve --cjdns` end to end, minus the real cjdroute: the app's config attaches to a fake
 * cjdroute (real admin protocol over UDP), /readyz waits for the link, /status shows it, handler
 * frames get replies (injected to loopback instead of [fc00::1]:1), a cjdroute restart is
 * survived, and close() detaches.
 */
import { expect } from 'chai';
import { createSocket, type Socket } from 'node:dgram';
import { Writable } from 'node:stream';
import type { App } from '../../../src/app.ts';
import { createLogger } from '../../../src/log.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { bdict, bencodeDecode, bint } from '../../../src/protocol/bencode.ts';
import { parseHandlerFrame } from '../../../src/protocol/wire-headers.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { generateIdentity } from '../../../src/server/identity.ts';
import { startTestApp } from '../../helpers/app.ts';
import { FakeCjdroute, captureNodeInfo, waitFor } from '../../helpers/fake-cjdroute.ts';
import { httpRequest } from '../../helpers/http.ts';
import { sampleValue } from '../../helpers/metrics.ts';
import { captureBytes } from '../../helpers/vectors.ts';

interface StatusBody {
  self: { key: string; ipv6: string; version: number };
  cjdns: {
    state: string;
    handlerPort: number | null;
    reattaches: number;
    adminAddr: string;
    lastError: string | null;
  };
}

describe('snode serve --cjdns (app with a fake cjdroute)', () => {
  const A = captureNodeInfo('A');
  let fake: FakeCjdroute;
  let sink: Socket;
  const replies: Uint8Array[] = [];
  let app: App;
  const clock = new ManualClock(0);

  const get = async (
    path: string,
    port = app.address().port,
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const r = await httpRequest(port, path);
    return { status: r.status, json: JSON.parse(r.body.toString()) as Record<string, unknown> };
  };
  /** /status is an operator endpoint: the admin listener */
  const status = async (): Promise<StatusBody> =>
    (await get('/status', app.adminAddress()!.port)).json as unknown as StatusBody;

  before(async () => {
    fake = await FakeCjdroute.start({ nodeInfo: A, password: 'app-pw' });
    fake.silent = true; // cjdroute not up yet
    sink = createSocket('udp6');
    await new Promise<void>((resolve) => sink.bind(0, '::1', () => resolve()));
    sink.on('message', (m) => replies.push(new Uint8Array(m)));
    fake.tun = sink; // cjdns sends from where its replies go
    const own = generateIdentity(22);
    app = await startTestApp({
      privateKeyHex: bytesToHex(own.privateKey!),
      clock,
      config: {
        cjdns: {
          enabled: true,
          adminAddr: '127.0.0.1',
          adminPort: fake.port,
          adminPassword: 'app-pw',
          callTimeoutMs: 50,
          callRetries: 0,
          watchdogIntervalMs: 30,
          reattachMaxDelayMs: 200,
          replyAddress: '::1',
          handlerBindAddress: '::1',
          replyPort: sink.address().port,
        },
      },
    });
  });
  after(async () => {
    await app?.close();
    await fake.close();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  });

  it('is not ready while cjdroute does not answer', async () => {
    const r = await get('/readyz');
    expect(r.status).to.equal(503);
    const checks = r.json.checks as Record<string, { ok: boolean; detail?: string }>;
    expect(checks.http).to.deep.equal({ ok: true });
    expect(checks.cjdns!.ok).to.equal(false);
    expect(['attaching', 'lost']).to.include(checks.cjdns!.detail);
  });

  it('becomes ready once attached, with the cjdns node as its identity', async () => {
    fake.silent = false;
    const deadline = Date.now() + 5000;
    while ((await get('/readyz')).status !== 200) {
      if (Date.now() > deadline) throw new Error('never ready');
      await new Promise((r) => setTimeout(r, 20));
    }
    const s = await status();
    expect(s.self).to.deep.equal({
      key: '5tuqmmh7pud922brcpffm81024j0ld2q2wzcb1xz1xfwx85vgl00.k',
      ipv6: A.myIp6,
      version: 21,
    });
    expect(s.cjdns).to.include({
      state: 'attached',
      adminAddr: `127.0.0.1:${fake.port}`,
      reattaches: 0,
      lastError: null,
    });
    expect(fake.handlers).to.deep.equal([{ type: 256, udpPort: s.cjdns.handlerPort }]);
    // `/` keeps the original's keys first and adds the link's state
    const root = await get('/');
    expect(Object.keys(root.json)).to.deep.equal(['peer', 'nodesByIp', 'cjdns']);
    expect((root.json.cjdns as { state: string }).state).to.equal('attached');
  });

  it("answers the node's own pn query through the handler socket", async () => {
    const expected = captureBytes('02-A-self-pn-reply.bin');
    clock.set(bint(bdict(bencodeDecode(parseHandlerFrame(expected).content))!.recvTime)!);
    await fake.deliver(captureBytes('01-A-self-pn-query.bin'));
    await waitFor(() => replies.length === 1, 'the reply');
    expect(bytesToHex(replies[0]!)).to.equal(bytesToHex(expected));
    const metrics = (await httpRequest(app.adminAddress()!.port, '/metrics')).body.toString();
    expect(sampleValue(metrics, 'snode_cjdns_frames_total', { result: 'reply' })).to.equal(1);
    expect(sampleValue(metrics, 'snode_cjdns_link_attached')).to.equal(1);
  });

  it('re-attaches after cjdroute restarts', async () => {
    const port = (await status()).cjdns.handlerPort;
    fake.restart();
    const deadline = Date.now() + 5000;
    while ((await status()).cjdns.reattaches < 1) {
      if (Date.now() > deadline) throw new Error('never re-attached');
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(() => fake.handlers.length === 1, 'the handler to be registered again');
    expect(fake.handlers).to.deep.equal([{ type: 256, udpPort: port }]);
  });

  it('detaches on close()', async () => {
    const link = app.cjdns!;
    await app.close();
    expect(link.status()).to.include({ state: 'detached', handlerPort: null });
  });
});

describe('snode serve --cjdns with http.host auto', () => {
  const A = captureNodeInfo('A');
  let fake: FakeCjdroute;
  let app: App;
  const logs: Array<{ event?: string; host?: string; level: number }> = [];

  before(async () => {
    fake = await FakeCjdroute.start({ nodeInfo: A, password: 'auto-pw' });
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n'))
          if (line) logs.push(JSON.parse(line) as (typeof logs)[number]);
        cb();
      },
    });
    app = await startTestApp({
      privateKeyHex: bytesToHex(generateIdentity(22).privateKey!),
      log: createLogger('info', sink),
      config: {
        http: { host: 'auto' },
        cjdns: {
          enabled: true,
          adminAddr: '127.0.0.1',
          adminPort: fake.port,
          adminPassword: 'auto-pw',
          callTimeoutMs: 200,
          handlerBindAddress: '::1',
        },
      },
    });
  });
  after(async () => {
    await app?.close();
    await fake.close();
  });

  it("listens on loopback, and once attached also tries the cjdns node's address (retrying while it cannot be bound)", async () => {
    expect(app.address().host).to.equal('127.0.0.1');
    expect((await httpRequest(app.address().port, '/healthz')).status).to.equal(200);
    await waitFor(
      () => logs.some((l) => l.event === 'http:tun:listen_failed'),
      'the cjdns-address listener to be tried',
      5000,
    );
    const line = logs.find((l) => l.event === 'http:tun:listen_failed')!;
    expect(line.host).to.equal(A.myIp6); // this host has no cjdns TUN interface
    expect(line.level).to.equal(40);
    expect(app.tunAddress()).to.equal(undefined);
  });
});
