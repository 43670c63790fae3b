/**
 * Reconnect delays of an outgoing peer: the original's 1 s (after a close) and 10 s (after a
 * failed dial) are the bases; each consecutive failure doubles the delay up to a maximum, and a
 * random spread of ±jitter keeps many servers from reconnecting in lock-step.
 */
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
  const base = cause === 'error' ? s.reconnectErrorBaseMs : s.reconnectBaseMs;
  const exp = Math.min(Math.max(0, failures - 1), 40);
  const raw = Math.min(s.reconnectMaxMs, base * 2 ** exp);
  const spread = 1 + s.reconnectJitter * (2 * random() - 1);
  return Math.max(1, Math.min(s.reconnectMaxMs, Math.round(raw * spread)));
}
