/**
 * A pino logger whose JSON lines are kept in memory (the production logger, writing to a
 * stream of ours instead of stderr), for tests that check what an operator would read.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface CapturedLog {
  readonly log: Logger;
  /** every line so far, parsed */
  readonly lines: any[];
  /** the lines with this `event` */
  events(event: string): any[];
}

export function captureLog(level = 'trace'): CapturedLog {
  const lines: any[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      partial += chunk.toString('utf8');
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(partial.slice(0, nl)));
        partial = partial.slice(nl + 1);
      }
      done();
    },
  });
  return {
    log: createLogger(level, stream),
    lines,
    events: (event) => lines.filter((l) => l.event === event),
  };
}
