import { expect } from 'chai';
import fc from 'fast-check';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import {
  FetchScheduler,
  hashOfWantKey,
  wantKeyMatches,
  wantKeyOf,
} from '../../../src/replication/fetch-scheduler.ts';
import { ReferenceFetchScheduler } from '../../helpers/reference-fetch-scheduler.ts';

/** A hash of the test's small pool: 64 bytes, `i` in the first and `i * 7` in the last. */
function hashOf(i: number): Uint8Array {
  const h = new Uint8Array(64).fill(0xa5);
  h[0] = i;
  h[63] = (i * 7) & 0xff;
  return h;
}

const peerId = fc.integer({ min: 1, max: 4 });
const hashIndex = fc.integer({ min: 0, max: 7 });
const op = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ k: fc.constant('offer' as const), peer: peerId, h: hashIndex }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('take' as const),
      peer: peerId,
      n: fc.integer({ min: 0, max: 6 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('release' as const), n: fc.integer({ min: 0, max: 3 }) }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('resolved' as const), h: hashIndex }) },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('retry' as const), h: hashIndex, prefer: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('expired' as const), peer: peerId, h: hashIndex }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('removePeer' as const), peer: peerId }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('addPeer' as const), peer: peerId }) },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

type Scheduler = FetchScheduler | ReferenceFetchScheduler;

/** Run one operation; what it returned, as comparable data. */
function run(s: Scheduler, o: Op, wakes: number[]): unknown {
  switch (o.k) {
    case 'offer':
      return s.offer(o.peer, hashOf(o.h));
    case 'take':
      return s instanceof FetchScheduler
        ? s.take(o.peer, o.n).map((key) => bytesToHex(hashOfWantKey(key)))
        : s.take(o.peer, o.n).map((h) => bytesToHex(h));
    case 'release':
      s.release(o.n);
      return undefined;
    case 'resolved':
      if (s instanceof FetchScheduler) s.resolved(wantKeyOf(hashOf(o.h)));
      else s.resolved(hashOf(o.h));
      return undefined;
    case 'retry':
      return s instanceof FetchScheduler
        ? s.retry(wantKeyOf(hashOf(o.h)), o.prefer)
        : s.retry(hashOf(o.h), o.prefer);
    case 'expired':
      return s instanceof FetchScheduler
        ? s.expired(o.peer, wantKeyOf(hashOf(o.h)))
        : s.expired(o.peer, hashOf(o.h));
    case 'removePeer':
      s.removePeer(o.peer);
      return undefined;
    case 'addPeer':
      s.addPeer(o.peer, () => wakes.push(o.peer));
      return undefined;
  }
}

function observe(s: Scheduler): Record<string, unknown> {
  const peers = [1, 2, 3, 4];
  return {
    wanted: peers.map((p) => s.wanted(p)),
    queues: peers.map((p) => s.queueLength(p)),
    inflight: s.inflight,
    size: s.size,
    held: s.heldLength,
    discarded: s.discarded,
    reassigned: s.reassigned,
    released: s.released,
  };
}

describe('fetch-scheduler against its reference model (one object per hash)', () => {
  it('answers every call as the model does, and wakes the same peers, whatever the sequence', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 100, maxLength: 400, size: 'max' }), (ops) => {
        const limits = { maxInflight: 6, maxWantedPerPeer: 4, maxAlternates: 2, maxRetries: 2 };
        const s = new FetchScheduler(limits);
        const m = new ReferenceFetchScheduler(limits);
        const [ws, wm]: [number[], number[]] = [[], []];
        for (const p of [1, 2, 3]) {
          s.addPeer(p, () => ws.push(p));
          m.addPeer(p, () => wm.push(p));
        }
        ops.forEach((o, i) => {
          const at = `op ${i} ${JSON.stringify(o)}`;
          expect(run(s, o, ws), at).to.deep.equal(run(m, o, wm));
          expect(observe(s), at).to.deep.equal(observe(m));
          expect(ws, at).to.deep.equal(wm);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps no reference to the bytes it was offered', () => {
    const s = new FetchScheduler({ maxInflight: 10, maxWantedPerPeer: 10 });
    s.addPeer(1, () => undefined);
    const h = hashOf(9);
    s.offer(1, h);
    h.fill(0); // the INV's buffer, reused
    const [taken] = s.take(1, 1);
    expect(bytesToHex(hashOfWantKey(taken!))).to.equal(bytesToHex(hashOf(9)));
    expect(wantKeyMatches(taken!, hashOf(9))).to.equal(true);
    expect(wantKeyMatches(taken!, h)).to.equal(false);
    expect(wantKeyMatches(taken!, hashOf(9).subarray(1))).to.equal(false);
  });

  it('reuses the slots of resolved hashes, and gives its memory back once nothing is missing', () => {
    const s = new FetchScheduler({ maxInflight: 100_000, maxWantedPerPeer: 100_000 });
    s.addPeer(1, () => undefined);
    const initial = s.slotCapacity;
    const big = (i: number): Uint8Array => {
      const h = new Uint8Array(64);
      new DataView(h.buffer).setUint32(0, i);
      return h;
    };
    for (let i = 0; i < 5000; i++) s.offer(1, big(i));
    expect(s.slotCapacity).to.be.at.least(5000);
    const grown = s.slotCapacity;
    // a steady stream: as many resolved as offered keeps the arrays where they are
    for (let i = 5000; i < 20_000; i++) {
      s.resolved(wantKeyOf(big(i - 5000)));
      s.offer(1, big(i));
    }
    expect(s.slotCapacity).to.equal(grown);
    expect(s.size).to.equal(5000);
    for (let i = 15_000; i < 20_000; i++) s.resolved(wantKeyOf(big(i)));
    expect(s.size).to.equal(0);
    expect(s.slotCapacity).to.equal(initial);
    expect(s.take(1, 10)).to.deep.equal([]); // only stale keys were left in the queue
  });
});
