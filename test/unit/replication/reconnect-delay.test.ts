import { expect } from 'chai';
import { reconnectDelayMs } from '../../../src/replication/reconnect-delay.ts';

const s = {
  reconnectBaseMs: 1000,
  reconnectErrorBaseMs: 10_000,
  reconnectMaxMs: 60_000,
  reconnectJitter: 0,
};

describe('reconnect-delay', () => {
  describe('#reconnectDelayMs()', () => {
    it('waits 1 s after a stable session and 10 s after a first failed dial, as the original', () => {
      expect(reconnectDelayMs(s, 'closed', 0, Math.random)).to.equal(1000);
      expect(reconnectDelayMs(s, 'closed', 1, Math.random)).to.equal(1000);
      expect(reconnectDelayMs(s, 'error', 1, Math.random)).to.equal(10_000);
    });

    it('doubles per consecutive failure up to the maximum', () => {
      expect(
        [1, 2, 3, 4, 5, 6, 7, 50].map((f) => reconnectDelayMs(s, 'closed', f, Math.random)),
      ).to.deep.equal([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
      expect([1, 2, 3, 4].map((f) => reconnectDelayMs(s, 'error', f, Math.random))).to.deep.equal([
        10_000, 20_000, 40_000, 60_000,
      ]);
    });

    it('spreads each delay by ±jitter and never beyond the maximum', () => {
      const j = { ...s, reconnectJitter: 0.2 };
      expect(reconnectDelayMs(j, 'closed', 1, () => 0)).to.equal(800);
      expect(reconnectDelayMs(j, 'closed', 1, () => 0.999999)).to.equal(1200);
      expect(reconnectDelayMs(j, 'closed', 20, () => 0.999999)).to.equal(60_000);
      for (let i = 0; i < 100; i++)
        expect(reconnectDelayMs(j, 'error', 2, Math.random)).to.be.within(16_000, 24_000);
    });
  });
});
