/**
 * Rate limit of INV hashes per peer. Tokens refill at `ratePerSec` up to `burst`; `take` may
 * drive the balance negative (the hashes were already received and are never lost) and the
 * caller pauses reading until it is positive again: a throttle, not a drop.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(
        this.burst,
        this.tokens + ((now - this.last) * this.ratePerSec) / 1000,
      );
      this.last = now;
    }
  }

  take(n: number, now: number): void {
    this.refill(now);
    this.tokens -= n;
  }

  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }
}
