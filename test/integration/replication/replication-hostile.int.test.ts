/**
 * Hostile replication peers (issue "done when" 3): garbage msgpack, the bad-frame vectors, unknown
 * types, DATA for an unknown seq, an INV of 100k hashes (one frame, and 782 frames of 128), a peer
 * that never reads. Each ends with the peer dropped (a DisconnectReason counted in
 * snode_peer_disconnects_total) or throttled, our per-peer structures bounded, and the server
 * still answering /healthz and a subnode query.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { App } from '../../../src/app.ts';
import type { ReplicationSettings } from '../../../src/replication/replication-settings.ts';
import { bencodeDecode, bencodeEncode, type BDict } from '../../../src/protocol/bencode.ts';
import { hexToBytes } from '../../../src/protocol/hex.ts';
import { encodePeerFrame } from '../../../src/protocol/peer-frame.ts';
import { startTestApp } from '../../helpers/app.ts';
import { httpRequest } from '../../helpers/http.ts';
import { sampleValue } from '../../helpers/metrics.ts';
import {
  RawPeer,
  RawServer,
  badFrameVectors,
  randomHash,
  routeVectors,
  sleep,
  waitUntil,
} from '../../unit/replication/fixtures.ts';

const { routes, identity } = routeVectors();

async function start(
  replication: Partial<ReplicationSettings> = {},
  peers: string[] = [],
): Promise<App> {
  return startTestApp({
    privateKeyHex: routes.self.private_hex,
    config: { peers, replication: { tickMs: 20, ...replication } },
  });
}

async function disconnects(app: App, reason: string): Promise<number> {
  const text = (await httpRequest(app.adminAddress()!.port, '/metrics')).body.toString();
  return sampleValue(text, 'snode_peer_disconnects_total', { reason }) ?? 0;
}

async function metric(
  app: App,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = (await httpRequest(app.adminAddress()!.port, '/metrics')).body.toString();
  return sampleValue(text, name, labels) ?? 0;
}

/** The server is alive: /healthz answers and a subnode `pn` query gets its reply. */
async function expectServing(app: App): Promise<void> {
  const port = app.address().port;
  expect((await httpRequest(port, '/healthz')).status).to.equal(200);
  const txid = Uint8Array.of(1, 2, 3);
  const res = await httpRequest(port, '/subnode', {
    method: 'POST',
    body: bencodeEncode({ sq: 'pn', txid, p: 22 }),
    headers: { 'x-cjdns-ip': identity('alice').ipv6, 'x-cjdns-version': '22' },
  });
  expect(res.status).to.equal(200);
  const reply = bencodeDecode(new Uint8Array(res.body)) as BDict;
  expect(Buffer.from(reply.txid as Uint8Array).toString('hex')).to.equal('010203');
  expect(reply.stateHash).to.have.length(64);
}

