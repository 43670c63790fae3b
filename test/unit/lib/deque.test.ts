import { expect } from 'chai';
import fc from 'fast-check';
import { Deque } from '../../../src/lib/deque.ts';

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
