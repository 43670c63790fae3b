/**
 * Exponential backoff with jitter: the one retry-delay rule of the project (the replication
 * dialer's reconnects, the cjdns link's re-attaches). Retry `attempt` (0 = the first) waits
 * `baseMs · 2^attempt`, capped at `maxMs`, randomised by the jitter:
 *  - `{ spread: f }`: uniformly within ±f of it (still capped, at least 1 ms), so that many
 *    servers reconnecting to one peer do not come back in lock-step;
 *  - `'equal'`: half of it fixed, the other half random ("equal jitter").
 */
export type Jitter = { readonly spread: number } | 'equal';

export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly jitter: Jitter;
}

/** Past this many doublings every delay is capped anyway (and 2^attempt stays finite). */
const MAX_DOUBLINGS = 30;

/** @param random uniform in [0, 1) */
export function backoffDelayMs(b: Backoff, attempt: number, random: () => number): number {
  const raw = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(Math.max(0, attempt), MAX_DOUBLINGS));
  if (b.jitter === 'equal') return Math.round(raw / 2 + (random() * raw) / 2);
  const spread = 1 + b.jitter.spread * (2 * random() - 1);
  return Math.max(1, Math.min(b.maxMs, Math.round(raw * spread)));
}
