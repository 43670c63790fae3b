/** Time source. Pure code takes `now` as a parameter; the runtime passes a Clock around. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests and `snode replay` set by hand. */
export class ManualClock implements Clock {
  constructor(public current = 0) {}
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
}