describe('hostile replication peers', () => {
  describe('connecting to us (inbound)', () => {
    let app: App;
    before(async () => {
      app = await start({ maxFrameBytes: 64 * 1024 });
    });
    after(async () => app?.close());

    it('drops a peer that sends garbage msgpack', async () => {
      const p = await RawPeer.connect(app.address().port);
      p.sendRaw(Uint8Array.of(0xc1, 0xff, 0x00, 0x13));
      await waitUntil(() => p.closed, 'the drop');
      expect(p.closeCode).to.equal(1008);
      expect(await disconnects(app, 'BadFrame')).to.equal(1);
      await expectServing(app);
    });

    for (const v of badFrameVectors()) {
      it(`drops a peer that sends ${v.id}`, async () => {
        const before = await disconnects(app, 'BadFrame');
        const p = await RawPeer.connect(app.address().port);
        p.sendRaw(hexToBytes(v.hex));
        await waitUntil(() => p.closed, 'the drop');
        expect(await disconnects(app, 'BadFrame')).to.equal(before + 1);
      });
    }

    it('drops a peer that sends a text message', async () => {
      const before = await disconnects(app, 'BadFrame');
      const p = await RawPeer.connect(app.address().port);
      p.ws.send('[0,"OLLEH",1]');
      await waitUntil(() => p.closed, 'the drop');
      expect(await disconnects(app, 'BadFrame')).to.equal(before + 1);
    });

    it('ignores and counts unknown message types without dropping the peer', async () => {
      const p = await RawPeer.connect(app.address().port);
      for (let i = 0; i < 100; i++) p.send({ type: 'UNKNOWN', seq: i, name: `TYPE_${i}` });
      p.send({ type: 'PING', seq: 4242 });
      await waitUntil(() => p.ofType('ACK').some((m) => m.seq === 4242), 'the ACK');
      expect(p.closed).to.equal(false);
      expect(await metric(app, 'snode_peer_unknown_frames_total')).to.equal(100);
      p.close();
    });

    it('drops a peer that greets with HELLO (only the accepting side sends HELLO)', async () => {
      const p = await RawPeer.connect(app.address().port);
      p.send({ type: 'HELLO', seq: 0, version: 1 });
      await waitUntil(() => p.closed, 'the drop');
      expect(await disconnects(app, 'WrongGreeting')).to.equal(1);
    });

    it('closes with 1009 a peer whose message exceeds maxFrameBytes (an INV of 100k hashes in one frame)', async () => {
      const p = await RawPeer.connect(app.address().port);
      const hashes = Array.from({ length: 100_000 }, (_, i) => {
        const h = new Uint8Array(64);
        new DataView(h.buffer).setUint32(0, i);
        return h;
      });
      p.sendRaw(encodePeerFrame({ type: 'INV', seq: 0, hashes }));
      await waitUntil(() => p.closed, 'the drop');
      expect(p.closeCode).to.equal(1009);
      expect(await disconnects(app, 'FrameTooLarge')).to.equal(1);
      await expectServing(app);
    });

    it('reports the peers that remain on /', async () => {
      const root = JSON.parse((await httpRequest(app.address().port, '/')).body.toString());
      expect(root.peer.peers).to.deep.equal([]);
      expect(app.replication.stats().peers).to.deep.equal([]);
    });
  });

  describe('a peer that never reads', () => {
    let app: App;
    const entries = 2000;
    before(async () => {
      app = await start({
        sendQueueLimit: 256,
        sendHighWaterBytes: 64 * 1024,
        sendStallTimeoutMs: 500,
        readPauseMailbox: 64,
      });
      // big store entries: the GET_DATA answers must overflow the socket buffers
      for (let i = 0; i < entries; i++)
        app.server.store.add(randomHash(), new Uint8Array(randomBytes(4000)));
    });
    after(async () => app?.close());

    it('keeps the send queue bounded and drops the peer', async () => {
      const p = await RawPeer.connect(app.address().port);
      p.ws.pause(); // never read again
      const hashes = [...app.server.store.hashes()];
      for (let round = 0; round < 10; round++)
        for (const h of hashes) p.send({ type: 'GET_DATA', seq: round, hash: h });
      let maxQueue = 0;
      let maxBytes = 0;
      await waitUntil(
        async () => {
          for (const s of app.replication.stats().peers) {
            maxQueue = Math.max(maxQueue, s.sendQueue);
            maxBytes = Math.max(maxBytes, s.sendQueueBytes);
          }
          return (
            (await disconnects(app, 'SendStalled')) +
              (await disconnects(app, 'SendQueueFull')) +
              (await disconnects(app, 'MailboxFull')) ===
            1
          );
        },
        'the drop',
        15_000,
        5,
      );
      expect(maxQueue).to.be.at.most(256);
      expect(maxBytes).to.be.at.most(256 * 4100);
      expect(app.replication.stats().peers).to.have.length(0);
      await expectServing(app);
      p.close();
    });
  });

  describe('a peer that floods faster than its actor drains', () => {
    it('drops it (MailboxFull) when its frames overflow the mailbox, outside the actor, without crashing', async () => {
      const app = await start({ mailboxLimit: 16, readPauseMailbox: 1 });
      try {
        const p = await RawPeer.connect(app.address().port);
        // 2000 masked binary frames (mask key 0) in one write: the server reads them as one chunk
        // and ws emits every message at once, before the actor runs
        const ping = encodePeerFrame({ type: 'PING', seq: 1 });
        const burst = Buffer.concat(
          Array.from({ length: 2000 }, () =>
            Buffer.from([0x82, 0x80 | ping.length, 0, 0, 0, 0, ...ping]),
          ),
        );
        (p.ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(burst);
        await waitUntil(() => p.closed, 'the drop');
        expect(await disconnects(app, 'MailboxFull')).to.equal(1);
        expect(app.replication.stats().peers).to.have.length(0);
        await expectServing(app);
      } finally {
        await app.close();
      }
    });
  });

  describe('accepting our connection (outbound)', () => {
    let raw: RawServer;
    let app: App;
    let onConnection: (p: RawPeer) => void = () => {};

    before(async () => {
      raw = await RawServer.start((p) => onConnection(p));
    });
    afterEach(async () => {
      await app?.close();
    });
    after(async () => raw?.close());

    it('drops a peer that sends DATA for a seq never requested', async () => {
      onConnection = (p) => {
        p.send({ type: 'HELLO', seq: 0, version: 1 });
        p.send({ type: 'DATA', seq: 999, data: Uint8Array.of(1, 2, 3) });
      };
      app = await start({ reconnectBaseMs: 60_000, reconnectErrorBaseMs: 60_000 }, [raw.url]);
      await waitUntil(async () => (await disconnects(app, 'UnknownDataSeq')) === 1, 'the drop');
      await expectServing(app);
    });

    it('drops a peer whose INV exceeds maxInvHashes', async () => {
      onConnection = (p) => {
        p.send({ type: 'HELLO', seq: 0, version: 1 });
        p.send({ type: 'INV', seq: 0, hashes: Array.from({ length: 5000 }, randomHash) });
      };
      app = await start({ reconnectBaseMs: 60_000, reconnectErrorBaseMs: 60_000 }, [raw.url]);
      await waitUntil(async () => (await disconnects(app, 'InvTooLarge')) === 1, 'the drop');
      expect(app.replication.stats().scheduler.tracked).to.equal(0);
    });

    it('reads on through an INV flood of 100k hashes with bounded memory (the excess deferred), then drops the peer that never answers', async () => {
      const total = 100_000;
      onConnection = (p) => {
        p.send({ type: 'HELLO', seq: 0, version: 1 });
        for (let i = 0; i < total; i += 128)
          p.send({
            type: 'INV',
            seq: 0,
            hashes: Array.from({ length: Math.min(128, total - i) }, randomHash),
          });
        // never answers GET_DATA
      };
      const limits = {
        maxWantedPerPeer: 1000,
        maxOutstandingPerPeer: 50,
        requestTimeoutMs: 300,
        maxConsecutiveTimeouts: 200,
        readPauseMailbox: 32,
      };
      app = await start({ ...limits, reconnectBaseMs: 60_000, reconnectErrorBaseMs: 60_000 }, [
        raw.url,
      ]);
      let maxTracked = 0;
      let maxQueue = 0;
      await waitUntil(
        async () => {
          const st = app.replication.stats();
          maxTracked = Math.max(maxTracked, st.scheduler.tracked);
          for (const s of st.peers) {
            maxQueue = Math.max(maxQueue, s.wantQueue);
            expect(s.outstanding).to.be.at.most(50);
          }
          return (await disconnects(app, 'RequestTimeouts')) === 1;
        },
        'the drop',
        15_000,
        5,
      );
      // requests were outstanding throughout: reading never paused for the want list, and what
      // did not fit it was deferred (counted) instead of kept
      expect(await metric(app, 'snode_peer_throttled_total', { cause: 'want_list' })).to.equal(0);
      expect(await metric(app, 'snode_peer_inv_discarded_total', {})).to.be.greaterThan(0);
      // wanted + in flight never beyond the hard cap (2 × maxWantedPerPeer) plus the requests
      expect(maxTracked).to.be.at.most(2 * 1000 + 50);
      expect(maxQueue).to.be.at.most(2 * 1000 + 1024 + 50);
      expect(app.replication.stats().scheduler).to.include({ tracked: 0, inflight: 0 });
      await expectServing(app);
    });

    it('pings a silent peer and drops it after dropAfterMs', async () => {
      let pings = 0;
      onConnection = (p) => {
        p.send({ type: 'HELLO', seq: 0, version: 1 });
        p.ws.on('message', (d: Buffer) => {
          if (d.includes(Buffer.from('PING'))) pings++;
        });
      };
      app = await start(
        {
          pingCycleMs: 50,
          pingAfterMs: 100,
          // well after the first ping is due: a loaded machine that runs the 50 ms cycle late
          // must still ping before the drop is due
          dropAfterMs: 1500,
          reconnectBaseMs: 60_000,
          reconnectErrorBaseMs: 60_000,
        },
        [raw.url],
      );
      await waitUntil(async () => (await disconnects(app, 'Idle')) === 1, 'the drop');
      // the PING frames went out before the close; this side may read them a moment later
      await waitUntil(async () => pings > 0, 'the pings before the drop');
      expect(pings).to.be.greaterThan(0);
    });
  });

  describe('admission', () => {
    it('refuses addresses outside the allow-list with 403 and counts them', async () => {
      const app = await start({ allowList: ['10.0.0.0/8', 'fc00::/8'] });
      try {
        const err = await RawPeer.connect(app.address().port).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err?.message).to.equal('HTTP 403');
        expect(await disconnects(app, 'NotAllowed')).to.equal(1);
      } finally {
        await app.close();
      }
    });

    it('admits an allowed address', async () => {
      const app = await start({ allowList: ['127.0.0.0/8'] });
      try {
        const p = await RawPeer.connect(app.address().port);
        await waitUntil(() => p.frames.length >= 1, 'HELLO');
        p.close();
      } finally {
        await app.close();
      }
    });

    it('refuses connections beyond maxInboundPeers with 503', async () => {
      const app = await start({ maxInboundPeers: 1 });
      try {
        const first = await RawPeer.connect(app.address().port);
        const err = await RawPeer.connect(app.address().port).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err?.message).to.equal('HTTP 503');
        first.close();
        await waitUntil(() => app.replication.stats().peers.length === 0, 'the first peer gone');
        const again = await RawPeer.connect(app.address().port);
        again.close();
      } finally {
        await app.close();
      }
    });

    it('refuses websocket upgrades on other paths', async () => {
      const app = await start();
      try {
        const err = await RawPeer.connect(app.address().port, '/other').then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err?.message).to.equal('HTTP 404');
        await sleep(10);
        await expectServing(app);
      } finally {
        await app.close();
      }
    });
  });
});
