/**
 * The time-sliced FIFO that applies verified announcements beside other work on the main thread:
 * order, one bounded slice per event-loop turn, the deficit rule, continuations inside a slice.
 * Time is a fake clock each task advances, so no test depends on the machine's speed.
 */
import { expect } from 'chai';
import { SliceScheduler } from '../../../src/lib/slice-scheduler.ts';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SliceScheduler', () => {
  it('runs every task in FIFO order', async () => {
    const s = new SliceScheduler(1);
    const seen: number[] = [];
    for (let i = 0; i < 100; i++) s.enqueue(() => seen.push(i));
    while (s.backlog > 0) await turn();
    await turn();
    expect(seen).to.deep.equal(Array.from({ length: 100 }, (_, i) => i));
  });

  it('stops a slice at its budget and goes on in a later turn', async () => {
    let t = 0;
    const s = new SliceScheduler(1, undefined, () => t);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++)
      s.enqueue(() => {
        seen.push(i);
        t += 0.25; // each task takes a quarter of the slice
      });
    await turn(); // the first slice runs in the turn after the first enqueue
    expect(seen).to.deep.equal([0, 1, 2, 3]);
    expect(s.backlog).to.equal(6);
    while (s.backlog > 0) await turn();
    expect(seen).to.have.length(10);
    expect(s.stats.slices).to.be.greaterThan(1);
  });

  it('gives a backlog a second slice when the rest of the loop took longer than one (deficit rule)', async () => {
    let t = 0;
    const s = new SliceScheduler(1, undefined, () => t);
    const seen: number[] = [];
    for (let i = 0; i < 20; i++)
      s.enqueue(() => {
        seen.push(i);
        t += 0.25;
      });
    await turn();
    expect(seen).to.have.length(4); // the first slice: 1 ms
    t += 5; // other work (queries) held the thread for 5 ms before the next slice
    await turn();
    expect(seen).to.have.length(12); // 2 ms: 8 more
  });

  it("times a task's promise continuations inside its slice", async () => {
    let t = 0;
    const s = new SliceScheduler(1, undefined, () => t);
    const applied: number[] = [];
    for (let i = 0; i < 10; i++)
      s.enqueue(() => {
        void Promise.resolve().then(() => {
          applied.push(i);
          t += 0.5; // the continuation (the apply) is where the time goes
        });
      });
    await turn();
    expect(applied).to.deep.equal([0, 1]);
  });

  it('reports a task that throws and goes on', async () => {
    const errors: unknown[] = [];
    const s = new SliceScheduler(1, (e) => errors.push(e));
    const seen: number[] = [];
    s.enqueue(() => {
      throw new Error('boom');
    });
    s.enqueue(() => seen.push(1));
    await turn();
    await turn();
    expect(errors).to.have.length(1);
    expect(seen).to.deep.equal([1]);
  });
});
