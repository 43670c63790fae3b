import { expect } from 'chai';
import { backoffDelayMs } from '../../../src/lib/backoff.ts';

describe('backoff', () => {
  describe('#backoffDelayMs()', () => {
    const fixed = { baseMs: 1000, maxMs: 30_000, jitter: { spread: 0 } };

    it('doubles per attempt from the base up to the cap', () => {
      expect(
        [0, 1, 2, 3, 4, 5, 6, 1000].map((a) => backoffDelayMs(fixed, a, Math.random)),
      ).to.deep.equal([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
      expect(backoffDelayMs(fixed, -3, Math.random)).to.equal(1000);
    });

    it('spreads a delay within ±spread, never past the cap, at least 1 ms', () => {
      const b = { baseMs: 1000, maxMs: 30_000, jitter: { spread: 0.2 } };
      expect(backoffDelayMs(b, 0, () => 0)).to.equal(800);
      expect(backoffDelayMs(b, 0, () => 0.999999)).to.equal(1200);
      expect(backoffDelayMs(b, 10, () => 0.999999)).to.equal(30_000);
      expect(backoffDelayMs({ baseMs: 1, maxMs: 10, jitter: { spread: 1 } }, 0, () => 0)).to.equal(
        1,
      );
    });

    it('keeps half of the delay fixed with equal jitter', () => {
      const b = { baseMs: 10, maxMs: 40, jitter: 'equal' } as const;
      expect([0, 1, 2, 3].map((a) => backoffDelayMs(b, a, () => 0))).to.deep.equal([5, 10, 20, 20]);
      expect([0, 1, 2, 3].map((a) => backoffDelayMs(b, a, () => 0.999999))).to.deep.equal([
        10, 20, 40, 40,
      ]);
    });
  });
});
