import { expect } from 'chai';
import fc from 'fast-check';
import { IntBlocks } from '../../../src/lib/int-blocks.ts';

describe('int-blocks', () => {
  it('refuses size classes that are not ascending and positive', () => {
    expect(() => new IntBlocks([])).to.throw(RangeError);
    expect(() => new IntBlocks([4, 4])).to.throw(RangeError);
    expect(() => new IntBlocks([0, 4])).to.throw(RangeError);
  });

  it('sizes classes as given, then doubling the last one', () => {
    const b = new IntBlocks([3, 6, 12]);
    expect([0, 1, 2, 3, 4].map((c) => b.capacityOf(c))).to.deep.equal([3, 6, 12, 24, 48]);
    expect(b.classFor(1)).to.equal(0);
    expect(b.classFor(7)).to.equal(2);
    expect(b.classFor(25)).to.equal(4);
  });

  it('reuses a freed block of the same class and grows the array when out of room', () => {
    const b = new IntBlocks([4], 8);
    const x = b.alloc(0);
    const y = b.alloc(0);
    b.free(x, 0);
    expect(b.alloc(0)).to.equal(x);
    const z = b.alloc(0); // past the initial 8 ints
    expect(b.data.length).to.be.at.least(12);
    expect(new Set([x, y, z]).size).to.equal(3);
    expect(b.live).to.equal(12);
  });

  it('keeps every live block intact through allocations, moves and frees (model)', () => {
    type Op =
      | { kind: 'alloc'; n: number }
      | { kind: 'grow'; i: number; n: number }
      | { kind: 'free'; i: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const), n: fc.integer({ min: 1, max: 40 }) }),
      fc.record({
        kind: fc.constant('grow' as const),
        i: fc.nat(),
        n: fc.integer({ min: 1, max: 80 }),
      }),
      fc.record({ kind: fc.constant('free' as const), i: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops: Op[]) => {
        const b = new IntBlocks([2, 5, 9], 4);
        const live: { off: number; cls: number; vals: number[] }[] = [];
        let stamp = 1;
        const fill = (blk: { off: number; vals: number[] }): void => {
          for (let k = 0; k < blk.vals.length; k++) b.data[blk.off + k] = blk.vals[k]!;
        };
        for (const o of ops) {
          if (o.kind === 'alloc') {
            const cls = b.classFor(o.n);
            const blk = {
              off: b.alloc(cls),
              cls,
              vals: Array.from({ length: o.n }, () => stamp++),
            };
            fill(blk);
            live.push(blk);
          } else if (live.length > 0) {
            const blk = live[o.i % live.length]!;
            if (o.kind === 'free') {
              b.free(blk.off, blk.cls);
              live.splice(live.indexOf(blk), 1);
            } else if (o.n > b.capacityOf(blk.cls)) {
              const to = b.classFor(o.n);
              blk.off = b.move(blk.off, blk.cls, blk.vals.length, to);
              blk.cls = to;
            }
          }
          for (const blk of live)
            expect(Array.from(b.data.subarray(blk.off, blk.off + blk.vals.length))).to.deep.equal(
              blk.vals,
            );
        }
        expect(b.live).to.equal(live.reduce((s, blk) => s + b.capacityOf(blk.cls), 0));
      }),
      { numRuns: 150 },
    );
  });
});
