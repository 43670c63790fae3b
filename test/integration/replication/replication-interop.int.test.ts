/**
 * Interop with the original route server (cjdnsnode peer.js), frame by frame, in both roles:
 * a raw websocket client plays the original's connecting side against our server, and a raw
 * websocket server plays the original's accepting side for our dialer. Frames are the
 * peer_protocol.json fixture vectors where one exists; the others are built by hand from the msgpack
 * layout the vectors show (and the layout is checked against the vector first).
 */
import { expect } from 'chai';
import type { App } from '../../../src/app.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { encodePeerFrame } from '../../../src/protocol/peer-frame.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { startTestApp } from '../../helpers/app.ts';
import { httpRequest } from '../../helpers/http.ts';
import { sampleValue } from '../../helpers/metrics.ts';
import {
  RawPeer,
  RawServer,
  frameVector,
  routeVectors,
  sleep,
  waitUntil,
} from '../../unit/replication/fixtures.ts';

const { routes, identity } = routeVectors();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const annSteps: any[] = routes.steps.filter((s: { action: string }) => s.action === 'ann');

/** msgpack5's encoding of 64-byte hashes and announcements, as laid out in vectors 010 / 014. */
function binHex(bytes: Uint8Array): string {
  const n = bytes.length;
  const head =
    n < 256 ? `c4${n.toString(16).padStart(2, '0')}` : `c5${n.toString(16).padStart(4, '0')}`;
  return head + bytesToHex(bytes);
}
function uint64Hex(n: number): string {
  return `cf${n.toString(16).padStart(16, '0')}`;
}
/** `[0, "INV", 0, [hash…]]` for up to 15 hashes (fixarray), the layout of vector 014. */
function invHex(hashes: Uint8Array[]): string {
  return `9400a3494e5600${(0x90 | hashes.length).toString(16)}${hashes.map(binHex).join('')}`;
}
function getDataHex(seq: number, hash: Uint8Array): string {
  return `93${uint64Hex(seq)}a84745545f44415441${binHex(hash)}`;
}
function dataHex(seq: number, data: Uint8Array): string {
  return `93${uint64Hex(seq)}a444415441${binHex(data)}`;
}

const HELLO = frameVector('008'); // [0, "HELLO", 1]
const OLLEH_42 = frameVector('002'); // [0, "OLLEH", 42]
const GET_DATA_SEQ = frameVector('010'); // [1700000000123, "GET_DATA", <hash a96b…>]
const DATA_NIL = frameVector('011'); // [1700000000123, "DATA", nil]
const ACK_SEQ = frameVector('013'); // [1700000000124, "ACK"]
const INV_2 = frameVector('014'); // [0, "INV", 0, [<a96b…>, <d408…>]]
const SEQ = (GET_DATA_SEQ.message as [number])[0];
const [HASH_A, HASH_B] = (INV_2.message as [number, string, number, Uint8Array[]])[3];

