import { expect } from 'chai';
import fc from 'fast-check';
import { LinkArena } from '../../../src/graph/link-arena.ts';
import { LinkStateTable } from '../../../src/graph/link-state-table.ts';

/** A sample's values: mostly what cjdns sends, sometimes past what the packed form holds. */
const value = (max: number): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max }) },
    {
      weight: 1,
      arbitrary: fc.oneof(fc.constant(max + 1), fc.constant(2 ** 32 + 5), fc.constant(0.5)),
    },
  );

type Op =
  | { kind: 'set'; link: number; dSlot: number; lag: number; drops: number; kbRecv: number }
  | { kind: 'advance'; slots: number }
  | { kind: 'below'; link: number; back: number }
  | { kind: 'clear'; link: number }
  | { kind: 'free'; link: number };

describe('link-arena', () => {
  it("keeps each link's samples exactly as a LinkStateTable does (model): order, values, deletions, wide fallback", () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 10,
        arbitrary: fc.record({
          kind: fc.constant('set' as const),
          link: fc.nat(5),
          dSlot: fc.integer({ min: -140, max: 20 }),
          lag: value(0xffff),
          drops: value(0xffff),
          kbRecv: value(0xffffff),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('advance' as const),
          slots: fc.integer({ min: 1, max: 300 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('below' as const),
          link: fc.nat(5),
          back: fc.integer({ min: 0, max: 130 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), link: fc.nat(5) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('free' as const), link: fc.nat(5) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const a = new LinkArena();
        const ids: number[] = [];
        const model: LinkStateTable[] = [];
        for (let i = 0; i < 6; i++) {
          ids.push(a.alloc());
          model.push(new LinkStateTable());
        }
        let now = 1_000_000;
        for (const o of ops) {
          if (o.kind === 'advance') now += o.slots;
          else if (o.kind === 'set') {
            const slot = now + o.dSlot;
            a.setSample(ids[o.link]!, slot, o.drops, o.lag, o.kbRecv);
            model[o.link]!.set(slot, { drops: o.drops, lag: o.lag, kbRecv: o.kbRecv });
          } else if (o.kind === 'below') {
            a.deleteSamplesBelow(ids[o.link]!, now - o.back);
            model[o.link]!.deleteBelow(now - o.back);
          } else if (o.kind === 'clear') {
            a.clearSamples(ids[o.link]!);
            model[o.link] = new LinkStateTable();
          } else {
            a.free(ids[o.link]!);
            ids[o.link] = a.alloc();
            model[o.link] = new LinkStateTable();
          }
        }
        for (let i = 0; i < 6; i++) {
          expect([...a.sampleEntries(ids[i]!)]).to.deep.equal([...model[i]!.entries()]);
          expect(a.sampleCount(ids[i]!)).to.equal(model[i]!.size);
          for (const [slot, s] of model[i]!.entries())
            expect(a.sampleAt(ids[i]!, slot)).to.deep.equal(s);
          expect(a.sampleAt(ids[i]!, now + 1000)).to.equal(undefined);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("holds a sync's 17 samples of a link in 8 bytes each", () => {
    const a = new LinkArena();
    const ids = Array.from({ length: 1000 }, () => a.alloc());
    for (const id of ids)
      for (let s = 0; s < 17; s++) a.setSample(id, 5000 - s, 0, 100 + s, 2000 + s);
    // 18-sample blocks of 2 ints
    expect(a.sampleInts.live).to.equal(1000 * 18 * 2);
  });
});
