import { expect } from 'chai';
import { createSocket, type Socket } from 'node:dgram';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { parseHandlerFrame } from '../../../src/protocol/wire-headers.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { generateIdentity } from '../../../src/server/identity.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import { AdminClient } from '../../../src/transport/admin-client.ts';
import {
  CjdnsLink,
  bindUdpHandlerSocket,
  identityFromNodeInfo,
  type BindHandlerSocket,
  type CjdnsLinkEvent,
  type CjdnsLinkOptions,
} from '../../../src/transport/cjdns-link.ts';
import {
  FakeCjdroute,
  captureNodeInfo,
  freeUdpPort,
  waitFor,
} from '../../helpers/fake-cjdroute.ts';
import { captureBytes } from '../../helpers/vectors.ts';

/** Receives what the link sends to "[fc00::1]:1" (injected as [::1]:<port>). */
class ReplySink {
  readonly frames: Uint8Array[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('message', (m) => this.frames.push(new Uint8Array(m)));
  }
  static async open(): Promise<ReplySink> {
    const s = createSocket('udp6');
    await new Promise<void>((resolve) => s.bind(0, '::1', () => resolve()));
    return new ReplySink(s);
  }
  get port(): number {
    return this.socket.address().port;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

const A = captureNodeInfo('A');

describe('transport/cjdns-link', () => {
  let fake: FakeCjdroute;
  let admin: AdminClient;
  let server: RouteServer;
  let sink: ReplySink;
  let link: CjdnsLink | undefined;
  let events: CjdnsLinkEvent[];

  const makeLink = (
    opts: CjdnsLinkOptions = {},
    random?: () => number,
    bindSocket?: BindHandlerSocket,
  ): CjdnsLink => {
    link = new CjdnsLink(
      {
        admin,
        server,
        registry: server.metrics.registry,
        ...(random ? { random } : {}),
        ...(bindSocket ? { bindSocket } : {}),
      },
      {
        watchdogIntervalMs: 25,
        reattachMinDelayMs: 10,
        reattachMaxDelayMs: 40,
        replyAddress: '::1',
        replyPort: sink.port,
        bindAddress: '::1',
        ...opts,
      },
    );
    link.addListener((e) => events.push(e));
    return link;
  };
  const kinds = (): string[] =>
    events
      .filter((e) => e.type !== 'frame')
      .map((e) => (e.type === 'state' ? `${e.from}>${e.to}` : e.type));

  beforeEach(async () => {
    fake = await FakeCjdroute.start({ nodeInfo: A, password: 'pw' });
    admin = new AdminClient({
      addr: fake.address,
      port: fake.port,
      password: 'pw',
      timeoutMs: 60,
      retries: 1,
    });
    server = new RouteServer({
      self: generateIdentity(22),
      clock: new ManualClock(1_795_234_223_384),
    });
    sink = await ReplySink.open();
    fake.tun = sink.socket; // cjdns sends from where its replies go
    events = [];
    link = undefined;
  });
  afterEach(async () => {
    await link?.stop();
    await admin.close();
    await fake.close();
    await sink.close();
    server.close();
  });

  describe('#identityFromNodeInfo()', () => {
    it('takes key and version from myAddr and checks myIp6', () => {
      const id = identityFromNodeInfo(A);
      expect(id).to.include({
        key: '5tuqmmh7pud922brcpffm81024j0ld2q2wzcb1xz1xfwx85vgl00.k',
        ipv6: A.myIp6,
        version: 21,
        privateKey: undefined,
      });
    });
    it('refuses a myIp6 that does not belong to the key', () => {
      expect(() => identityFromNodeInfo({ ...A, myIp6: 'fc00::1' }))
        .to.throw()
        .with.property('code', 'RS_ERR_ADMIN_INVALID');
    });
  });

  describe('#start()', () => {
    it('attaches: Core_nodeInfo → identity → listHandlers → bind → registerHandler', async () => {
      const l = makeLink();
      expect(l.state).to.equal('detached');
      l.start();
      expect(l.state).to.equal('attaching');
      await waitFor(() => l.state === 'attached', 'attached');
      expect(fake.requests.filter((r) => r !== 'cookie')).to.deep.equal([
        'Core_nodeInfo',
        'UpperDistributor_listHandlers',
        'UpperDistributor_registerHandler',
      ]);
      const st = l.status();
      expect(fake.handlers).to.deep.equal([{ type: 256, udpPort: st.handlerPort }]);
      expect(st).to.include({
        state: 'attached',
        adminAddr: `127.0.0.1:${fake.port}`,
        reattaches: 0,
        lastError: null,
      });
      expect(st.attachedAt).to.be.a('string');
      expect(st.node).to.deep.equal({
        key: identityFromNodeInfo(A).key,
        ipv6: A.myIp6,
        version: 21,
        encodingScheme: '6114458100',
      });
      expect(server.identity).to.include({ ipv6: A.myIp6, version: 21, privateKey: undefined });
      expect(kinds()).to.deep.equal(['detached>attaching', 'attaching>attached', 'attached']);
    });

    it('binds the port of an existing CJDHT handler instead of registering a new one', async () => {
      const port = await freeUdpPort();
      fake.handlers = [
        { type: 257, udpPort: 1 },
        { type: 256, udpPort: port },
      ];
      const l = makeLink();
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      expect(l.status().handlerPort).to.equal(port);
      expect(fake.requests).not.to.include('UpperDistributor_registerHandler');
    });

    it('skips an existing handler whose port is taken and registers its own', async () => {
      const busy = createSocket('udp6');
      await new Promise<void>((resolve) => busy.bind(0, '::', () => resolve()));
      try {
        fake.handlers = [{ type: 256, udpPort: busy.address().port }];
        const l = makeLink();
        l.start();
        await waitFor(() => l.state === 'attached', 'attached');
        expect(l.status().handlerPort).not.to.equal(busy.address().port);
        expect(fake.handlers).to.have.length(2);
      } finally {
        busy.close();
      }
    });

    it('finds existing handlers past the first page', async () => {
      const port = await freeUdpPort();
      fake.handlers = [
        ...Array.from({ length: 9 }, (_, i) => ({ type: 300 + i, udpPort: 20_000 + i })),
        { type: 256, udpPort: port },
      ];
      const l = makeLink();
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      expect(l.status().handlerPort).to.equal(port);
    });

    it('retries a failed attach with exponential backoff and jitter, capped', async () => {
      admin = new AdminClient({
        addr: fake.address,
        port: fake.port,
        password: 'wrong',
        timeoutMs: 60,
        retries: 0,
      });
      const l = makeLink({ reattachMinDelayMs: 10, reattachMaxDelayMs: 40 }, () => 1);
      l.start();
      await waitFor(
        () => events.filter((e) => e.type === 'attach_failed').length >= 4,
        'four failed attempts',
      );
      const delays = events.flatMap((e) => (e.type === 'attach_failed' ? [e.retryInMs] : []));
      expect(delays.slice(0, 4)).to.deep.equal([10, 20, 40, 40]);
      expect(l.state).to.be.oneOf(['lost', 'attaching']);
      expect(l.status().lastError).to.match(/^RS_ERR_ADMIN_AUTH/);
    });

    it('does not attach to a node whose Core_nodeInfo is inconsistent', async () => {
      fake.nodeInfo = { ...A, myIp6: captureNodeInfo('B').myIp6 };
      const l = makeLink();
      l.start();
      await waitFor(() => events.some((e) => e.type === 'attach_failed'), 'a failed attempt');
      expect(l.status().lastError).to.match(/^RS_ERR_ADMIN_INVALID/);
      fake.nodeInfo = A;
      await waitFor(() => l.state === 'attached', 'attached once cjdroute is sane');
    });

    it('refuses a node other than the expected one (identity.publicKey) and keeps our identity', async () => {
      const before = server.identity;
      const l = makeLink({ expectedKey: identityFromNodeInfo(captureNodeInfo('B')).key });
      l.start();
      await waitFor(() => events.some((e) => e.type === 'attach_failed'), 'a failed attempt');
      expect(l.status().lastError).to.match(
        /^RS_ERR_CONFIG_INVALID: cjdroute is node 5tuq.*identity\.publicKey is/,
      );
      expect(server.identity).to.equal(before);
      expect(fake.handlers).to.deep.equal(
        [],
        'no handler registered for a node we do not answer for',
      );
      fake.nodeInfo = captureNodeInfo('B');
      await waitFor(() => l.state === 'attached', 'attached once cjdroute is the expected node');
      expect(server.identity.key).to.equal(identityFromNodeInfo(captureNodeInfo('B')).key);
    });
  });

  describe('watchdog', () => {
    it('re-attaches on the same port after cjdroute restarts and forgets the handler', async () => {
      const l = makeLink();
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      const port = l.status().handlerPort;
      fake.restart();
      await waitFor(() => events.some((e) => e.type === 'lost'), 'the loss to be noticed');
      await waitFor(() => l.state === 'attached', 're-attached');
      expect(kinds()).to.deep.equal([
        'detached>attaching',
        'attaching>attached',
        'attached',
        'attached>lost',
        'lost',
        'lost>attaching',
        'attaching>attached',
        'attached',
      ]);
      const lost = events.find((e) => e.type === 'lost');
      expect(lost && lost.type === 'lost' && lost.reason).to.match(/no longer registered/);
      expect(l.status()).to.include({ handlerPort: port, reattaches: 1, lastError: null });
      expect(fake.handlers).to.deep.equal([{ type: 256, udpPort: port }]);
      const metrics = await server.metrics.registry.getSingleMetricAsString(
        'snode_cjdns_reattaches_total',
      );
      expect(metrics).to.match(/snode_cjdns_reattaches_total 1$/m);
    });

    it('declares the link lost when cjdroute stops answering and re-attaches when it is back', async () => {
      const l = makeLink();
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      let requestsWhenLost = -1;
      l.addListener((e) => {
        if (e.type === 'lost') requestsWhenLost = fake.requests.length;
      });
      const silencedAt = fake.requests.length;
      fake.silent = true;
      await waitFor(() => l.state === 'lost', 'lost');
      expect(l.status().lastError).to.match(/^RS_ERR_ADMIN_TIMEOUT/);
      // the watchdog makes one attempt (one cookie request), not 1 + retries
      expect(requestsWhenLost - silencedAt).to.equal(1);
      await waitFor(
        () => events.some((e) => e.type === 'attach_failed'),
        'a failed re-attach while silent',
      );
      fake.silent = false;
      await waitFor(() => l.state === 'attached', 're-attached');
      expect(l.status().reattaches).to.equal(1);
    });

    it('keeps checking while everything is fine', async () => {
      const l = makeLink();
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      const before = fake.requests.length;
      await waitFor(() => fake.requests.length >= before + 6, 'three watchdog calls');
      expect(l.state).to.equal('attached');
      expect(
        fake.requests
          .slice(before)
          .filter((r) => r !== 'cookie')
          .every((r) => r === 'UpperDistributor_listHandlers'),
      ).to.equal(true);
    });
  });

  describe('handler socket', () => {
    it('answers a query frame with the reply frame, sent to the reply address', async () => {
      const l = makeLink();
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      expect(await fake.deliver(captureBytes('01-A-self-pn-query.bin'))).to.equal(1);
      await waitFor(() => sink.frames.length === 1, 'a reply');
      expect(bytesToHex(sink.frames[0]!)).to.equal(
        bytesToHex(captureBytes('02-A-self-pn-reply.bin')),
      );
    });

    it("drops a frame that does not come from cjdns' TUN source (the reply address), unanswered, counted foreign", async () => {
      const l = makeLink();
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      // a signed query injected from another local socket: parsed, it would get a reply
      expect(await fake.deliverForged(captureBytes('01-A-self-pn-query.bin'))).to.equal(1);
      await waitFor(() => events.some((e) => e.type === 'frame'), 'the frame');
      expect(events.filter((e) => e.type === 'frame')).to.deep.equal([
        { type: 'frame', result: 'foreign' },
      ]);
      // the same frame from cjdns is answered
      await fake.deliver(captureBytes('01-A-self-pn-query.bin'));
      await waitFor(() => sink.frames.length === 1, 'the reply to the genuine frame');
      expect(sink.frames).to.have.length(1);
      const counted = await server.metrics.registry.getSingleMetricAsString(
        'snode_cjdns_frames_total',
      );
      expect(counted).to.match(/result="foreign"\S* 1$/m);
    });

    it("binds the handler socket to the cjdns node's own IPv6 (its TUN address) unless told otherwise", async () => {
      const seen: Array<{ address: string; acceptFrom: unknown }> = [];
      const recording: BindHandlerSocket = (o) => {
        seen.push({ address: o.address, acceptFrom: o.acceptFrom });
        return bindUdpHandlerSocket({ ...o, address: '::1' }); // this host has no TUN address
      };
      const l = makeLink({ bindAddress: undefined }, undefined, recording);
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      expect(seen).to.deep.equal([
        { address: A.myIp6, acceptFrom: { address: '::1', port: sink.port } },
      ]);
    });

    it('does not attach while the TUN address cannot be bound, and says why', async () => {
      const l = makeLink({ bindAddress: undefined });
      l.start();
      await waitFor(() => events.some((e) => e.type === 'attach_failed'), 'the attach to fail');
      expect(l.state).to.not.equal('attached');
      expect(l.status().lastError).to.match(
        /^RS_ERR_CJDNS_HANDLER: cannot bind a handler socket on fc.* \(is the cjdns TUN interface up\?\)$/,
      );
    });

    it('drops garbage datagrams, counts them, and keeps answering', async () => {
      const l = makeLink();
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      const query = captureBytes('01-A-self-pn-query.bin');
      const broken = [
        new Uint8Array(0),
        new Uint8Array([1, 2, 3]),
        query.slice(0, 80),
        Uint8Array.from(query, (b, i) => (i >= 72 ? 0x64 : b)),
      ];
      for (const g of broken) await fake.deliver(g);
      await fake.deliver(captureBytes('20-dht-fn-query-ignore.bin'));
      await fake.deliver(query);
      await waitFor(() => sink.frames.length === 1, 'the reply to the valid query');
      await waitFor(
        () => events.filter((e) => e.type === 'frame').length === 6,
        'six frames handled',
      );
      const results = events.flatMap((e) => (e.type === 'frame' ? [e.result] : []));
      expect(results.filter((r) => r === 'malformed')).to.have.length(4);
      expect(results).to.include.members(['ignored', 'reply']);
      const text = await server.metrics.registry.getSingleMetricAsString(
        'snode_cjdns_frames_total',
      );
      expect(text).to.match(/snode_cjdns_frames_total\{result="malformed"\} 4/);
      expect(parseHandlerFrame(sink.frames[0]!).routeHeader.switchHeader.labelShift).to.equal(0);
    });

    it('drops frames beyond the in-flight bound', async () => {
      const l = makeLink({ maxFramesInFlight: 0 });
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      await fake.deliver(captureBytes('01-A-self-pn-query.bin'));
      await waitFor(() => events.some((e) => e.type === 'frame'), 'the frame');
      expect(events.find((e) => e.type === 'frame')).to.deep.equal({
        type: 'frame',
        result: 'dropped',
      });
    });

    it('survives a reply it cannot send, and counts it', async () => {
      // the real socket, whose sends fail (as they do while the TUN interface is down)
      const failingSends: BindHandlerSocket = async (o) => ({
        ...(await bindUdpHandlerSocket(o)),
        send: () =>
          Promise.reject(Object.assign(new Error('send ENETUNREACH'), { code: 'ENETUNREACH' })),
      });
      const l = makeLink({}, undefined, failingSends);
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      await fake.deliver(captureBytes('01-A-self-pn-query.bin'));
      const counted = async (): Promise<string> =>
        server.metrics.registry.getSingleMetricAsString('snode_cjdns_reply_send_errors_total');
      const deadline = Date.now() + 2000;
      while (!/_total 1$/m.test(await counted()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      expect(await counted()).to.match(/snode_cjdns_reply_send_errors_total 1$/m);
      expect(l.state).to.equal('attached');
    });
  });

  describe('#stop()', () => {
    it('closes the socket, goes detached, and leaves the handler registered by default', async () => {
      const l = makeLink();
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      const port = l.status().handlerPort!;
      await l.stop();
      expect(l.status()).to.include({ state: 'detached', handlerPort: null, attachedAt: null });
      expect(fake.handlers).to.deep.equal([{ type: 256, udpPort: port }]);
      // the next run binds the same port again (the original's reuse of a previous handler)
      const again = makeLink();
      again.start();
      await waitFor(() => again.state === 'attached', 'attached again');
      expect(again.status().handlerPort).to.equal(port);
    });

    it('unregisters the handler when asked', async () => {
      const l = makeLink();
      l.start();
      await waitFor(() => l.state === 'attached', 'attached');
      await l.stop({ unregister: true });
      expect(fake.handlers).to.deep.equal([]);
    });

    it('drops an attach that was still running', async () => {
      fake.silent = true;
      const l = makeLink();
      l.start();
      await l.stop();
      fake.silent = false;
      await new Promise((r) => setTimeout(r, 150));
      expect(l.state).to.equal('detached');
      expect(fake.handlers).to.deep.equal([]);
    });
  });
});
