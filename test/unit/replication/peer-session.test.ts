/**
 * The peer actor's state machine (PeerSession) driven directly: a fake socket, a manual clock,
 * the real replication store and fetch scheduler. No nact, no sockets, no sleeping.
 */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import {
  PeerSession,
  type PeerClosed,
  type PeerCommand,
  type PeerRole,
} from '../../../src/replication/peer-session.ts';
import { RsError } from '../../../src/errors.ts';
import { ReplicationStore } from '../../../src/graph/replication-store.ts';
import { silentLogger } from '../../../src/log.ts';
import { annHash } from '../../../src/protocol/announcement.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import {
  decodePeerFrame,
  encodePeerFrame,
  type PeerMessage,
} from '../../../src/protocol/peer-frame.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { FetchScheduler } from '../../../src/replication/fetch-scheduler.ts';
import { PIPELINE_STEPS_PER_TURN, RETRY_VERDICTS } from '../../../src/replication/peer-outbound.ts';
import { InitialSync } from '../../../src/replication/initial-sync.ts';
import type { PeerSocket } from '../../../src/replication/peer-send-queue.ts';
import { ReplicationMetrics } from '../../../src/replication/replication-metrics.ts';
import {
  defaultReplicationSettings,
  type ReplicationSettings,
} from '../../../src/replication/replication-settings.ts';
import { randomHash } from './fixtures.ts';

