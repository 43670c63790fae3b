/**
 * At most `limit` heavy requests at a time (whole-graph streams): a request that finds the gate
 * full is refused at once (503 `RS_ERR_HTTP_BUSY`, the client retries) instead of queueing work
 * that no one bounds.
 */
import { RsError } from '../errors.ts';

export class RequestGate {
  private inFlight = 0;

  constructor(
    readonly limit: number,
    private readonly what: string,
  ) {}

  get active(): number {
    return this.inFlight;
  }

  /** Take a slot or throw RS_ERR_HTTP_BUSY; the returned function releases it (once). */
  acquire(): () => void {
    if (this.inFlight >= this.limit) {
      throw new RsError('RS_ERR_HTTP_BUSY', `${this.limit} ${this.what} already in progress; retry shortly`);
    }
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }
}
