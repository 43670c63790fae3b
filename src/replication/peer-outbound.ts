/**
 * The outbound half of a peer session (we dialled; docs/protocol.md §7.3): the request pipeline.
 * Every advertised hash we lack goes to the fetch scheduler (de-duplicated across peers); we
 * request what it hands us (at most `maxOutstandingPerPeer` in flight) and apply the answers
 * through the gossip path strictly in request order, as the original — except that a request
 * unanswered for `requestTimeoutMs` is given up (and handed to another peer that advertised it),
 * so a lost DATA never blocks the stream. It also tracks the initial sync of a configured peer.
 *
 * Owned by its PeerSession (peer-session.ts), inside the peer actor.
 */
import { isRsError } from '../errors.ts';
import { Deque } from '../lib/deque.ts';
import { TokenBucket } from '../lib/token-bucket.ts';
import type { InitialSync } from './initial-sync.ts';
import type { PeerSessionLink } from './peer-session.ts';

interface Request {
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly sentAt: number;
  /** undefined = waiting, null = nil answer */
  data: Uint8Array | null | undefined;
  timedOut: boolean;
}

export class RequestPipeline {
  private readonly requests = new Deque<Request>();
  private readonly bySeq = new Map<number, Request>();
  private consecutiveTimeouts = 0;
  private readonly invBucket: TokenBucket;
  private lastInvAt: number;
  private lastProgressLogAt = 0;
  private lastProgressStep = -1;

  constructor(
    private readonly s: PeerSessionLink,
    now: number,
  ) {
    this.lastInvAt = now;
    this.invBucket = new TokenBucket(s.d.settings.invRatePerSec, s.d.settings.invBurst, now);
  }

  /** Requests sent and not yet applied or given up. */
  get outstanding(): number {
    return this.requests.length;
  }

  start(now: number): void {
    this.lastInvAt = now;
    this.s.d.sync?.start(now);
  }

  onInv(hashes: readonly Uint8Array[], now: number): void {
    const d = this.s.d;
    if (hashes.length > d.settings.maxInvHashes) {
      this.s.drop(
        'InvTooLarge',
        `INV of ${hashes.length} hashes (limit ${d.settings.maxInvHashes})`,
      );
      return;
    }
    this.invBucket.take(hashes.length, now);
    this.lastInvAt = now;
    const sync = this.activeSync();
    for (const h of hashes) {
      if (sync) sync.advertised++;
      if (d.store.has(h)) {
        if (sync) sync.present++;
        continue;
      }
      const r = d.scheduler.offer(d.id, h);
      if (r === 'discarded') d.metrics.invDiscarded.inc();
      if (!sync) continue;
      if (r === 'queued') sync.needed++;
      else if (r === 'duplicate') sync.elsewhere++;
      else sync.failed++;
    }
  }

  async onData(seq: number, data: Uint8Array | null): Promise<void> {
    const req = this.bySeq.get(seq);
    if (!req) {
      if (this.s.issuedSeq(seq)) {
        this.s.d.metrics.requests.inc({ result: 'late' }); // answered after we gave up on it
        return;
      }
      this.s.drop('UnknownDataSeq', `DATA for seq ${seq}, never requested`);
      return;
    }
    this.bySeq.delete(seq);
    req.data = data;
    this.consecutiveTimeouts = 0;
    await this.applyReady();
  }

  /** Ask for what the scheduler hands us, up to the per-peer bound. */
  requestMore(now: number): void {
    const d = this.s.d;
    const room = d.settings.maxOutstandingPerPeer - this.requests.length;
    if (room <= 0) return;
    for (const hash of d.scheduler.take(d.id, room)) {
      const req: Request = {
        seq: this.s.nextSeq(),
        hash,
        sentAt: now,
        data: undefined,
        timedOut: false,
      };
      this.requests.push(req);
      this.bySeq.set(req.seq, req);
      if (!this.s.send({ type: 'GET_DATA', seq: req.seq, hash })) return;
    }
  }

  /** Give up requests unanswered for `requestTimeoutMs`; too many in a row drop the peer. */
  async expire(now: number): Promise<void> {
    const d = this.s.d;
    const timeout = d.settings.requestTimeoutMs;
    let expired = 0;
    for (const req of this.requests) {
      if (req.data !== undefined || req.timedOut || now - req.sentAt < timeout) continue;
      req.timedOut = true;
      this.bySeq.delete(req.seq);
      d.scheduler.release(1);
      d.scheduler.expired(d.id, req.hash);
      d.metrics.requests.inc({ result: 'timeout' });
      if (d.sync?.active) d.sync.failed++;
      this.consecutiveTimeouts++;
      expired++;
    }
    if (expired === 0) return;
    d.log.debug(
      { event: 'peer:request:timeout', peer: d.id, url: d.url, expired },
      'GET_DATA requests timed out',
    );
    if (this.consecutiveTimeouts >= d.settings.maxConsecutiveTimeouts) {
      this.s.drop('RequestTimeouts', `${this.consecutiveTimeouts} requests timed out in a row`);
      return;
    }
    await this.applyReady();
  }

