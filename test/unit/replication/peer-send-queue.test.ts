import { expect } from 'chai';
import { PeerSendQueue, type PeerSocket } from '../../../src/replication/peer-send-queue.ts';

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
