import { expect } from 'chai';
import { TokenBucket } from '../../../src/lib/token-bucket.ts';

describe('TokenBucket', () => {
  it('allows a burst, goes into debt, and refills at the rate', () => {
    const b = new TokenBucket(100, 50, 0);
    b.take(80, 0);
    expect(b.available(0)).to.equal(-30);
    expect(b.available(300)).to.equal(0);
    expect(b.available(10_000)).to.equal(50);
  });
});
