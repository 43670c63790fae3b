/**
 * Structured logging (pino). Event names are `area:object:event` in the `event` field, e.g.
 * `peer:ws:closed`, `http:server:listening`.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? process.stderr,
  );
}

/** A logger that writes nothing (tests, replay). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
