/**
 * Initial sync of one configured peer: the first session pulls the peer's inventory. The
 * protocol has no "end of inventory" marker (the original writes all INVs at connect, then one
 * per new announcement), so the sync is settled when nothing advertised by this peer is waiting
 * or in flight and no INV arrived for `syncQuietMs`. It fails when the first session cannot be
 * opened or ends before settling, and times out after `syncTimeoutMs`. Readiness waits for every
 * configured peer's initial sync to be settled, failed or timed out.
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
  /** nil DATA, timed out, or discarded */
  readonly failed: number;
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
  startedAt: number | undefined;
  settledAt: number | undefined;
  detail: string | undefined;

  constructor(readonly url: string) {}

  get active(): boolean {
    return this.state === 'waiting' || this.state === 'syncing';
  }

  /** Readiness: the sync no longer holds the server back. */
  get settled(): boolean {
    return !this.active;
  }

  get progress(): number {
    if (this.needed === 0) return this.state === 'done' ? 1 : 0;
    return Math.min(1, (this.fetched + this.failed) / this.needed);
  }

  start(now: number): void {
    if (this.state !== 'waiting') return;
    this.state = 'syncing';
    this.startedAt = now;
  }

  finish(state: 'done' | 'failed' | 'timeout', now: number, detail?: string): boolean {
    if (!this.active) return false;
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
    switch (this.state) {
      case 'waiting':
        return 'waiting for the first connection';
      case 'syncing':
        return `syncing ${pct} (${counts})`;
      case 'done':
        return `synced (${counts})`;
      default:
        return `${this.state}${this.detail ? `: ${this.detail}` : ''} (${counts})`;
    }
  }
}
