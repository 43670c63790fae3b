/**
 * The outbound half of a peer session (we dialled; docs/protocol.md §7.3): the request pipeline.
 * Every advertised hash we lack goes to the fetch scheduler (de-duplicated across peers); we
 * request what it hands us and hand the answers to the gossip path in request order, as the
 * original — except that a request unanswered for `requestTimeoutMs` is given up (and handed to
 * another peer that advertised it), so a lost DATA never blocks the stream. It also tracks the
 * initial sync of a configured peer.
 *
 * The pull is a pipeline (INV → GET_DATA → DATA → verify → apply): answers are submitted without
 * waiting for their outcomes inside the actor's turn (up to `applyWindow` in flight, which share
 * `maxOutstandingPerPeer` with the unanswered requests), so the verification pool sees whole
 * batches; an outcome is booked in the continuation that receives it, and the actor is nudged
 * (FetchReady) when the window has room again. Every DATA is checked against the hash it answers
 * before anything else: a wrong answer drops that peer (WrongData) and its hashes go to the other
 * peers that advertised them. A submission the route server refused for a passing reason (busy,
 * a worker failure) puts the hash back in the want list instead of forgetting it.
 *
 * Flow control is on what we ask, never on what we read while requests are outstanding: the want
 * list is bounded (hashes beyond its hard cap are deferred and counted; once everything else is
 * done the session ends with `Resync` and the next one reads the peer's inventory again), and
 * reading pauses for the want list only when nothing we asked for is pending; for a moment, too,
 * while the INV rate budget is spent (it refills by time).
 *
 * Owned by its PeerSession (peer-session.ts), inside the peer actor.
 */
import { isRsError } from '../errors.ts';
import { Deque } from '../lib/deque.ts';
import { TokenBucket } from '../lib/token-bucket.ts';
import { annHash } from '../protocol/announcement.ts';
import { hashOfWantKey, wantKeyMatches, type WantKey } from './fetch-scheduler.ts';
import type { InitialSync } from './initial-sync.ts';
import type { PeerSessionLink } from './peer-session.ts';

/** A finished submission nudges the actor once this many requests could be sent again. */
const NUDGE_ROOM = 32;
/**
 * Answers submitted and requests sent per actor turn, at most (each; the rest in the next turn,
 * which a FetchReady asks for): a turn that submitted a whole window (512) and asked for a whole
 * pipeline (1024) held the main thread for several milliseconds (issue 17).
 */
export const PIPELINE_STEPS_PER_TURN = 128;
/** Reply errors after which a hash goes back to the want list (the route server was busy). */
const TRANSIENT_REFUSALS: ReadonlySet<string> = new Set([
  'RS_ERR_MAILBOX_FULL',
  'RS_ERR_VERIFY_QUEUE_FULL',
  'RS_ERR_WORKER_FAILED',
  'RS_ERR_QUERY_TIMEOUT',
  'RS_ERR_INTERNAL',
]);

/**
 * Verdicts after which a hash is asked again later rather than forgotten: each is an update of
 * a node whose reset has not been applied yet — with several peers, the reset may be on its way
 * from another one (each peer's stream keeps its own order, not the others'). An update that
 * carries no EncodingScheme (as cjdns sends them) is `no_encodingScheme` for a node we do not
 * know, one without a Version `no_version`, and one with both `unknown_node`
 * (graph/apply-announcement.ts, steps 5, 6 and 9): for a known node none of the three occurs.
 */
export const RETRY_VERDICTS: ReadonlySet<string> = new Set([
  'unknown_node',
  'no_encodingScheme',
  'no_version',
]);

interface Request {
  readonly seq: number;
  /** the hash asked for (the fetch scheduler's key: its bytes as latin1) */
  readonly key: WantKey;
  readonly sentAt: number;
  /** undefined = waiting, null = nil answer */
  data: Uint8Array | null | undefined;
  timedOut: boolean;
}

export class RequestPipeline {
  /** in the order sent, so by ascending seq (`waiting`) */
  private readonly requests = new Deque<Request>();
  private consecutiveTimeouts = 0;
  /** requests not answered and not timed out (they hold in-flight slots) */
  private live = 0;
  /** answered requests not yet submitted (waiting behind an earlier unanswered one) */
  private answered = 0;
  /** answers submitted to the gossip path, outcome not back yet */
  private submitting = 0;
  /** a FetchReady is posted and not yet handled */
  private nudged = false;
  /** hashes beyond the want list's hard cap this session */
  private deferredCount = 0;
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

  /** Requests sent and not yet submitted or given up. */
  get outstanding(): number {
    return this.requests.length;
  }

  /** Answers handed to the gossip path whose outcome is not back yet. */
  get applying(): number {
    return this.submitting;
  }

