/** LinkStateTable behaves as the Map it replaces: same iteration order, same samples. */
import { expect } from 'chai';
import fc from 'fast-check';
import { LinkStateTable } from '../../../src/graph/link-state-table.ts';
import type { LinkStateSample } from '../../../src/graph/node-record.ts';

type Op =
  | { kind: 'set'; slot: number; s: LinkStateSample }
  | { kind: 'delete'; slot: number }
  | { kind: 'below'; slot: number };

const value = fc.oneof(
  { weight: 8, arbitrary: fc.nat(0xffff) },
  { weight: 1, arbitrary: fc.constantFrom(0xffffffff + 1, 2 ** 60, 1.5) },
);
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      slot: fc.integer({ min: 1000, max: 1040 }),
      s: fc.record({ drops: value, lag: value, kbRecv: value }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      slot: fc.integer({ min: 1000, max: 1040 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('below' as const),
      slot: fc.integer({ min: 1000, max: 1040 }),
    }),
  },
);

describe('link-state-table', () => {
  describe('LinkStateTable', () => {
    it('keeps the samples and the insertion order of a Map under any sequence of operations', () => {
      fc.assert(
        fc.property(fc.array(arbOp, { maxLength: 200 }), (ops) => {
          const t = new LinkStateTable();
          const m = new Map<number, LinkStateSample>();
          for (const op of ops) {
            if (op.kind === 'set') {
              t.set(op.slot, op.s);
              m.set(op.slot, { drops: op.s.drops, lag: op.s.lag, kbRecv: op.s.kbRecv });
            } else if (op.kind === 'delete') {
              expect(t.delete(op.slot)).to.equal(m.delete(op.slot));
            } else {
              t.deleteBelow(op.slot);
              for (const k of [...m.keys()]) if (k < op.slot) m.delete(k);
            }
            expect(t.size).to.equal(m.size);
          }
          expect([...t]).to.deep.equal([...m]);
          expect([...t.keys()]).to.deep.equal([...m.keys()]);
          for (const k of m.keys()) expect(t.get(k)).to.deep.equal(m.get(k));
        }),
        { numRuns: 300, seed: 0x5eed05 },
      );
    });
  });
});
