import { expect } from 'chai';
import fc from 'fast-check';
import { MinHeap } from '../../../src/lib/heap.ts';

/** The order a heap must pop in: by priority, then by the seq of the last push or decrease. */
class SortedModel {
  private entries = new Map<number, { prio: number; seq: number }>();
  private counter = 0;
  set(item: number, prio: number): void {
    this.entries.set(item, { prio, seq: this.counter++ });
  }
  pop(): [number, number] {
    let best: [number, { prio: number; seq: number }] | undefined;
    for (const e of this.entries) {
      if (
        !best ||
        e[1].prio < best[1].prio ||
        (e[1].prio === best[1].prio && e[1].seq < best[1].seq)
      )
        best = e;
    }
    this.entries.delete(best![0]);
    return [best![0], best![1].prio];
  }
  has(item: number): boolean {
    return this.entries.has(item);
  }
  prioOf(item: number): number {
    return this.entries.get(item)!.prio;
  }
  get size(): number {
    return this.entries.size;
  }
}

const prio = fc.oneof(
  fc.constantFrom(0, 1, 2, Infinity),
  fc.double({ min: 0, max: 100, noNaN: true }),
);

describe('heap', () => {
  describe('MinHeap', () => {
    it('pops by priority, then by the seq of the last push or decrease (with positions)', () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(40), prio, fc.boolean()), { maxLength: 300 }),
          (ops) => {
            const h = new MinHeap();
            const pos = h.trackPositions(8);
            pos.fill(-1);
            const model = new SortedModel();
            for (const [item, p, popFirst] of ops) {
              if (popFirst && model.size > 0) {
                const [mi, mp] = model.pop();
                expect([h.items[0], h.prios[0]]).to.deep.equal([mi, mp]);
                h.pop();
                h.pos![mi] = -1;
              }
              if (!model.has(item)) {
                h.trackPositions(item + 1);
                h.push(item, p);
                model.set(item, p);
              } else if (p < model.prioOf(item)) {
                h.decrease(item, p);
                model.set(item, p);
              }
              expect(h.size).to.equal(model.size);
            }
            while (model.size > 0) {
              expect([h.items[0], h.prios[0]]).to.deep.equal(model.pop());
              h.pop();
            }
            expect(h.size).to.equal(0);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('keeps the positions of the items in the heap when they grow', () => {
      const h = new MinHeap();
      h.trackPositions(2);
      for (let i = 0; i < 100; i++) {
        h.trackPositions(i + 1);
        h.push(i, 100 - i);
      }
      for (let i = 0; i < 100; i++) expect(h.items[h.pos![i]!]).to.equal(i);
      h.decrease(0, -1);
      expect(h.items[0]).to.equal(0);
    });

    it('pops duplicates of an item pushed again (lazy deletion) in key order', () => {
      const h = new MinHeap();
      h.push(7, 5);
      h.push(3, 4);
      h.push(7, 2);
      const out: Array<[number, number]> = [];
      while (h.size > 0) {
        out.push([h.items[0]!, h.prios[0]!]);
        h.pop();
      }
      expect(out).to.deep.equal([
        [7, 2],
        [3, 4],
        [7, 5],
      ]);
    });
  });
});