  /** Advertised hashes that did not fit the want list this session (read again by a Resync). */
  get deferred(): number {
    return this.deferredCount;
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
      if (r === 'discarded') {
        // the want list is at its hard cap: read on, and read the inventory again later
        this.deferredCount++;
        d.metrics.invDiscarded.inc();
        if (sync) sync.deferred++;
        continue;
      }
      if (!sync) continue;
      if (r === 'queued') sync.needed++;
      else sync.elsewhere++;
    }
  }

  onData(seq: number, data: Uint8Array | null): void {
    const req = this.waiting(seq);
    if (!req) {
      if (this.s.issuedSeq(seq)) {
        this.s.d.metrics.requests.inc({ result: 'late' }); // answered after we gave up on it
        return;
      }
      this.s.drop('UnknownDataSeq', `DATA for seq ${seq}, never requested`);
      return;
    }
    // the answer must be the announcement we asked for (its hash is sha512 of its bytes):
    // anything else is this peer's fault alone, and the hash goes to another peer
    if (data !== null && !wantKeyMatches(req.key, annHash(data))) {
      this.s.d.metrics.requests.inc({ result: 'wrong' });
      this.s.drop('WrongData', `DATA for seq ${seq} is not the announcement requested`);
      return;
    }
    req.data = data;
    this.live--;
    this.answered++;
    this.consecutiveTimeouts = 0;
  }

  /** A FetchReady nudge reached the actor (the turn goes on with `advance`). */
  onFetchReady(): void {
    this.nudged = false;
  }

  /**
   * Once per actor turn: submit what is answered, then ask for more, each at most
   * PIPELINE_STEPS_PER_TURN times; when either stopped at that bound, another turn is asked for.
   */
  advance(now: number): void {
    let bounded = this.applyReady();
    if (!this.s.closed) bounded = this.requestMore(now) || bounded;
    if (bounded && !this.s.closed && !this.nudged) {
      this.nudged = true;
      this.s.d.post({ type: 'FetchReady' });
    }
  }

  /**
   * Ask for what the scheduler hands us, up to the per-peer bound (answered requests waiting for
   * their turn to be submitted, and submissions whose outcome is not back, count as in flight).
   */
  private requestMore(now: number): boolean {
    const d = this.s.d;
    const room = d.settings.maxOutstandingPerPeer - this.live - this.answered - this.submitting;
    if (room <= 0) return false;
    const keys = d.scheduler.take(d.id, Math.min(room, PIPELINE_STEPS_PER_TURN));
    for (const key of keys) {
      const req: Request = {
        seq: this.s.nextSeq(),
        key,
        sentAt: now,
        data: undefined,
        timedOut: false,
      };
      this.requests.push(req);
      this.live++;
      if (!this.s.send({ type: 'GET_DATA', seq: req.seq, hash: hashOfWantKey(key) })) return false;
    }
    return room > PIPELINE_STEPS_PER_TURN && keys.length === PIPELINE_STEPS_PER_TURN;
  }

  /** Give up requests unanswered for `requestTimeoutMs`; too many in a row drop the peer. */
  expire(now: number): void {
    const d = this.s.d;
    const timeout = d.settings.requestTimeoutMs;
    let expired = 0;
    for (const req of this.requests) {
      if (req.data !== undefined || req.timedOut || now - req.sentAt < timeout) continue;
      req.timedOut = true;
      this.live--;
      d.scheduler.release(1);
      d.scheduler.expired(d.id, req.key);
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
    }
  }

  /**
   * Why reading should pause, if it should: the want list is full and nothing we asked for is
   * pending (its answer may be behind the INVs still unread; hashes past the hard cap are
   * deferred meanwhile), or the INV rate budget is spent.
   */
  readPauseCause(now: number): string | undefined {
    const d = this.s.d;
    if (
      this.live === 0 &&
      this.answered === 0 &&
      d.scheduler.wanted(d.id) >= d.settings.maxWantedPerPeer
    )
      return 'want_list';
    if (this.invBucket.available(now) < 0) return 'inv_rate';
    return undefined;
  }

  /**
   * The initial sync is done once nothing advertised by this peer is waiting, asked for or being
   * applied, and no INV came for `syncQuietMs`; hashes deferred past the want list's hard cap
   * then end the session (Resync) so that the next one reads the inventory again.
   */
  checkSync(now: number, greeted: boolean): void {
    const d = this.s.d;
    const quiet = greeted && now - this.lastInvAt >= d.settings.syncQuietMs;
    if (this.deferredCount > 0 && quiet && this.drained()) {
      // what did not fit the want list is still on the peer: read its inventory again
      this.s.drop(
        'Resync',
        `${this.deferredCount} advertised hashes did not fit the want list; reading the inventory again`,
      );
      return;
    }
    const sync = d.sync;
    if (!sync?.active || sync.state !== 'syncing') return;
    if (quiet && this.drained()) {
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
      const { advertised, present, needed, elsewhere, fetched, failed, deferred } = sync;
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
          deferred,
        },
        `initial sync ${Math.floor(sync.progress * 100)}% (${fetched + failed}/${needed})`,
      );
    }
  }

  /**
   * The session closed: give back every in-flight slot (answered-but-unsubmitted ones too);
   * submissions in flight finish on their own and only book their outcome.
   */
  release(): void {
    this.s.d.scheduler.release(this.live + this.answered);
    this.live = 0;
    this.answered = 0;
    this.requests.clear();
  }

  /**
   * The request `seq` answers, if we still wait for it (not answered, not timed out): requests
   * are sent in ascending seq order, so a binary search of the queue finds it.
   */
  private waiting(seq: number): Request | undefined {
    let lo = 0;
    let hi = this.requests.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const req = this.requests.at(mid)!;
      if (req.seq < seq) lo = mid + 1;
      else if (req.seq > seq) hi = mid - 1;
      else return req.data === undefined && !req.timedOut ? req : undefined;
    }
    return undefined;
  }

  private activeSync(): InitialSync | undefined {
    return this.s.d.sync?.active ? this.s.d.sync : undefined;
  }

  /** Nothing advertised by this peer is waiting, asked for or being applied. */
  private drained(): boolean {
    const d = this.s.d;
    return this.requests.length === 0 && this.submitting === 0 && d.scheduler.wanted(d.id) === 0;
  }

  /**
   * Hand answered requests from the head of the queue to the gossip path, in request order,
   * without waiting for their outcomes: up to `applyWindow` are in flight at once. The route
   * server applies the announcements of one node strictly in submission order, so the original's
   * per-node order holds while the verification of different nodes overlaps (`applyWindow: 1`
   * submits one at a time, exactly as the original).
   */
  private applyReady(): boolean {
    const d = this.s.d;
    const sync = this.activeSync();
    let steps = 0;
    while (!this.s.closed && this.submitting < d.settings.applyWindow) {
      const head = this.requests.peek();
      if (!head || (!head.timedOut && head.data === undefined)) break;
      if (steps++ === PIPELINE_STEPS_PER_TURN) return true; // the rest in the next turn
      if (head.timedOut) {
        this.requests.shift(); // released when it timed out
        continue;
      }
      const data = head.data as Uint8Array | null; // answered: the break above
      this.requests.shift();
      this.answered--;
      d.scheduler.release(1);
      if (data === null) {
        d.metrics.requests.inc({ result: 'nil' });
        d.scheduler.expired(d.id, head.key); // perhaps another peer still has it
        if (sync) sync.failed++;
        continue;
      }
      d.metrics.requests.inc({ result: 'data' });
      this.submitting++;
      d.submit(data).then(
        (result) => this.applied(head.key, result, sync),
        (e: unknown) => this.refused(head.key, e, sync),
      );
    }
    return false;
  }

  /**
   * The gossip path's verdict on an announcement: the hash is handled, whatever it was — except
   * an update that came before its node's reset, which is asked again later (from another peer
   * that advertised it when there is one, at the back of its want list; at most `maxRetries`
   * times).
   */
  private applied(key: WantKey, result: string, sync: InitialSync | undefined): void {
    const d = this.s.d;
    d.metrics.gossip.inc({ result });
    if (!(RETRY_VERDICTS.has(result) && d.scheduler.retry(key, true))) {
      d.scheduler.resolved(key);
      if (sync?.active) sync.fetched++;
    }
    this.submissionEnded();
  }

  /**
   * The route server refused the announcement: a busy server (full queues, a worker that died)
   * is a passing reason and the hash goes back to the want list — it is not resolved for the
   * peers that advertised it. Counted and logged, never fatal.
   */
  private refused(key: WantKey, e: unknown, sync: InitialSync | undefined): void {
    const d = this.s.d;
    const code = isRsError(e) ? e.code : 'RS_ERR_INTERNAL';
    d.metrics.gossip.inc({ result: code });
    d.log.warn(
      {
        event: 'peer:gossip:refused',
        peer: d.id,
        url: d.url,
        code,
        err: isRsError(e) ? undefined : e,
      },
      'the route server refused a replicated announcement',
    );
    if (!(TRANSIENT_REFUSALS.has(code) && d.scheduler.retry(key))) {
      d.scheduler.resolved(key);
      if (sync?.active) sync.failed++;
    }
    this.submissionEnded();
  }

  /** A submission's outcome came back (outside the actor's turn): nudge it when there is room. */
  private submissionEnded(): void {
    this.submitting--;
    if (this.s.closed || this.nudged) return;
    const d = this.s.d;
    const blocked = this.submitting === d.settings.applyWindow - 1;
    const room = d.settings.maxOutstandingPerPeer - this.live - this.answered - this.submitting;
    if (blocked || room >= NUDGE_ROOM || this.submitting === 0) {
      this.nudged = true;
      d.post({ type: 'FetchReady' });
    }
  }
}