  /** Why reading should pause (want list full, INV rate spent), if it should. */
  readPauseCause(now: number): string | undefined {
    const d = this.s.d;
    if (d.scheduler.wanted(d.id) >= d.settings.maxWantedPerPeer) return 'want_list';
    if (this.invBucket.available(now) < 0) return 'inv_rate';
    return undefined;
  }

  /** The initial sync settled once nothing is wanted, requested or advertised for a while. */
  checkSync(now: number, greeted: boolean): void {
    const d = this.s.d;
    const sync = d.sync;
    if (!sync?.active || sync.state !== 'syncing') return;
    const idle =
      greeted &&
      this.requests.length === 0 &&
      d.scheduler.wanted(d.id) === 0 &&
      now - this.lastInvAt >= d.settings.syncQuietMs;
    if (idle) {
      sync.finish('done', now);
      d.metrics.syncProgress.set({ peer: sync.url }, 1);
      d.log.info(
        { event: 'peer:sync:settled', ...sync.snapshot() },
        'initial sync from replication peer settled',
      );
      return;
    }
    const step = Math.floor(sync.progress * 10);
    if (
      step !== this.lastProgressStep ||
      now - this.lastProgressLogAt >= d.settings.progressLogIntervalMs
    ) {
      this.lastProgressStep = step;
      this.lastProgressLogAt = now;
      d.metrics.syncProgress.set({ peer: sync.url }, sync.progress);
      const { advertised, present, needed, elsewhere, fetched, failed } = sync;
      d.log.info(
        {
          event: 'peer:sync:progress',
          url: sync.url,
          percent: Math.floor(sync.progress * 100),
          advertised,
          present,
          needed,
          elsewhere,
          fetched,
          failed,
        },
        `initial sync ${Math.floor(sync.progress * 100)}% (${fetched + failed}/${needed})`,
      );
    }
  }

  /** The session closed: give back every in-flight slot (answered-but-unapplied ones too). */
  release(): void {
    let live = 0;
    for (const r of this.requests) if (!r.timedOut) live++;
    this.s.d.scheduler.release(live);
    this.requests.clear();
    this.bySeq.clear();
  }

  private activeSync(): InitialSync | undefined {
    return this.s.d.sync?.active ? this.s.d.sync : undefined;
  }

  /**
   * Apply answered requests from the head of the queue, in request order. Up to `applyWindow`
   * consecutive answers are handed to the gossip path before their outcomes are awaited: the
   * route server applies the announcements of one node strictly in submission order, so the
   * original's per-node order holds while the verification of different nodes overlaps
   * (`applyWindow: 1` submits one at a time, exactly as the original).
   */
  private async applyReady(): Promise<void> {
    const d = this.s.d;
    while (!this.s.closed) {
      const pending: Array<Promise<void>> = [];
      while (pending.length < d.settings.applyWindow) {
        const head = this.requests.peek();
        if (!head) break;
        if (head.timedOut) {
          this.requests.shift(); // released when it timed out
          continue;
        }
        if (head.data === undefined) break;
        this.requests.shift();
        d.scheduler.release(1);
        if (head.data === null) {
          d.metrics.requests.inc({ result: 'nil' });
          d.scheduler.expired(d.id, head.hash); // perhaps another peer still has it
          const s = this.activeSync();
          if (s) s.failed++;
          continue;
        }
        d.metrics.requests.inc({ result: 'data' });
        pending.push(this.submit(head.hash, head.data, this.activeSync()));
      }
      if (pending.length === 0) break;
      await Promise.all(pending);
    }
  }

  /** One announcement through the gossip path; a refusal (busy server) is counted, never thrown. */
  private async submit(
    hash: Uint8Array,
    data: Uint8Array,
    sync: InitialSync | undefined,
  ): Promise<void> {
    const d = this.s.d;
    let result: string;
    try {
      result = await d.submit(data);
    } catch (e) {
      result = isRsError(e) ? e.code : 'RS_ERR_INTERNAL';
      d.log.warn(
        {
          event: 'peer:gossip:refused',
          peer: d.id,
          url: d.url,
          code: result,
          err: isRsError(e) ? undefined : e,
        },
        'the route server refused a replicated announcement',
      );
    }
    d.metrics.gossip.inc({ result });
    d.scheduler.resolved(hash);
    if (sync) sync.fetched++;
  }
}
