import { expect } from 'chai';
import { withLength } from '../../../src/lib/typed-arrays.ts';

describe('typed-arrays', () => {
  describe('withLength()', () => {
    it('copies the contents into a new array of the same type and length, the rest zero or `fill`', () => {
      const a = Int32Array.of(5, -6, 7);
      const b = withLength(a, 5);
      expect(b).to.be.instanceOf(Int32Array);
      expect([...b]).to.deep.equal([5, -6, 7, 0, 0]);
      expect([...withLength(a, 5, -1)]).to.deep.equal([5, -6, 7, -1, -1]);
      const f = withLength(Float64Array.of(0.5), 2);
      expect(f).to.be.instanceOf(Float64Array);
      expect([...f]).to.deep.equal([0.5, 0]);
      b[0] = 9;
      expect(a[0]).to.equal(5); // a copy, not a view
    });
  });
});
