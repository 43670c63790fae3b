import { expect } from 'chai';
import fc from 'fast-check';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import {
  FetchScheduler,
  hashOfWantKey,
  wantKeyOf as k,
} from '../../../src/replication/fetch-scheduler.ts';
import { randomHash } from './fixtures.ts';

const hex = (h: Uint8Array | string): string =>
  bytesToHex(typeof h === 'string' ? hashOfWantKey(h) : h);

function scheduler(
  maxInflight = 100,
  maxWantedPerPeer = 100,
): { s: FetchScheduler; wakes: number[] } {
  const s = new FetchScheduler({ maxInflight, maxWantedPerPeer, maxAlternates: 2 });
  const wakes: number[] = [];
  for (const id of [1, 2, 3]) s.addPeer(id, () => wakes.push(id));
  return { s, wakes };
}

describe('fetch-scheduler', () => {
  describe('#retry()', () => {
    it("puts a hash whose apply was refused for a passing reason back in its owner's want list", () => {
      const { s, wakes } = scheduler();
      const a = randomHash();
      s.offer(1, a);
      s.offer(2, a);
      expect(s.take(1, 10).map(hex)).to.deep.equal([hex(a)]);
      s.release(1);
      expect(s.retry(k(a))).to.equal(true);
      expect(wakes).to.include(1);
      expect(s.wanted(1)).to.equal(1);
      expect(s.take(1, 10).map(hex)).to.deep.equal([hex(a)]);
      expect(s.size).to.equal(1); // still tracked: the other peer remains an alternate
    });

    it('hands the hash to an alternate when its owner is gone, and gives up after maxRetries', () => {
      const s = new FetchScheduler({ maxInflight: 100, maxWantedPerPeer: 100, maxRetries: 2 });
      s.addPeer(1, () => undefined);
      s.addPeer(2, () => undefined);
      const a = randomHash();
      s.offer(1, a);
      s.offer(2, a);
      s.take(1, 1);
      s.removePeer(1); // the owner left while its answer was being applied: reassigned
      expect(s.take(2, 1).map(hex)).to.deep.equal([hex(a)]);
      expect(s.retry(k(a))).to.equal(true);
      s.take(2, 1);
      expect(s.retry(k(a))).to.equal(true);
      s.take(2, 1);
      expect(s.retry(k(a))).to.equal(false);
      expect(s.size).to.equal(0);
    });

    it('asks an alternate first when told to, behind what that peer already wants, and keeps the owner as an alternate', () => {
      const { s, wakes } = scheduler();
      const [a, b] = [randomHash(), randomHash()];
      s.offer(1, a);
      s.offer(2, b); // peer 2 wants b first (in its stream: a reset ahead of an update)
      s.offer(2, a);
      expect(s.take(1, 10).map(hex)).to.deep.equal([hex(a)]);
      s.release(1);
      expect(s.retry(k(a), true)).to.equal(true);
      expect(wakes).to.include(2);
      expect(s.wanted(1)).to.equal(0);
      expect(s.take(2, 10).map(hex)).to.deep.equal([b, a].map(hex));
      s.release(2);
      // the first owner is an alternate now: asked next
      expect(s.retry(k(a), true)).to.equal(true);
      expect(s.take(1, 10).map(hex)).to.deep.equal([hex(a)]);
    });

    it('holds an update refused more than maxRetries times (before its reset) until nothing else is wanted or in flight, asks for it again then, and gives it up after two such passes', () => {
      const s = new FetchScheduler({ maxInflight: 100, maxWantedPerPeer: 100, maxRetries: 1 });
      const wakes: number[] = [];
      for (const id of [1, 2]) s.addPeer(id, () => wakes.push(id));
      const [update, reset] = [randomHash(), randomHash()];
      s.offer(1, update);
      s.offer(2, reset); // the reset, in another peer's stream, not applied yet
      s.take(1, 1);
      expect(s.retry(k(update), true)).to.equal(true); // retry 1: asked again (from its owner)
      expect(s.take(1, 1).map(hex)).to.deep.equal([hex(update)]);
      // retry 2 > maxRetries: held, neither wanted nor in flight, while the reset is still wanted
      expect(s.retry(k(update), true)).to.equal(true);
      expect([s.wanted(1), s.size, s.released]).to.deep.equal([0, 2, 0]);
      expect(s.take(1, 10)).to.deep.equal([]);
      // the reset is applied: nothing but the held update is left, so it is asked for again
      s.take(2, 1);
      wakes.length = 0;
      s.resolved(k(reset));
      expect([s.released, s.wanted(1)]).to.deep.equal([1, 1]);
      expect(wakes).to.deep.equal([1]);
      expect(s.take(1, 1).map(hex)).to.deep.equal([hex(update)]);
      // refused again: held once more (the second pass), released at once (nothing else left)
      expect(s.retry(k(update), true)).to.equal(true);
      expect(s.released).to.equal(2);
      expect(s.take(1, 1).map(hex)).to.deep.equal([hex(update)]);
      // and after the second pass it is given up
      expect(s.retry(k(update), true)).to.equal(false);
      expect(s.size).to.equal(0);
    });

    it('gives a refused hash up after maxRetries when not told it came before its reset (no holding)', () => {
      const s = new FetchScheduler({ maxInflight: 100, maxWantedPerPeer: 100, maxRetries: 1 });
      s.addPeer(1, () => undefined);
      const [a, b] = [randomHash(), randomHash()];
      s.offer(1, a);
      s.offer(1, b);
      s.take(1, 1);
      expect(s.retry(k(a))).to.equal(true);
      s.take(1, 2);
      expect(s.retry(k(a))).to.equal(false);
      expect(s.size).to.equal(1);
    });

    it('keeps its list of held hashes bounded by the live ones when they are resolved another way and no release comes', () => {
      const s = new FetchScheduler({
        maxInflight: 10_000,
        maxWantedPerPeer: 10_000,
        maxRetries: 0,
      });
      s.addPeer(1, () => undefined);
      s.offer(1, randomHash()); // always wanted: nothing is ever released
      for (let i = 0; i < 5000; i++) {
        const h = randomHash();
        s.offer(1, h);
        s.take(1, 10_000);
        expect(s.retry(k(h), true)).to.equal(true); // held at once (maxRetries 0)
        s.resolved(k(h)); // stored another way
      }
      expect(s.size).to.equal(1);
      expect(s.heldLength).to.be.at.most(1025);
    });

    it('hands a held hash whose owner left to an alternate when it is released', () => {
      const s = new FetchScheduler({
        maxInflight: 100,
        maxWantedPerPeer: 100,
        maxRetries: 1,
        maxAlternates: 2,
      });
      for (const id of [1, 2]) s.addPeer(id, () => undefined);
      const [update, other] = [randomHash(), randomHash()];
      s.offer(1, update);
      s.offer(2, update);
      s.offer(2, other);
      s.take(1, 1);
      // refused: asked from the alternate (peer 2), the owner kept as an alternate...
      expect(s.retry(k(update), true)).to.equal(true);
      expect(s.take(2, 10).map(hex)).to.deep.equal([other, update].map(hex));
      // ...refused again beyond maxRetries: held; its owner (peer 2) leaves meanwhile
      expect(s.retry(k(update), true)).to.equal(true);
      s.removePeer(2); // `other` is forgotten (no alternate); only the held update is left
      expect(s.released).to.equal(1);
      expect(s.take(1, 1).map(hex)).to.deep.equal([hex(update)]);
    });

    it('asks the owner again when told to prefer an alternate but none is left', () => {
      const { s } = scheduler();
      const a = randomHash();
      s.offer(1, a);
      s.take(1, 1);
      expect(s.retry(k(a), true)).to.equal(true);
      expect(s.take(1, 1).map(hex)).to.deep.equal([hex(a)]);
    });

    it('leaves a held hash where it is when a request of it is said to have timed out (none is out)', () => {
      const s = new FetchScheduler({ maxInflight: 10, maxWantedPerPeer: 10, maxRetries: 0 });
      for (const id of [1, 2]) s.addPeer(id, () => undefined);
      const [a, b] = [randomHash(), randomHash()];
      s.offer(1, a);
      s.offer(2, a);
      s.offer(1, b); // still wanted: the held hash is not let go at once
      expect(s.take(1, 1).map(hex)).to.deep.equal([hex(a)]);
      s.release(1);
      expect(s.retry(k(a), true)).to.equal(true); // held
      expect(s.expired(1, k(a))).to.equal(true);
      expect(s.wanted(2)).to.equal(0); // not handed to the alternate meanwhile
      s.resolved(k(b)); // nothing else left: the held hash is asked for again, once
      expect(s.wanted(1)).to.equal(1);
      expect(s.take(1, 10).map(hex)).to.deep.equal([hex(a)]);
      expect(s.wanted(1) + s.wanted(2)).to.equal(0);
    });
  });

  describe('#offer() / #take()', () => {
    it('hands each missing hash to the first peer that advertised it, oldest first', () => {
      const { s } = scheduler();
      const [a, b] = [randomHash(), randomHash()];
      expect(s.offer(1, a)).to.equal('queued');
      expect(s.offer(1, b)).to.equal('queued');
      expect(s.offer(2, a)).to.equal('duplicate');
      expect(s.offer(1, a)).to.equal('duplicate');
      expect(s.take(2, 10)).to.deep.equal([]);
      expect(s.take(1, 10).map(hex)).to.deep.equal([a, b].map(hex));
      expect(s.inflight).to.equal(2);
      expect(s.wanted(1)).to.equal(0);
    });

    it('respects the global in-flight limit and wakes waiting peers when a slot frees', () => {
      const { s, wakes } = scheduler(2);
      for (let i = 0; i < 3; i++) s.offer(1, randomHash());
      s.offer(2, randomHash());
      expect(s.take(1, 10)).to.have.length(2);
      expect(s.take(2, 10)).to.have.length(0);
      s.release(1);
      expect(wakes.sort()).to.deep.equal([1, 2]);
      expect(s.take(2, 10)).to.have.length(1);
    });

    it('discards hashes beyond twice maxWantedPerPeer', () => {
      const s = new FetchScheduler({ maxInflight: 10, maxWantedPerPeer: 16 });
      s.addPeer(1, () => {});
      const results = Array.from({ length: 40 }, () => s.offer(1, randomHash()));
      expect(results.filter((r) => r === 'queued')).to.have.length(32);
      expect(s.discarded).to.equal(8);
    });
  });

  describe('#expired() / #removePeer()', () => {
    it('hands a timed-out hash to an alternate peer and wakes it', () => {
      const { s, wakes } = scheduler();
      const a = randomHash();
      s.offer(1, a);
      s.offer(2, a);
      s.take(1, 10);
      s.release(1);
      expect(s.expired(1, k(a))).to.equal(true);
      expect(wakes).to.deep.equal([2]);
      expect(s.take(2, 10).map(hex)).to.deep.equal([hex(a)]);
      expect(s.reassigned).to.equal(1);
    });

    it('forgets a timed-out hash nobody else advertised', () => {
      const { s } = scheduler();
      const a = randomHash();
      s.offer(1, a);
      s.take(1, 1);
      expect(s.expired(1, k(a))).to.equal(false);
      expect(s.size).to.equal(0);
      expect(s.offer(1, a)).to.equal('queued');
    });

    it("moves a disconnected peer's wanted and in-flight hashes to alternates", () => {
      const { s } = scheduler();
      const [a, b, c] = [randomHash(), randomHash(), randomHash()];
      for (const h of [a, b, c]) s.offer(1, h);
      s.offer(3, a);
      s.offer(3, c);
      s.take(1, 1); // a in flight
      s.release(1);
      s.removePeer(1);
      expect(s.take(3, 10).map(hex).sort()).to.deep.equal([a, c].map(hex).sort());
      expect(s.size).to.equal(2);
    });
  });

  describe('#resolved()', () => {
    it('forgets a hash accepted from elsewhere, and take() skips its stale queue slot', () => {
      const { s } = scheduler();
      const [a, b] = [randomHash(), randomHash()];
      s.offer(1, a);
      s.offer(1, b);
      s.resolved(k(a));
      expect(s.wanted(1)).to.equal(1);
      expect(s.take(1, 10).map(hex)).to.deep.equal([hex(b)]);
    });
  });

  describe('bounds (property)', () => {
    it('never tracks more than the hard caps plus what is in flight, whatever the operations', () => {
      const op = fc.oneof(
        fc.record({
          k: fc.constant('offer' as const),
          peer: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 0, max: 60 }),
        }),
        fc.record({
          k: fc.constant('take' as const),
          peer: fc.integer({ min: 1, max: 3 }),
          n: fc.integer({ min: 0, max: 5 }),
        }),
        fc.record({ k: fc.constant('resolve' as const), h: fc.integer({ min: 0, max: 60 }) }),
        fc.record({
          k: fc.constant('expire' as const),
          peer: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 0, max: 60 }),
        }),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
          const s = new FetchScheduler({ maxInflight: 8, maxWantedPerPeer: 8 });
          for (const id of [1, 2, 3]) s.addPeer(id, () => {});
          const hash = (i: number): Uint8Array => new Uint8Array(64).fill(i);
          const inflight = new Map<number, string[]>([
            [1, []],
            [2, []],
            [3, []],
          ]);
          for (const o of ops) {
            if (o.k === 'offer') s.offer(o.peer, hash(o.h));
            else if (o.k === 'take') inflight.get(o.peer)!.push(...s.take(o.peer, o.n));
            else if (o.k === 'resolve') s.resolved(k(hash(o.h)));
            else {
              const list = inflight.get(o.peer)!;
              const i = list.findIndex((x) => x.charCodeAt(0) === o.h);
              if (i >= 0) {
                list.splice(i, 1);
                s.release(1);
                s.expired(o.peer, k(hash(o.h)));
              }
            }
            expect(s.inflight).to.be.at.most(8);
            for (const id of [1, 2, 3]) expect(s.wanted(id)).to.be.within(0, 16);
            expect(s.size).to.be.at.most(3 * 16 + 8);
          }
        }),
        { numRuns: 200 },
      );
    });
  });
});
