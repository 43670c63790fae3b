/**
 * The shared chunk pump: the streams that can write take turns (round robin) for at most the
 * budget per event-loop turn, then the loop gets to poll for I/O. Time is a counter here (each
 * step "takes" 1 ms), so the turns are exact.
 */
import { expect } from 'chai';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChunkPump, streamChunks } from '../../../src/transport/stream-response.ts';
import { httpRequest } from '../../helpers/http.ts';

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

  describe('streamChunks()', () => {
    it('ends a stream whose source throws (rejecting, its socket destroyed) while another stream on the same pump completes', async () => {
      const pump = new ChunkPump();
      const ends: Array<Promise<unknown>> = [];
      function* good(): Generator<string> {
        for (let i = 0; i < 50; i++) yield `line ${i}\n`;
      }
      function* bad(): Generator<string> {
        yield 'first\n';
        throw new Error('a bug in the source');
      }
      const server = createServer((req, res: ServerResponse) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        const end = streamChunks(
          res,
          req.url === '/bad' ? bad() : good(),
          { writeTimeoutMs: 5000, deadlineMs: 5000 },
          pump,
        );
        ends.push(
          end.then(
            (v) => v,
            (e: Error) => e.message,
          ),
        );
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as AddressInfo).port;
      try {
        const [badAnswer, goodAnswer] = await Promise.all([
          httpRequest(port, '/bad').then(
            () => 'complete',
            (e: Error) => e.message,
          ),
          httpRequest(port, '/good'),
        ]);
        expect(badAnswer).to.not.equal('complete');
        expect(typeof goodAnswer === 'string' ? goodAnswer : goodAnswer.body.toString()).to.equal(
          Array.from(good()).join(''),
        );
        expect((await Promise.all(ends)).sort()).to.deep.equal(['a bug in the source', 'done']);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  });
});