describe('replication interop with the original (cjdnsnode) frames', () => {
  it('reproduces vectors 010, 011 and 014 with the hand-built layouts used below', () => {
    expect(invHex([HASH_A!, HASH_B!])).to.equal(INV_2.hex);
    expect(getDataHex(SEQ, HASH_A!)).to.equal(GET_DATA_SEQ.hex);
    expect(`93${uint64Hex(SEQ)}a444415441c0`).to.equal(DATA_NIL.hex);
  });

  describe('our server in the accepting role, the original connecting', () => {
    let app: App;
    let peer: RawPeer;
    const clock = new ManualClock(0);

    before(async () => {
      app = await startTestApp({
        privateKeyHex: routes.self.private_hex,
        version: routes.self.version,
        clock,
      });
      for (const s of annSteps.slice(0, 4)) {
        clock.set(s.now_ms);
        expect((await app.server.submitAnnouncement(hexToBytes(s.ann_hex), 'node')).error).to.equal(
          'none',
        );
      }
      peer = await RawPeer.connect(app.address().port);
    });
    after(async () => {
      peer?.close();
      await app?.close();
    });

    it('sends HELLO (vector 008) first, then the whole store as INV in store order', async () => {
      const stored = [...app.server.store.hashes()];
      await waitUntil(() => peer.frames.length >= 2, 'HELLO and INV');
      expect(bytesToHex(peer.frames[0]!)).to.equal(HELLO.hex);
      expect(bytesToHex(peer.frames[1]!)).to.equal(invHex(stored));
    });

    it('accepts OLLEH and answers GET_DATA for an unknown hash with DATA nil (vector 010 → 011)', async () => {
      peer.sendRaw(OLLEH_42.bytes);
      const n = peer.frames.length;
      peer.sendRaw(GET_DATA_SEQ.bytes);
      await waitUntil(() => peer.frames.length > n, 'the DATA reply');
      expect(bytesToHex(peer.frames[n]!)).to.equal(DATA_NIL.hex);
    });

    it('answers GET_DATA for a stored hash with the announcement bytes under the same seq', async () => {
      const hash = [...app.server.store.hashes()][1]!;
      const n = peer.frames.length;
      peer.sendRaw(hexToBytes(getDataHex(SEQ + 7, hash)));
      await waitUntil(() => peer.frames.length > n, 'the DATA reply');
      expect(bytesToHex(peer.frames[n]!)).to.equal(dataHex(SEQ + 7, app.server.store.get(hash)!));
    });

    it('answers PING with ACK echoing the seq (vector 013)', async () => {
      const n = peer.frames.length;
      peer.send({ type: 'PING', seq: SEQ + 1 });
      await waitUntil(() => peer.frames.length > n, 'the ACK');
      expect(bytesToHex(peer.frames[n]!)).to.equal(ACK_SEQ.hex);
    });

    it('ignores INV and DATA from the connecting side and unknown types, as the original', async () => {
      peer.sendRaw(INV_2.bytes);
      peer.sendRaw(DATA_NIL.bytes);
      peer.send({ type: 'UNKNOWN', seq: 3, name: 'NEW_THING' });
      const n = peer.frames.length;
      peer.send({ type: 'PING', seq: 9 });
      await waitUntil(() => peer.frames.length > n, 'the ACK');
      expect(bytesToHex(peer.frames[n]!)).to.equal('9209a341434b');
      expect(peer.closed).to.equal(false);
    });

    it('advertises a newly accepted announcement in one INV of one hash', async () => {
      const next = annSteps[4];
      const n = peer.frames.length;
      clock.set(next.now_ms);
      expect(
        (await app.server.submitAnnouncement(hexToBytes(next.ann_hex), 'node')).error,
      ).to.equal('none');
      await waitUntil(() => peer.frames.length > n, 'the live INV');
      expect(bytesToHex(peer.frames[n]!)).to.equal(invHex([hexToBytes(next.ann_hash)]));
    });

    it("lists the peer on / with the original's four fields", async () => {
      const root = JSON.parse((await httpRequest(app.address().port, '/')).body.toString());
      expect(root.peer.peers).to.have.length(1);
      expect(root.peer.peers[0]).to.have.all.keys(
        'addr',
        'outstandingRequests',
        'msgsOnWire',
        'msgQueue',
      );
      expect(root.peer.peers[0].outstandingRequests).to.equal(0);
    });
  });

  describe('our server in the connecting role, the original accepting', () => {
    let app: App;
    let raw: RawServer;
    // the original's seq counter starts at Date.now(); ours too, here pinned to the vectors' value
    const clock = new ManualClock(SEQ);
    const stepAnn = annSteps[0];

    before(async () => {
      raw = await RawServer.start((p) => {
        p.sendRaw(HELLO.bytes);
        p.sendRaw(INV_2.bytes);
      });
      app = await startTestApp({
        privateKeyHex: identity('erin').private_hex,
        clock,
        config: { peers: [raw.url], replication: { tickMs: 20 } },
      });
      await waitUntil(() => raw.peers.length === 1, 'our dialer to connect');
    });
    after(async () => {
      await app?.close();
      await raw?.close();
    });

    it('greets with OLLEH version 1', async () => {
      const p = raw.peers[0]!;
      await waitUntil(() => p.frames.length >= 1, 'OLLEH');
      // vector 002 is [0, "OLLEH", 42]; the original sends version 1 (vector 008 for HELLO)
      expect(bytesToHex(p.frames[0]!)).to.equal(OLLEH_42.hex.slice(0, -2) + '01');
    });

    it('requests each advertised hash it lacks, in INV order, seq counting from its start time (vector 010)', async () => {
      const p = raw.peers[0]!;
      await waitUntil(() => p.frames.length >= 3, 'two GET_DATA');
      expect(bytesToHex(p.frames[1]!)).to.equal(GET_DATA_SEQ.hex);
      expect(bytesToHex(p.frames[2]!)).to.equal(getDataHex(SEQ + 1, HASH_B!));
    });

    it('skips nil answers (vector 011) and answers PING with ACK (vector 013)', async () => {
      const p = raw.peers[0]!;
      p.sendRaw(DATA_NIL.bytes);
      p.sendRaw(hexToBytes(`93${uint64Hex(SEQ + 1)}a444415441c0`));
      const n = p.frames.length;
      p.send({ type: 'PING', seq: SEQ + 1 });
      await waitUntil(() => p.frames.length > n, 'the ACK');
      expect(bytesToHex(p.frames[n]!)).to.equal(ACK_SEQ.hex);
      await waitUntil(
        () => app.replication.stats().peers[0]?.outstanding === 0,
        'both requests settled',
      );
      expect(app.server.store.size).to.equal(0);
    });

    it('ignores unknown types and applies DATA through the gossip path', async () => {
      const p = raw.peers[0]!;
      p.send({ type: 'UNKNOWN', seq: 0, name: 'SOMETHING_NEW' });
      const hash = hexToBytes(stepAnn.ann_hash);
      const n = p.frames.length;
      p.sendRaw(hexToBytes(invHex([hash])));
      await waitUntil(() => p.frames.length > n, 'the GET_DATA');
      expect(bytesToHex(p.frames[n]!)).to.equal(getDataHex(SEQ + 2, hash));
      p.sendRaw(hexToBytes(dataHex(SEQ + 2, hexToBytes(stepAnn.ann_hex))));
      await waitUntil(() => app.server.store.has(hash), 'the announcement in our store');
      const dump = await httpRequest(app.address().port, '/dump');
      expect(dump.body.toString('hex')).to.equal(
        `${(stepAnn.ann_hex.length / 2).toString(16).padStart(8, '0')}${stepAnn.ann_hex}00000000`,
      );
      expect(p.closed).to.equal(false);
    });

    it('does not request what it already has', async () => {
      const p = raw.peers[0]!;
      p.sendRaw(hexToBytes(invHex([hexToBytes(stepAnn.ann_hash)])));
      await sleep(100);
      expect(p.decoded().filter((m) => m.type === 'GET_DATA')).to.have.length(3);
    });

    it('drops the connection when the accepting side sends OLLEH (wrong greeting), then reconnects once', async () => {
      const p = raw.peers[0]!;
      p.send(encodePeerFrame({ type: 'OLLEH', seq: 0, version: 1 }));
      await waitUntil(() => p.closed, 'the drop');
      expect(p.closeCode).to.equal(1008);
      const metrics = (await httpRequest(app.adminAddress()!.port, '/metrics')).body.toString();
      expect(
        sampleValue(metrics, 'snode_peer_disconnects_total', { reason: 'WrongGreeting' }),
      ).to.equal(1);
      await waitUntil(() => raw.peers.length === 2, 'the reconnect (1 s ± 20 %)', 3000);
      const dialer = app.replication.stats().dialers[0]!;
      expect(dialer).to.include({ scheduled: 1, maxTimersArmed: 1, attempts: 2 });
      expect(dialer.delays[0]).to.be.within(800, 1200);
    });
  });
});
