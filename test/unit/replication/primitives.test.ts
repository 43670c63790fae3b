import { expect } from 'chai';
import fc from 'fast-check';
import { Deque } from '../../../src/lib/deque.ts';
import { InitialSync } from '../../../src/replication/initial-sync.ts';
import { PeerSendQueue, type PeerSocket } from '../../../src/replication/peer-send-queue.ts';
import { TokenBucket } from '../../../src/lib/token-bucket.ts';

describe('replication primitives', () => {
  describe('Deque', () => {
    it('behaves as a FIFO array under any push/shift sequence', () => {
      fc.assert(
        fc.property(
          fc.array(fc.oneof(fc.integer(), fc.constant(null)), { maxLength: 500 }),
          (ops) => {
            const d = new Deque<number>(4);
            const model: number[] = [];
            for (const o of ops) {
              if (o === null) expect(d.shift()).to.equal(model.shift());
              else {
                d.push(o);
                model.push(o);
              }
              expect(d.length).to.equal(model.length);
              expect(d.peek()).to.equal(model[0]);
            }
            expect([...d]).to.deep.equal(model);
            d.filter((x) => x % 2 === 0);
            expect([...d]).to.deep.equal(model.filter((x) => x % 2 === 0));
          },
        ),
      );
    });
  });

  describe('TokenBucket', () => {
    it('allows a burst, goes into debt, and refills at the rate', () => {
      const b = new TokenBucket(100, 50, 0);
      b.take(80, 0);
      expect(b.available(0)).to.equal(-30);
      expect(b.available(300)).to.equal(0);
      expect(b.available(10_000)).to.equal(50);
    });
  });

  describe('PeerSendQueue', () => {
    function socket(): PeerSocket & {
      sent: number;
      cbs: Array<() => void>;
      bufferedAmount: number;
    } {
      return {
        bufferedAmount: 0,
        sent: 0,
        cbs: [],
        send(_d, cb) {
          this.sent++;
          this.cbs.push(() => cb());
        },
        pause() {},
        resume() {},
        close() {},
        terminate() {},
      };
    }

    it('refuses frames beyond its frame and byte limits', () => {
      const q = new PeerSendQueue(
        socket(),
        { maxFrames: 3, maxBytes: 10, highWaterBytes: 0 },
        () => {},
      );
      expect(q.enqueue(new Uint8Array(4))).to.equal(true);
      expect(q.enqueue(new Uint8Array(4))).to.equal(true);
      expect(q.enqueue(new Uint8Array(4))).to.equal(false); // 12 bytes
      expect(q.enqueue(new Uint8Array(2))).to.equal(true);
      expect(q.enqueue(new Uint8Array(0))).to.equal(false); // 4 frames
      expect([q.length, q.bytes]).to.deep.equal([3, 10]);
    });

    it('hands frames over only under the high-water mark, one completion callback per batch', () => {
      const s = socket();
      const drained: number[] = [];
      const q = new PeerSendQueue(s, { maxFrames: 100, maxBytes: 1000, highWaterBytes: 10 }, (n) =>
        drained.push(n),
      );
      for (let i = 0; i < 5; i++) q.enqueue(new Uint8Array(1));
      q.flush(0);
      expect([s.sent, q.length, q.onWire, s.cbs.length]).to.deep.equal([5, 0, 5, 5]);
      s.bufferedAmount = 10;
      q.enqueue(new Uint8Array(1));
      q.flush(1);
      expect(q.length).to.equal(1);
      for (const cb of s.cbs) cb();
      expect(drained).to.deep.equal([5]);
    });

    it('reports a stall while frames stay unconfirmed', () => {
      const s = socket();
      const q = new PeerSendQueue(
        s,
        { maxFrames: 100, maxBytes: 1000, highWaterBytes: 10 },
        () => {},
      );
      expect(q.stalledFor(100)).to.equal(0);
      q.enqueue(new Uint8Array(1));
      q.flush(100);
      expect(q.stalledFor(350)).to.equal(250);
      q.drained(1, 400);
      expect(q.stalledFor(1000)).to.equal(0);
    });
  });

  describe('InitialSync', () => {
    it('moves waiting → syncing → done once, and describes itself for /readyz', () => {
      const s = new InitialSync('ws://x/cjdnsnode_websocket');
      expect(s.describe()).to.equal('waiting for the first connection');
      s.start(10);
      s.advertised = 10;
      s.present = 2;
      s.needed = 8;
      s.fetched = 2;
      expect(s.describe()).to.equal('syncing 25% (2/8 fetched, 10 advertised, 2 present)');
      expect(s.finish('done', 20)).to.equal(true);
      expect(s.finish('failed', 30)).to.equal(false);
      expect(s.snapshot()).to.include({ state: 'done', settledAt: 20, startedAt: 10 });
      expect(s.settled).to.equal(true);
    });
  });
});
