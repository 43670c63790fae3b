/**
 * Reconnect delays of an outgoing peer: the original's 1 s (after a close) and 10 s (after a
 * failed dial) are the bases; each consecutive failure doubles the delay up to a maximum, and a
 * random spread of ±jitter keeps many servers from reconnecting in lock-step (lib/backoff.ts).
 */
import { backoffDelayMs } from '../lib/backoff.ts';

export interface BackoffSettings {
  readonly reconnectBaseMs: number;
  readonly reconnectErrorBaseMs: number;
  readonly reconnectMaxMs: number;
  /** 0..1 */
  readonly reconnectJitter: number;
}

export type ReconnectCause = 'closed' | 'error';

/**
 * @param failures consecutive failures including this one (0 after a stable session)
 * @param random uniform in [0, 1)
 */
export function reconnectDelayMs(
  s: BackoffSettings,
  cause: ReconnectCause,
  failures: number,
  random: () => number,
): number {
  const baseMs = cause === 'error' ? s.reconnectErrorBaseMs : s.reconnectBaseMs;
  const backoff = { baseMs, maxMs: s.reconnectMaxMs, jitter: { spread: s.reconnectJitter } };
  return backoffDelayMs(backoff, failures - 1, random);
}