class FakeSocket implements PeerSocket {
  bufferedAmount = 0;
  readonly sent: Uint8Array[] = [];
  private readonly callbacks: Array<() => void> = [];
  paused = false;
  closeCode: number | undefined;
  terminated = false;
  send(data: Uint8Array, cb: (err?: Error) => void): void {
    this.sent.push(data);
    this.callbacks.push(() => cb());
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  close(code: number): void {
    this.closeCode = code;
  }
  terminate(): void {
    this.terminated = true;
  }
  /** the kernel took everything handed over so far */
  complete(): void {
    for (const cb of this.callbacks.splice(0)) cb();
  }
  messages(): PeerMessage[] {
    return this.sent.map((f) => decodePeerFrame(f, { maxInvHashes: 1_000_000 }));
  }
}

interface Harness {
  session: PeerSession;
  socket: FakeSocket;
  clock: ManualClock;
  posted: PeerCommand[];
  closed: PeerClosed[];
  submitted: Uint8Array[];
  /** deliver what the session posted to itself (Drained, …) */
  pump(): Promise<void>;
  recv(msg: PeerMessage): Promise<void>;
}

const T0 = 1_700_000_000_000;

function harness(opts: {
  role: PeerRole;
  store?: ReplicationStore;
  scheduler?: FetchScheduler;
  settings?: Partial<ReplicationSettings>;
  sync?: InitialSync;
  clock?: ManualClock;
  id?: number;
  submit?: (bytes: Uint8Array) => Promise<string>;
}): Harness {
  const settings = defaultReplicationSettings(opts.settings);
  const store = opts.store ?? new ReplicationStore();
  const scheduler =
    opts.scheduler ??
    new FetchScheduler({
      maxInflight: settings.maxOutstandingGlobal,
      maxWantedPerPeer: settings.maxWantedPerPeer,
    });
  const clock = opts.clock ?? new ManualClock(T0);
  const socket = new FakeSocket();
  const posted: PeerCommand[] = [];
  const closed: PeerClosed[] = [];
  const submitted: Uint8Array[] = [];
  const id = opts.id ?? 1;
  scheduler.addPeer(id, () => posted.push({ type: 'FetchReady' }));
  const session = new PeerSession({
    id,
    role: opts.role,
    addr: '127.0.0.1',
    url: opts.role === 'outbound' ? 'ws://peer/cjdnsnode_websocket' : undefined,
    socket,
    store,
    submit: async (bytes) => {
      submitted.push(bytes);
      return opts.submit ? opts.submit(bytes) : 'none';
    },
    scheduler,
    settings,
    metrics: new ReplicationMetrics(new Registry(), {
      peers: () => ({ inbound: 0, outbound: 0 }),
      inflight: () => 0,
      wanted: () => 0,
    }),
    log: silentLogger(),
    clock,
    sync: opts.sync,
    mailboxDepth: () => 1,
    post: (cmd) => {
      posted.push(cmd);
      return true;
    },
    onClosed: (c) => closed.push(c),
  });
  const h: Harness = {
    session,
    socket,
    clock,
    posted,
    closed,
    submitted,
    async pump() {
      for (const cmd of posted.splice(0)) await session.handle(cmd);
    },
    async recv(msg) {
      await session.handle({ type: 'FrameReceived', bytes: encodePeerFrame(msg) });
    },
  };
  return h;
}

function hex(h: Uint8Array): string {
  return bytesToHex(h);
}

describe('peer (PeerSession)', () => {
  describe('inbound (serving our store)', () => {
    it('sends HELLO, then the store as INV batches of 128 in store order, paced by the socket', async () => {
      const store = new ReplicationStore();
      const hashes = Array.from({ length: 5000 }, randomHash);
      for (const h of hashes) store.add(h, Uint8Array.of(1));
      const h = harness({ role: 'inbound', store, settings: { sendHighWaterBytes: 20_000 } });
      h.socket.bufferedAmount = 0;
      await h.session.handle({ type: 'Start' });
      const first = h.socket.messages();
      expect(first[0]).to.deep.equal({ type: 'HELLO', seq: 0, version: 1 });
      // the fake socket never reports bytes buffered: the pump is bounded by the queue mark
      // only if the socket is slow, so simulate a full socket and check it stops
      h.socket.bufferedAmount = 50_000;
      const sentBefore = h.socket.sent.length;
      await h.session.handle({ type: 'Tick' });
      expect(h.socket.sent.length).to.equal(sentBefore);
      h.socket.bufferedAmount = 0;
      for (let i = 0; i < 100 && !h.session.stats().inventoryDone; i++) {
        h.socket.complete();
        await h.pump();
      }
      const invs = h.socket
        .messages()
        .filter((m): m is Extract<PeerMessage, { type: 'INV' }> => m.type === 'INV');
      expect(invs.every((m) => m.hashes.length <= 128)).to.equal(true);
      expect(invs.flatMap((m) => m.hashes).map(hex)).to.deep.equal(hashes.map(hex));
    });

    it('never holds more than a few inventory frames in its queue while the socket is full', async () => {
      const store = new ReplicationStore();
      for (let i = 0; i < 20_000; i++) store.add(randomHash(), Uint8Array.of(1));
      const h = harness({ role: 'inbound', store, settings: { sendHighWaterBytes: 1024 } });
      h.socket.bufferedAmount = 10_000; // full from the start
      await h.session.handle({ type: 'Start' });
      await h.session.handle({ type: 'Tick' });
      expect(h.session.stats().sendQueue).to.be.at.most(16);
      expect(h.session.stats().inventoryDone).to.equal(false);
    });

    it('reaches announcements added during the inventory through the store iterator, and advertises later ones', async () => {
      const store = new ReplicationStore();
      const early = Array.from({ length: 300 }, randomHash);
      for (const x of early) store.add(x, Uint8Array.of(1));
      const h = harness({ role: 'inbound', store });
      h.socket.bufferedAmount = 10 * 1024 * 1024; // hold the inventory
      await h.session.handle({ type: 'Start' });
      const during = randomHash();
      store.add(during, Uint8Array.of(2));
      await h.session.handle({ type: 'Advertise', hashes: [during] }); // ignored: the iterator will get there
      h.socket.bufferedAmount = 0;
      await h.session.handle({ type: 'Tick' });
      expect(h.session.stats().inventoryDone).to.equal(true);
      const after = randomHash();
      store.add(after, Uint8Array.of(3));
      await h.session.handle({ type: 'Advertise', hashes: [after] });
      const all = h.socket
        .messages()
        .filter((m): m is Extract<PeerMessage, { type: 'INV' }> => m.type === 'INV')
        .flatMap((m) => m.hashes)
        .map(hex);
      expect(all).to.deep.equal([...early, during, after].map(hex));
    });

    it('answers GET_DATA with DATA (nil when unknown) and PING with ACK', async () => {
      const store = new ReplicationStore();
      const known = randomHash();
      store.add(known, Uint8Array.of(9, 9));
      const h = harness({ role: 'inbound', store });
      await h.session.handle({ type: 'Start' });
      await h.recv({ type: 'OLLEH', seq: 0, version: 1 });
      await h.recv({ type: 'GET_DATA', seq: 11, hash: known });
      await h.recv({ type: 'GET_DATA', seq: 12, hash: randomHash() });
      await h.recv({ type: 'PING', seq: 13 });
      const tail = h.socket.messages().slice(-3);
      expect(tail).to.deep.equal([
        { type: 'DATA', seq: 11, data: Uint8Array.of(9, 9) },
        { type: 'DATA', seq: 12, data: null },
        { type: 'ACK', seq: 13 },
      ]);
    });

    it('drops a peer whose send queue overflows (it never reads)', async () => {
      const store = new ReplicationStore();
      const known = randomHash();
      store.add(known, new Uint8Array(100));
      const h = harness({
        role: 'inbound',
        store,
        settings: { sendQueueLimit: 16, sendHighWaterBytes: 1024 },
      });
      await h.session.handle({ type: 'Start' });
      h.socket.bufferedAmount = 1 << 20;
      for (let i = 0; i < 20 && !h.session.closed; i++)
        await h.recv({ type: 'GET_DATA', seq: i, hash: known });
      expect(h.closed.map((c) => c.reason)).to.deep.equal(['SendQueueFull']);
      expect(h.socket.terminated).to.equal(true);
    });

    it('pauses reading when the send queue is half full', async () => {
      const store = new ReplicationStore();
      const known = randomHash();
      store.add(known, new Uint8Array(100));
      const h = harness({
        role: 'inbound',
        store,
        settings: { sendQueueLimit: 16, sendHighWaterBytes: 1024 },
      });
      await h.session.handle({ type: 'Start' });
      h.socket.bufferedAmount = 1 << 20;
      for (let i = 0; i < 8; i++) await h.recv({ type: 'GET_DATA', seq: i, hash: known });
      expect(h.socket.paused).to.equal(true);
      h.socket.bufferedAmount = 0;
      await h.session.handle({ type: 'Drained', frames: 0 });
      expect(h.socket.paused).to.equal(false);
    });

    it('drops a peer that reads nothing for sendStallTimeoutMs', async () => {
      const h = harness({ role: 'inbound', settings: { sendStallTimeoutMs: 1000 } });
      await h.session.handle({ type: 'Start' }); // HELLO handed to the socket, never confirmed
      h.clock.set(T0 + 900);
      await h.session.handle({ type: 'Tick' });
      expect(h.session.closed).to.equal(false);
      h.clock.set(T0 + 1100);
      await h.session.handle({ type: 'Tick' });
      expect(h.closed.map((c) => c.reason)).to.deep.equal(['SendStalled']);
    });

    it('drops a connecting peer that greets with HELLO', async () => {
      const h = harness({ role: 'inbound' });
      await h.session.handle({ type: 'Start' });
      await h.recv({ type: 'HELLO', seq: 0, version: 1 });
      expect(h.closed.map((c) => c.reason)).to.deep.equal(['WrongGreeting']);
      expect(h.socket.closeCode).to.equal(1008);
    });
  });

  describe('outbound (pulling from the peer)', () => {
    async function greeted(opts: Parameters<typeof harness>[0]): Promise<Harness> {
      const h = harness(opts);
      await h.session.handle({ type: 'Start' });
      await h.recv({ type: 'HELLO', seq: 0, version: 1 });
      return h;
    }
    const getData = (h: Harness): Array<Extract<PeerMessage, { type: 'GET_DATA' }>> =>
      h.socket
        .messages()
        .filter((m): m is Extract<PeerMessage, { type: 'GET_DATA' }> => m.type === 'GET_DATA');
    /** stored-announcement stand-ins: bytes and their hash (sha512), as a peer serves them */
    const item = (i: number): { data: Uint8Array; hash: Uint8Array } => {
      const data = new Uint8Array([i & 0xff, ...randomHash().subarray(0, 15)]);
      return { data, hash: annHash(data) };
    };
    const items = (n: number): Array<{ data: Uint8Array; hash: Uint8Array }> =>
      Array.from({ length: n }, (_, i) => item(i));
    /** let submissions finish, then run the turns they posted */
    async function settle(h: Harness): Promise<void> {
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setImmediate(r));
        await h.pump();
      }
    }

    it('greets with OLLEH and requests only the advertised hashes it lacks, in order, seq from its start time', async () => {
      const store = new ReplicationStore();
      const have = randomHash();
      store.add(have, Uint8Array.of(1));
      const h = await greeted({ role: 'outbound', store });
      expect(h.socket.messages()[0]).to.deep.equal({ type: 'OLLEH', seq: 0, version: 1 });
      const [a, b] = [randomHash(), randomHash()];
      await h.recv({ type: 'INV', seq: 0, hashes: [a, have, b] });
      expect(getData(h).map((m) => [m.seq, hex(m.hash)])).to.deep.equal([
        [T0, hex(a)],
        [T0 + 1, hex(b)],
      ]);
    });

    it('applies DATA strictly in request order, whatever order the answers come in', async () => {
      const h = await greeted({ role: 'outbound' });
      const xs = items(3);
      await h.recv({ type: 'INV', seq: 0, hashes: xs.map((x) => x.hash) });
      await h.recv({ type: 'DATA', seq: T0 + 2, data: xs[2]!.data });
      await h.recv({ type: 'DATA', seq: T0 + 1, data: xs[1]!.data });
      expect(h.submitted).to.deep.equal([]);
      await h.recv({ type: 'DATA', seq: T0, data: xs[0]!.data });
      expect(h.submitted).to.deep.equal(xs.map((x) => x.data));
      expect(h.session.info().outstandingRequests).to.equal(0);
    });

    it('submits every contiguous answer in one turn without waiting for outcomes (the pipeline)', async () => {
      const gates: Array<() => void> = [];
      const h = await greeted({
        role: 'outbound',
        submit: () => new Promise<string>((r) => gates.push(() => r('none'))),
      });
      const xs = items(100);
      await h.recv({ type: 'INV', seq: 0, hashes: xs.map((x) => x.hash) });
      const frames = xs.map((x, i) => encodePeerFrame({ type: 'DATA', seq: T0 + i, data: x.data }));
      await h.session.handle({ type: 'FramesReceived', take: () => frames });
      // one turn handed all 100 to the gossip path; none of them has an outcome yet
      expect(h.submitted).to.have.length(100);
      expect(h.session.stats()).to.include({ applying: 100, outstanding: 0 });
      gates.splice(0).forEach((open) => open());
      await settle(h);
      expect(h.session.stats().applying).to.equal(0);
    });

    it(`asks and submits at most ${PIPELINE_STEPS_PER_TURN} a turn, the rest in the turns it asks for, in order`, async () => {
      const gates: Array<() => void> = [];
      const h = await greeted({
        role: 'outbound',
        submit: () => new Promise<string>((r) => gates.push(() => r('none'))),
      });
      const n = 2 * PIPELINE_STEPS_PER_TURN + 44;
      const xs = items(n);
      await h.recv({ type: 'INV', seq: 0, hashes: xs.map((x) => x.hash) });
      expect(getData(h)).to.have.length(PIPELINE_STEPS_PER_TURN);
      expect(h.posted.map((c) => c.type)).to.include('FetchReady');
      const asked: number[] = [getData(h).length];
      while (h.posted.length > 0) {
        await h.pump();
        asked.push(getData(h).length);
      }
      expect(asked.at(-1)).to.equal(n);
      expect(
        asked.every((k, i) => i === 0 || k - asked[i - 1]! <= PIPELINE_STEPS_PER_TURN),
      ).to.equal(true);
      expect(getData(h).map((m) => hex(m.hash))).to.deep.equal(xs.map((x) => hex(x.hash)));
      const frames = xs.map((x, i) => encodePeerFrame({ type: 'DATA', seq: T0 + i, data: x.data }));
      await h.session.handle({ type: 'FramesReceived', take: () => frames });
      expect(h.submitted).to.have.length(PIPELINE_STEPS_PER_TURN);
      const submittedPerTurn: number[] = [h.submitted.length];
      while (h.posted.length > 0) {
        await h.pump();
        submittedPerTurn.push(h.submitted.length);
      }
      expect(h.submitted).to.deep.equal(xs.map((x) => x.data));
      expect(
        submittedPerTurn.every(
          (k, i) => i === 0 || k - submittedPerTurn[i - 1]! <= PIPELINE_STEPS_PER_TURN,
        ),
      ).to.equal(true);
      gates.splice(0).forEach((open) => open());
      await settle(h);
      expect(h.session.stats().applying).to.equal(0);
    });

    for (const applyWindow of [1, 3]) {
      it(`hands at most applyWindow (${applyWindow}) answers to the gossip path before their outcomes`, async () => {
        const gates: Array<() => void> = [];
        const h = await greeted({
          role: 'outbound',
          settings: { applyWindow },
          submit: () => new Promise<string>((r) => gates.push(() => r('none'))),
        });
        const xs = items(4);
        await h.recv({ type: 'INV', seq: 0, hashes: xs.map((x) => x.hash) });
        for (let i = 1; i < 4; i++) await h.recv({ type: 'DATA', seq: T0 + i, data: xs[i]!.data });
        // the head's answer arrives last: nothing before it may be applied
        expect(h.submitted).to.deep.equal([]);
        await h.recv({ type: 'DATA', seq: T0, data: xs[0]!.data });
        expect(h.submitted).to.deep.equal(xs.slice(0, applyWindow).map((x) => x.data));
        while (gates.length > 0 || h.submitted.length < 4) {
          expect(h.session.stats().applying).to.be.at.most(applyWindow);
          gates.splice(0).forEach((open) => open());
          await settle(h);
        }
        expect(h.submitted).to.deep.equal(xs.map((x) => x.data));
      });
    }

    it('asks again for a hash the route server refused as busy, and goes on (counted, not fatal)', async () => {
      let calls = 0;
      const h = await greeted({
        role: 'outbound',
        submit: async () => {
          if (calls++ === 0) throw new RsError('RS_ERR_MAILBOX_FULL', 'busy');
          return 'none';
        },
      });
      const xs = items(2);
      await h.recv({ type: 'INV', seq: 0, hashes: xs.map((x) => x.hash) });
      await h.recv({ type: 'DATA', seq: T0, data: xs[0]!.data });
      await h.recv({ type: 'DATA', seq: T0 + 1, data: xs[1]!.data });
      await settle(h);
      expect(h.session.closed).to.equal(false);
      // the refused one was requested again (not resolved for every peer), and applied
      const again = getData(h).filter((m) => hex(m.hash) === hex(xs[0]!.hash));
      expect(again).to.have.length(2);
      await h.recv({ type: 'DATA', seq: again[1]!.seq, data: xs[0]!.data });
      await settle(h);
      expect(h.submitted).to.deep.equal([xs[0]!.data, xs[1]!.data, xs[0]!.data]);
      expect(h.session.info().outstandingRequests).to.equal(0);
      expect(h.session.stats().wanted).to.equal(0);
    });

    it('gives a hash up after repeated busy refusals instead of asking forever', async () => {
      const h = await greeted({
        role: 'outbound',
        submit: async () => {
          throw new RsError('RS_ERR_VERIFY_QUEUE_FULL', 'busy');
        },
      });
      const x = item(1);
      await h.recv({ type: 'INV', seq: 0, hashes: [x.hash] });
      for (let i = 0; i < 10; i++) {
        const asks = getData(h);
        if (asks.length <= i) break;
        await h.recv({ type: 'DATA', seq: asks[i]!.seq, data: x.data });
        await settle(h);
      }
      expect(getData(h)).to.have.length(4); // the first request and 3 retries
      expect(h.session.stats()).to.include({ wanted: 0, applying: 0 });
    });

    it('drops a peer whose DATA is not the announcement requested (WrongData), before submitting it', async () => {
      const h = await greeted({ role: 'outbound' });
      const [x, y] = items(2);
      await h.recv({ type: 'INV', seq: 0, hashes: [x!.hash, y!.hash] });
      await h.recv({ type: 'DATA', seq: T0, data: y!.data }); // the bytes of another hash
      expect(h.submitted).to.deep.equal([]);
      expect(h.closed.map((c) => c.reason)).to.deep.equal(['WrongData']);
    });

    it('fetches a hash from another peer that advertised it when the first answers junk', async () => {
      const scheduler = new FetchScheduler({ maxInflight: 100, maxWantedPerPeer: 100 });
      const clock = new ManualClock(T0);
      const store = new ReplicationStore();
      const liar = await greeted({ role: 'outbound', scheduler, clock, store, id: 1 });
      const honest = await greeted({ role: 'outbound', scheduler, clock, store, id: 2 });
      const x = item(9);
      await liar.recv({ type: 'INV', seq: 0, hashes: [x.hash] });
      await honest.recv({ type: 'INV', seq: 0, hashes: [x.hash] });
      expect(getData(liar)).to.have.length(1);
      expect(getData(honest)).to.have.length(0);
      await liar.recv({ type: 'DATA', seq: T0, data: Uint8Array.of(6, 6, 6) });
      expect(liar.closed.map((c) => c.reason)).to.deep.equal(['WrongData']);
      await honest.pump(); // FetchReady from the scheduler
      const asked = getData(honest);
      expect(asked.map((m) => hex(m.hash))).to.deep.equal([hex(x.hash)]);
      await honest.recv({ type: 'DATA', seq: asked[0]!.seq, data: x.data });
      expect(honest.submitted).to.deep.equal([x.data]);
      expect(honest.closed).to.deep.equal([]);
    });

    for (const verdict of RETRY_VERDICTS)
      it(`asks again for an update that came before its node's reset (${verdict}), from another peer that advertised it, instead of losing it`, async () => {
        const scheduler = new FetchScheduler({ maxInflight: 100, maxWantedPerPeer: 100 });
        const clock = new ManualClock(T0);
        const store = new ReplicationStore();
        const applied = new Set<string>();
        // the route server: an update is refused with `verdict` until its reset (`reset`) was applied
        const [reset, update] = [item(1), item(2)];
        const submit = async (bytes: Uint8Array): Promise<string> => {
          if (hex(bytes) === hex(update.data) && !applied.has(hex(reset.data))) return verdict;
          applied.add(hex(bytes));
          return 'none';
        };
        const a = await greeted({ role: 'outbound', scheduler, clock, store, id: 1, submit });
        const b = await greeted({ role: 'outbound', scheduler, clock, store, id: 2, submit });
        // B's stream: the reset, then the update; A advertises only the update, first
        await a.recv({ type: 'INV', seq: 0, hashes: [update.hash] });
        await b.recv({ type: 'INV', seq: 0, hashes: [reset.hash, update.hash] });
        expect(getData(a).map((m) => hex(m.hash))).to.deep.equal([hex(update.hash)]);
        expect(getData(b).map((m) => hex(m.hash))).to.deep.equal([hex(reset.hash)]);
        await a.recv({ type: 'DATA', seq: getData(a)[0]!.seq, data: update.data });
        await settle(a);
        await settle(b);
        // not resolved: asked again from B, behind the reset it is already asked for
        const asked = getData(b);
        expect(asked.map((m) => hex(m.hash))).to.deep.equal(
          [reset, update].map((x) => hex(x.hash)),
        );
        await b.recv({ type: 'DATA', seq: asked[0]!.seq, data: reset.data });
        await b.recv({ type: 'DATA', seq: asked[1]!.seq, data: update.data });
        await settle(b);
        expect(b.submitted).to.deep.equal([reset.data, update.data]);
        expect(applied).to.have.keys(hex(reset.data), hex(update.data));
        expect(scheduler.size).to.equal(0);
      });

    it('skips nil answers', async () => {
      const h = await greeted({ role: 'outbound' });
      const xs = items(2);
      await h.recv({ type: 'INV', seq: 0, hashes: xs.map((x) => x.hash) });
      await h.recv({ type: 'DATA', seq: T0, data: null });
      await h.recv({ type: 'DATA', seq: T0 + 1, data: xs[1]!.data });
      expect(h.submitted).to.deep.equal([xs[1]!.data]);
    });

    it('gives up a request after requestTimeoutMs so that later answers are applied, and ignores its late answer', async () => {
      const h = await greeted({ role: 'outbound', settings: { requestTimeoutMs: 1000 } });
      const xs = items(2);
      await h.recv({ type: 'INV', seq: 0, hashes: xs.map((x) => x.hash) });
      await h.recv({ type: 'DATA', seq: T0 + 1, data: xs[1]!.data });
      expect(h.submitted).to.have.length(0);
      h.clock.set(T0 + 1000);
      await h.session.handle({ type: 'Tick' });
      expect(h.submitted).to.deep.equal([xs[1]!.data]);
      await h.recv({ type: 'DATA', seq: T0, data: xs[0]!.data });
      expect(h.session.closed).to.equal(false);
      expect(h.submitted).to.have.length(1);
    });

    it('drops the peer on DATA for a seq it never requested', async () => {
      const h = await greeted({ role: 'outbound' });
      await h.recv({ type: 'DATA', seq: T0 + 50, data: Uint8Array.of(1) });
      expect(h.closed.map((c) => c.reason)).to.deep.equal(['UnknownDataSeq']);
    });

    it('keeps at most maxOutstandingPerPeer requests and submissions in flight, and asks more as outcomes arrive', async () => {
      const h = await greeted({ role: 'outbound', settings: { maxOutstandingPerPeer: 4 } });
      const xs = items(10);
      await h.recv({ type: 'INV', seq: 0, hashes: xs.map((x) => x.hash) });
      expect(getData(h)).to.have.length(4);
      await h.recv({ type: 'DATA', seq: T0, data: xs[0]!.data });
      // answered, being applied: still in flight
      expect(getData(h)).to.have.length(4);
      await settle(h);
      expect(getData(h)).to.have.length(5);
      expect(h.session.info().outstandingRequests).to.equal(4);
    });

    it('drops the peer after maxConsecutiveTimeouts', async () => {
      const h = await greeted({
        role: 'outbound',
        settings: { requestTimeoutMs: 100, maxConsecutiveTimeouts: 3, maxOutstandingPerPeer: 2 },
      });
      await h.recv({ type: 'INV', seq: 0, hashes: Array.from({ length: 10 }, randomHash) });
      h.clock.set(T0 + 100);
      await h.session.handle({ type: 'Tick' });
      expect(h.session.closed).to.equal(false);
      h.clock.set(T0 + 200);
      await h.session.handle({ type: 'Tick' });
      expect(h.closed.map((c) => c.reason)).to.deep.equal(['RequestTimeouts']);
    });

    it('drops an INV longer than maxInvHashes', async () => {
      const h = await greeted({ role: 'outbound', settings: { maxInvHashes: 10 } });
      await h.recv({ type: 'INV', seq: 0, hashes: Array.from({ length: 11 }, randomHash) });
      expect(h.closed.map((c) => c.reason)).to.deep.equal(['InvTooLarge']);
    });

    it('never pauses reading for the want list while requests are outstanding; defers what exceeds its hard cap', async () => {
      const h = await greeted({
        role: 'outbound',
        settings: { maxWantedPerPeer: 100, maxOutstandingPerPeer: 10 },
      });
      const xs = items(300);
      await h.recv({ type: 'INV', seq: 0, hashes: xs.map((x) => x.hash) });
      // 200 queued (the hard cap) of which 10 asked, 100 deferred: reading goes on for the answers
      expect(h.socket.paused).to.equal(false);
      expect(h.session.stats()).to.include({ outstanding: 10, wanted: 190, deferred: 100 });
      expect(getData(h)).to.have.length(10);
    });

    it('pauses reading for a full want list only while nothing asked is pending', async () => {
      const scheduler = new FetchScheduler({ maxInflight: 0, maxWantedPerPeer: 100 });
      const h = await greeted({ role: 'outbound', scheduler, settings: { maxWantedPerPeer: 100 } });
      await h.recv({ type: 'INV', seq: 0, hashes: Array.from({ length: 150 }, randomHash) });
      // the global in-flight bound is spent elsewhere: nothing of ours pending, the list is full
      expect(getData(h)).to.have.length(0);
      expect(h.socket.paused).to.equal(true);
    });

    it('pauses reading over the INV rate for a moment, and resumes as the budget refills', async () => {
      const h = await greeted({
        role: 'outbound',
        settings: { invRatePerSec: 1000, invBurst: 1000 },
      });
      await h.recv({ type: 'INV', seq: 0, hashes: Array.from({ length: 1001 }, randomHash) });
      expect(h.socket.paused).to.equal(true);
      h.clock.set(T0 + 100);
      await h.session.handle({ type: 'Tick' });
      expect(h.socket.paused).to.equal(false);
    });

    it('reads the inventory again (Resync) once what fit the want list is done, and the sync goes on', async () => {
      const sync = new InitialSync('ws://peer/cjdnsnode_websocket');
      const h = await greeted({
        role: 'outbound',
        sync,
        settings: { maxWantedPerPeer: 16, maxOutstandingPerPeer: 8, syncQuietMs: 100 },
      });
      const xs = items(40);
      await h.recv({ type: 'INV', seq: 0, hashes: xs.map((x) => x.hash) });
      expect(h.session.stats().deferred).to.equal(8);
      // answer everything asked until nothing is wanted
      for (let round = 0; round < 10 && !h.session.closed; round++) {
        for (const m of getData(h)) {
          const x = xs.find((y) => hex(y.hash) === hex(m.hash))!;
          if (h.submitted.some((d) => d === x.data)) continue;
          await h.recv({ type: 'DATA', seq: m.seq, data: x.data });
        }
        await settle(h);
      }
      expect(h.submitted).to.have.length(32);
      h.clock.set(T0 + 200);
      await h.session.handle({ type: 'Tick' });
      expect(h.closed.map((c) => c.reason)).to.deep.equal(['Resync']);
      expect(h.closed[0]!.syncFailed).to.equal(false);
      expect(h.socket.closeCode).to.equal(1000);
      expect(sync.state).to.equal('waiting');
      expect(sync.startable).to.equal(true);
      expect(sync.settled).to.equal(false);
    });

    it('pings after pingAfterMs of silence and drops after dropAfterMs (Idle)', async () => {
      const h = await greeted({
        role: 'outbound',
        settings: { pingCycleMs: 1000, pingAfterMs: 2000, dropAfterMs: 5000 },
      });
      h.socket.complete();
      await h.pump();
      for (let t = 1000; t <= 5000; t += 1000) {
        h.clock.set(T0 + t);
        h.socket.complete();
        await h.session.handle({ type: 'Tick' });
      }
      expect(h.socket.messages().filter((m) => m.type === 'PING').length).to.equal(3); // at 3, 4 and 5 s (lag > 2 s, not yet > 5 s)
      h.clock.set(T0 + 6000);
      await h.session.handle({ type: 'Tick' });
      expect(h.closed.map((c) => c.reason)).to.deep.equal(['Idle']);
    });

    it('shares work through the scheduler: two peers advertising the same hash cause one request, the other takes over on timeout', async () => {
      const scheduler = new FetchScheduler({ maxInflight: 100, maxWantedPerPeer: 100 });
      const clock = new ManualClock(T0);
      const store = new ReplicationStore();
      const settings = { requestTimeoutMs: 1000 };
      const p1 = await greeted({ role: 'outbound', scheduler, clock, store, settings, id: 1 });
      const p2 = await greeted({ role: 'outbound', scheduler, clock, store, settings, id: 2 });
      const x = randomHash();
      await p1.recv({ type: 'INV', seq: 0, hashes: [x] });
      await p2.recv({ type: 'INV', seq: 0, hashes: [x] });
      expect(getData(p1)).to.have.length(1);
      expect(getData(p2)).to.have.length(0);
      clock.set(T0 + 1000);
      await p1.session.handle({ type: 'Tick' });
      await p2.pump(); // FetchReady
      expect(getData(p2).map((m) => hex(m.hash))).to.deep.equal([hex(x)]);
    });

    it('tracks the initial sync and settles it once nothing is pending and the INVs stopped', async () => {
      const sync = new InitialSync('ws://peer/cjdnsnode_websocket');
      const store = new ReplicationStore();
      const present = randomHash();
      store.add(present, Uint8Array.of(1));
      const h = await greeted({ role: 'outbound', store, sync, settings: { syncQuietMs: 500 } });
      expect(sync.state).to.equal('syncing');
      const xs = items(2);
      await h.recv({ type: 'INV', seq: 0, hashes: [present, xs[0]!.hash, xs[1]!.hash] });
      await h.recv({ type: 'DATA', seq: T0, data: xs[0]!.data });
      await settle(h);
      expect(sync.snapshot()).to.include({
        advertised: 3,
        present: 1,
        needed: 2,
        fetched: 1,
        failed: 0,
        progress: 0.5,
      });
      await h.recv({ type: 'DATA', seq: T0 + 1, data: null });
      h.clock.set(T0 + 400);
      await h.session.handle({ type: 'Tick' });
      expect(sync.state).to.equal('syncing');
      h.clock.set(T0 + 600);
      await h.session.handle({ type: 'Tick' });
      expect(sync.snapshot()).to.include({ state: 'done', fetched: 1, failed: 1, progress: 1 });
    });

    it('does not settle the sync while a submission is still being applied', async () => {
      const sync = new InitialSync('ws://peer/cjdnsnode_websocket');
      const gates: Array<() => void> = [];
      const h = await greeted({
        role: 'outbound',
        sync,
        settings: { syncQuietMs: 100 },
        submit: () => new Promise<string>((r) => gates.push(() => r('none'))),
      });
      const x = item(3);
      await h.recv({ type: 'INV', seq: 0, hashes: [x.hash] });
      await h.recv({ type: 'DATA', seq: T0, data: x.data });
      h.clock.set(T0 + 500);
      await h.session.handle({ type: 'Tick' });
      expect(sync.state).to.equal('syncing');
      gates.splice(0).forEach((open) => open());
      await settle(h);
      await h.session.handle({ type: 'Tick' });
      expect(sync.snapshot()).to.include({ state: 'done', fetched: 1 });
    });

    it('fails the initial sync when the session ends first; the failure is not settled and the next session retries', async () => {
      const sync = new InitialSync('ws://peer/cjdnsnode_websocket');
      const h = await greeted({ role: 'outbound', sync });
      await h.session.handle({ type: 'SocketClosed', code: 1006 });
      expect(sync.state).to.equal('failed');
      expect(sync.settled).to.equal(false);
      expect(sync.describe()).to.match(/^failed, retrying on the next connection: .*RemoteClosed/);
      expect(h.closed[0]).to.include({ reason: 'RemoteClosed', syncFailed: true });
      const again = await greeted({ role: 'outbound', sync });
      expect(again.session.closed).to.equal(false);
      expect(sync.snapshot()).to.include({ state: 'syncing', attempts: 2 });
    });
  });
});
