/**
 * Initial sync of one configured peer: a session pulls the peer's inventory. The protocol has no
 * "end of inventory" marker (the original writes all INVs at connect, then one per new
 * announcement), so the sync is done when nothing advertised by this peer is waiting, in flight
 * or being applied and no INV arrived for `syncQuietMs`. An attempt fails when its session
 * cannot be opened or ends before that; a failed sync is not settled: the next session of the
 * peer starts it again (`attempts`, and the last failure stays in the description). A session
 * that ends to read an inventory too large for the want list again (Resync) only interrupts it.
 * Readiness waits for every configured peer's sync to be done — or, when `syncTimeoutMs` is set,
 * gives up waiting after that long (`timeout`, which stays).
 */
export type InitialSyncState = 'waiting' | 'syncing' | 'done' | 'failed' | 'timeout';

export interface InitialSyncSnapshot {
  readonly url: string;
  readonly state: InitialSyncState;
  /** hashes advertised by the peer during the sync */
  readonly advertised: number;
  /** advertised but already in our store */
  readonly present: number;
  /** advertised, missing, and requested from this peer */
  readonly needed: number;
  /** advertised, missing, already being fetched from another peer */
  readonly elsewhere: number;
  /** DATA received and applied through the gossip path */
  readonly fetched: number;
  /** nil DATA, timed out, refused by the route server */
  readonly failed: number;
  /** advertised hashes beyond the want list's hard cap (read again by the next session) */
  readonly deferred: number;
  /** sessions that started this sync (1 = the first) */
  readonly attempts: number;
  /** (fetched + failed) / needed, 1 when nothing was needed */
  readonly progress: number;
  readonly startedAt: number | undefined;
  readonly settledAt: number | undefined;
  readonly detail: string | undefined;
}

export class InitialSync {
  state: InitialSyncState = 'waiting';
  advertised = 0;
  present = 0;
  needed = 0;
  elsewhere = 0;
  fetched = 0;
  failed = 0;
  deferred = 0;
  attempts = 0;
  startedAt: number | undefined;
  settledAt: number | undefined;
  detail: string | undefined;

  constructor(readonly url: string) {}

  get active(): boolean {
    return this.state === 'waiting' || this.state === 'syncing';
  }

  /** Readiness: the sync no longer holds the server back (done, or given up by the timeout). */
  get settled(): boolean {
    return this.state === 'done' || this.state === 'timeout';
  }

  /** A session may (re)start this sync: the first one, or the next after a failure. */
  get startable(): boolean {
    return this.state === 'waiting' || this.state === 'failed';
  }

  get progress(): number {
    if (this.needed === 0) return this.state === 'done' ? 1 : 0;
    return Math.min(1, (this.fetched + this.failed) / this.needed);
  }

  start(now: number): void {
    if (!this.startable) return;
    this.state = 'syncing';
    this.attempts++;
    this.startedAt ??= now;
    this.settledAt = undefined;
    this.advertised = 0;
    this.present = 0;
    this.needed = 0;
    this.elsewhere = 0;
    this.fetched = 0;
    this.failed = 0;
    this.deferred = 0;
  }

  /** The session ended to read the peer's inventory again (Resync): the next one goes on. */
  interrupt(detail: string): boolean {
    if (this.state !== 'syncing') return false;
    this.state = 'waiting';
    this.detail = detail;
    return false;
  }

  finish(state: 'done' | 'failed' | 'timeout', now: number, detail?: string): boolean {
    // a failed sync can still be given up by the timeout (readiness stops waiting)
    if (!this.active && !(state === 'timeout' && this.state === 'failed')) return false;
    this.state = state;
    this.settledAt = now;
    this.detail = detail;
    return true;
  }

  snapshot(): InitialSyncSnapshot {
    return {
      url: this.url,
      state: this.state,
      advertised: this.advertised,
      present: this.present,
      needed: this.needed,
      elsewhere: this.elsewhere,
      fetched: this.fetched,
      failed: this.failed,
      deferred: this.deferred,
      attempts: this.attempts,
      progress: this.progress,
      startedAt: this.startedAt,
      settledAt: this.settledAt,
      detail: this.detail,
    };
  }

  /** One line for /readyz. */
  describe(): string {
    const pct = `${Math.floor(this.progress * 100)}%`;
    const counts = `${this.fetched + this.failed}/${this.needed} fetched, ${this.advertised} advertised, ${this.present} present`;
    const last = this.detail ? `; last attempt: ${this.detail}` : '';
    const attempt = this.attempts > 1 ? ` (attempt ${this.attempts})` : '';
    switch (this.state) {
      case 'waiting':
        return this.attempts === 0
          ? 'waiting for the first connection'
          : `waiting to reconnect${last}`;
      case 'syncing':
        return `syncing ${pct}${attempt} (${counts})${last}`;
      case 'done':
        return `synced (${counts})`;
      case 'failed':
        return `failed, retrying on the next connection: ${this.detail ?? 'unknown'} (${counts})`;
      case 'timeout':
        return `timeout: ${this.detail ?? ''} (${counts}); still pulling, readiness no longer waits`;
    }
  }
}
