/**
 * The shared chunk pump: the streams that can write take turns (round robin) for at most the
 * budget per event-loop turn, then the loop gets to poll for I/O. Time is a counter here (each
 * step "takes" 1 ms), so the turns are exact.
 */
import { expect } from 'chai';
import { ChunkPump } from '../../../src/transport/stream-response.ts';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('transport/stream-response', () => {
  describe('ChunkPump', () => {
    it('runs ready streams round robin, budget-ms worth per event-loop turn', async () => {
      let clock = 0;
      const pump = new ChunkPump(4, () => clock);
      const log: string[] = [];
      const stream = (name: string, chunks: number): void => {
        let left = chunks;
        const step = (): void => {
          clock += 1;
          log.push(name);
          if (--left > 0) pump.request(step);
        };
        pump.request(step);
      };
      stream('a', 5);
      stream('b', 5);
      stream('c', 2);
      const turns: string[] = [];
      for (let i = 0; i < 5; i++) {
        await nextTurn();
        turns.push(log.splice(0).join(''));
      }
      expect(turns.filter(Boolean)).to.deep.equal(['abca', 'bcab', 'abab']);
    });

    it('lets the event loop run timers between turns, however much work is ready (a stream that never stops)', async () => {
      let clock = 0;
      const pump = new ChunkPump(2, () => clock);
      let steps = 0;
      let stop = false;
      const step = (): void => {
        clock += 1;
        steps++;
        if (!stop) pump.request(step);
      };
      pump.request(step);
      // if the pump never yielded, this timer would never fire and the test would time out
      await new Promise<void>((r) => setTimeout(() => r(void (stop = true)), 5));
      expect(steps).to.be.greaterThan(0);
    });
  });
});
