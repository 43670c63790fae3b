/**
 * The state machine of one replication peer connection (docs/protocol.md §7), owned by the peer actor
 * (src/replication/peer-actor.ts), which feeds it PeerCommands one at a time. No I/O of its own: it talks to
 * an abstract PeerSocket, reads an injected clock, and shares the fetch scheduler.
 *
 * Roles (§7.3). Inbound (they connected to us): we send HELLO, then our whole store as INV
 * batches of 128 in store order — pulled from the store's live iterator only as fast as the
 * socket drains, never materialised as frames at once — then INVs for newly accepted
 * announcements; we answer GET_DATA with DATA and PING with ACK. Outbound (we dialled): we send
 * OLLEH; every advertised hash we lack goes to the fetch scheduler (de-duplicated across peers),
 * we request what it hands us (at most `maxOutstandingPerPeer` in flight) and apply the answers
 * through the gossip path strictly in request order, as the original — except that a request
 * unanswered for `requestTimeoutMs` is given up (and handed to another peer that advertised it),
 * so a lost DATA never blocks the stream.
 *
 * Back-pressure. Reading is paused while the send queue is half full, the want list is full or
 * the INV rate budget is spent; the send queue hands frames to the socket only under its
 * high-water mark. Limits that a well-behaved peer cannot reach drop the peer with a
 * DisconnectReason (disconnect-reason.ts).
 */
import { isRsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { decodePeerFrame, encodePeerFrame, type PeerMessage } from '../protocol/peer-frame.ts';
import type { Clock } from '../lib/clock.ts';
import { closeActionOf, isMisbehaviour, type DisconnectReason } from './disconnect-reason.ts';
import { Deque } from '../lib/deque.ts';
import type { FetchScheduler } from './fetch-scheduler.ts';
import type { InitialSync } from './initial-sync.ts';
import { PeerSendQueue, type PeerSocket } from './peer-send-queue.ts';
import type { ReplicationMetrics } from './replication-metrics.ts';
import { INV_BATCH_HASHES, type ReplicationSettings } from './replication-settings.ts';
import { TokenBucket } from '../lib/token-bucket.ts';

/** The original sends and expects version 1 in HELLO/OLLEH. */
export const PEER_PROTOCOL_VERSION = 1;
/** Inventory INVs are produced only while fewer frames than this wait in the send queue. */
const INVENTORY_QUEUE_MARK = 16;
/**
 * Frames are handed to the socket when the mailbox is about to run dry or this many wait: one
 * socket hand-over (and one completion message) per burst instead of one per frame.
 */
const FLUSH_BATCH_FRAMES = 64;

export type PeerRole = 'inbound' | 'outbound';

export type PeerCommand =
  | { readonly type: 'Start' }
  | { readonly type: 'FrameReceived'; readonly bytes: Uint8Array }
  | { readonly type: 'SocketFailed'; readonly reason: DisconnectReason; readonly detail: string }
  | { readonly type: 'SocketClosed'; readonly code: number }
  | { readonly type: 'Advertise'; readonly hashes: readonly Uint8Array[] }
  | { readonly type: 'FetchReady' }
  | { readonly type: 'Drop'; readonly reason: DisconnectReason; readonly detail: string }
  | { readonly type: 'Drained'; readonly frames: number }
  | { readonly type: 'Tick' };

/** What a peer reads from the replication store. */
export interface PeerStore {
  has(hash: Uint8Array): boolean;
  get(hash: Uint8Array): Uint8Array | undefined;
  /** live iterator in store order: hashes added while iterating are visited too */
  hashes(): Iterator<Uint8Array>;
}

export interface PeerClosed {
  readonly id: number;
  readonly role: PeerRole;
  readonly url: string | undefined;
  readonly reason: DisconnectReason;
  readonly detail: string;
  /** the remote's greeting was received */
  readonly greeted: boolean;
  /** this session was the initial sync of its URL and ended before settling */
  readonly syncFailed: boolean;
}

export interface PeerSessionDeps {
  readonly id: number;
  readonly role: PeerRole;
  /** remote IP address (the original's peerInfo `addr`) */
  readonly addr: string;
  /** outbound: the configured URL */
  readonly url?: string;
  readonly socket: PeerSocket;
  readonly store: PeerStore;
  /** the gossip path; resolves to the reply error (`none` = accepted or nothing to change) */
  readonly submit: (bytes: Uint8Array) => Promise<string>;
  readonly scheduler: FetchScheduler;
  readonly settings: ReplicationSettings;
  readonly metrics: ReplicationMetrics;
  readonly log: Logger;
  readonly clock: Clock;
  /** outbound, first session of a configured peer */
  readonly sync?: InitialSync;
  /** messages queued or running in this peer's mailbox (this one included) */
  readonly mailboxDepth: () => number;
  /** post a message to this peer's own mailbox */
  readonly post: (cmd: PeerCommand) => boolean;
  readonly onClosed: (closed: PeerClosed) => void;
}

interface Request {
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly sentAt: number;
  /** undefined = waiting, null = nil answer */
  data: Uint8Array | null | undefined;
  timedOut: boolean;
}

export interface PeerStats {
  readonly id: number;
  readonly role: PeerRole;
  readonly addr: string;
  readonly url: string | undefined;
  readonly greeted: boolean;
  readonly paused: boolean;
  readonly sendQueue: number;
  readonly sendQueueBytes: number;
  readonly onWire: number;
  readonly outstanding: number;
  readonly wanted: number;
  readonly wantQueue: number;
  readonly inventoryDone: boolean;
  readonly framesReceived: number;
}

export class PeerSession {
  closed = false;
  private greeted = false;
  private readonly seqBase: number;
  private nextSeq: number;
  private lastMessageAt: number;
  private lastPingCycleAt: number;
  private lastInvAt: number;
  private readonly requests = new Deque<Request>();
  private readonly bySeq = new Map<number, Request>();
  private consecutiveTimeouts = 0;
  private readonly invBucket: TokenBucket;
  private inventory: Iterator<Uint8Array> | null = null;
  private inventorySent = 0;
  private paused = false;
  private readonly sendQueue: PeerSendQueue;
  private framesReceived = 0;
  private lastProgressLogAt = 0;
  private lastProgressStep = -1;

  constructor(private readonly d: PeerSessionDeps) {
    const now = d.clock.now();
    // as the original: sequence numbers start at the current time in ms (msgpack uint64)
    this.seqBase = now;
    this.nextSeq = now;
    this.lastMessageAt = now;
    this.lastPingCycleAt = now;
    this.lastInvAt = now;
    this.invBucket = new TokenBucket(d.settings.invRatePerSec, d.settings.invBurst, now);
    this.sendQueue = new PeerSendQueue(
      d.socket,
      {
        maxFrames: d.settings.sendQueueLimit,
        maxBytes: d.settings.sendQueueMaxBytes,
        highWaterBytes: d.settings.sendHighWaterBytes,
      },
      (frames) => {
        if (!this.closed) d.post({ type: 'Drained', frames });
      },
    );
  }

  get id(): number {
    return this.d.id;
  }

  get role(): PeerRole {
    return this.d.role;
  }

  /** The original's peerInfo entry. */
  info(): { addr: string; outstandingRequests: number; msgsOnWire: number; msgQueue: number } {
    return {
      addr: this.d.addr,
      outstandingRequests: this.requests.length,
      msgsOnWire: this.sendQueue.onWire,
      msgQueue: this.sendQueue.length,
    };
  }

  stats(): PeerStats {
    return {
      id: this.d.id,
      role: this.d.role,
      addr: this.d.addr,
      url: this.d.url,
      greeted: this.greeted,
      paused: this.paused,
      sendQueue: this.sendQueue.length,
      sendQueueBytes: this.sendQueue.bytes,
      onWire: this.sendQueue.onWire,
      outstanding: this.requests.length,
      wanted: this.d.scheduler.wanted(this.d.id),
      wantQueue: this.d.scheduler.queueLength(this.d.id),
      inventoryDone: this.inventory === null,
      framesReceived: this.framesReceived,
    };
  }

  async handle(cmd: PeerCommand): Promise<void> {
    if (this.closed) return;
    const now = this.d.clock.now();
    switch (cmd.type) {
      case 'Start':
        this.start(now);
        break;
      case 'FrameReceived':
        await this.onFrame(cmd.bytes, now);
        break;
      case 'SocketFailed':
        this.drop(cmd.reason, cmd.detail);
        break;
      case 'SocketClosed':
        this.drop('RemoteClosed', `close code ${cmd.code}`);
        break;
      case 'Advertise':
        this.advertise(cmd.hashes);
        break;
      case 'FetchReady':
        break; // requestMore below
      case 'Drop':
        this.drop(cmd.reason, cmd.detail);
        break;
      case 'Drained':
        this.sendQueue.drained(cmd.frames, now);
        break;
      case 'Tick':
        await this.tick(now);
        break;
    }
    if (this.closed) return;
    this.requestMore(now);
    if (
      this.d.mailboxDepth() <= 1 ||
      this.sendQueue.length >= FLUSH_BATCH_FRAMES ||
      cmd.type !== 'FrameReceived'
    )
      this.sendQueue.flush(now);
    this.pumpInventory(now);
    this.updateReadFlow(now);
  }

  /** Drop from outside the actor (its mailbox overflowed, or it crashed). */
  forceDrop(reason: DisconnectReason, detail: string): void {
    this.drop(reason, detail);
  }

  private start(now: number): void {
    if (this.d.role === 'inbound') {
      this.send({ type: 'HELLO', seq: 0, version: PEER_PROTOCOL_VERSION });
      this.inventory = this.d.store.hashes();
    } else {
      this.send({ type: 'OLLEH', seq: 0, version: PEER_PROTOCOL_VERSION });
      this.d.sync?.start(now);
    }
    this.lastInvAt = now;
  }

  // ---- receiving -------------------------------------------------------------------------

  private async onFrame(bytes: Uint8Array, now: number): Promise<void> {
    let m: PeerMessage;
    try {
      // the INV length is checked below against our own limit (InvTooLarge); the frame size
      // bound keeps the decoded list small either way
      m = decodePeerFrame(bytes, {
        maxFrameBytes: this.d.settings.maxFrameBytes,
        maxInvHashes: Number.MAX_SAFE_INTEGER,
      });
    } catch (e) {
      this.drop('BadFrame', e instanceof Error ? e.message : String(e));
      return;
    }
    this.framesReceived++;
    this.lastMessageAt = now;
    this.d.metrics.framesReceived.inc({ type: m.type });
    const outbound = this.d.role === 'outbound';
    switch (m.type) {
      case 'HELLO':
      case 'OLLEH':
        if ((m.type === 'HELLO') !== outbound) {
          this.drop('WrongGreeting', `${m.type} on an ${this.d.role} connection`);
          return;
        }
        this.greeted = true;
        this.d.log.info(
          {
            event: 'peer:ws:greeted',
            peer: this.d.id,
            role: this.d.role,
            addr: this.d.addr,
            url: this.d.url,
            version: m.version,
          },
          'replication peer greeted',
        );
        return;
      case 'GET_DATA':
        this.send({ type: 'DATA', seq: m.seq, data: this.d.store.get(m.hash) ?? null });
        return;
      case 'PING':
        this.send({ type: 'ACK', seq: m.seq });
        return;
      case 'ACK':
        return;
      case 'INV':
        if (!outbound) {
          this.d.metrics.ignoredFrames.inc({ type: 'INV' });
          return;
        }
        this.onInv(m.hashes, now);
        return;
      case 'DATA':
        if (!outbound) {
          this.d.metrics.ignoredFrames.inc({ type: 'DATA' });
          return;
        }
        await this.onData(m.seq, m.data);
        return;
      case 'UNKNOWN':
        this.d.metrics.unknownFrames.inc();
        this.d.log.debug(
          { event: 'peer:frame:unknown', peer: this.d.id, name: m.name.slice(0, 40) },
          'ignored a peer frame of unknown type',
        );
        return;
    }
  }

  private onInv(hashes: readonly Uint8Array[], now: number): void {
    if (hashes.length > this.d.settings.maxInvHashes) {
      this.drop(
        'InvTooLarge',
        `INV of ${hashes.length} hashes (limit ${this.d.settings.maxInvHashes})`,
      );
      return;
    }
    this.invBucket.take(hashes.length, now);
    this.lastInvAt = now;
    const sync = this.d.sync?.active ? this.d.sync : undefined;
    for (const h of hashes) {
      if (sync) sync.advertised++;
      if (this.d.store.has(h)) {
        if (sync) sync.present++;
        continue;
      }
      const r = this.d.scheduler.offer(this.d.id, h);
      if (r === 'discarded') this.d.metrics.invDiscarded.inc();
      if (!sync) continue;
      if (r === 'queued') sync.needed++;
      else if (r === 'duplicate') sync.elsewhere++;
      else sync.failed++;
    }
  }

  private async onData(seq: number, data: Uint8Array | null): Promise<void> {
    const req = this.bySeq.get(seq);
    if (!req) {
      if (seq >= this.seqBase && seq < this.nextSeq) {
        this.d.metrics.requests.inc({ result: 'late' }); // answered after we gave up on it
        return;
      }
      this.drop('UnknownDataSeq', `DATA for seq ${seq}, never requested`);
      return;
    }
    this.bySeq.delete(seq);
    req.data = data;
    this.consecutiveTimeouts = 0;
    await this.applyReady();
  }

  /** Apply answered requests from the head of the queue, strictly in request order. */
  /**
   * Apply answered requests from the head of the queue, in request order. Up to `applyWindow`
   * consecutive answers are handed to the gossip path before their outcomes are awaited: the
   * route server applies the announcements of one node strictly in submission order, so the
   * original's per-node order holds while the verification of different nodes overlaps
   * (`applyWindow: 1` submits one at a time, exactly as the original).
   */
  private async applyReady(): Promise<void> {
    const sync = (): InitialSync | undefined => (this.d.sync?.active ? this.d.sync : undefined);
    while (!this.closed) {
      const pending: Array<Promise<void>> = [];
      while (pending.length < this.d.settings.applyWindow) {
        const head = this.requests.peek();
        if (!head) break;
        if (head.timedOut) {
          this.requests.shift(); // released when it timed out
          continue;
        }
        if (head.data === undefined) break;
        this.requests.shift();
        this.d.scheduler.release(1);
        if (head.data === null) {
          this.d.metrics.requests.inc({ result: 'nil' });
          this.d.scheduler.expired(this.d.id, head.hash); // perhaps another peer still has it
          const s = sync();
          if (s) s.failed++;
          continue;
        }
        this.d.metrics.requests.inc({ result: 'data' });
        pending.push(this.submit(head.hash, head.data, sync()));
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
    let result: string;
    try {
      result = await this.d.submit(data);
    } catch (e) {
      result = isRsError(e) ? e.code : 'RS_ERR_INTERNAL';
      this.d.log.warn(
        {
          event: 'peer:gossip:refused',
          peer: this.d.id,
          url: this.d.url,
          code: result,
          err: isRsError(e) ? undefined : e,
        },
        'the route server refused a replicated announcement',
      );
    }
    this.d.metrics.gossip.inc({ result });
    this.d.scheduler.resolved(hash);
    if (sync) sync.fetched++;
  }

  // ---- requesting ------------------------------------------------------------------------

  private requestMore(now: number): void {
    if (this.d.role !== 'outbound') return;
    const room = this.d.settings.maxOutstandingPerPeer - this.requests.length;
    if (room <= 0) return;
    for (const hash of this.d.scheduler.take(this.d.id, room)) {
      const req: Request = {
        seq: this.nextSeq++,
        hash,
        sentAt: now,
        data: undefined,
        timedOut: false,
      };
      this.requests.push(req);
      this.bySeq.set(req.seq, req);
      if (!this.send({ type: 'GET_DATA', seq: req.seq, hash })) return;
    }
  }

  private async expireRequests(now: number): Promise<void> {
    const timeout = this.d.settings.requestTimeoutMs;
    let expired = 0;
    for (const req of this.requests) {
      if (req.data !== undefined || req.timedOut || now - req.sentAt < timeout) continue;
      req.timedOut = true;
      this.bySeq.delete(req.seq);
      this.d.scheduler.release(1);
      this.d.scheduler.expired(this.d.id, req.hash);
      this.d.metrics.requests.inc({ result: 'timeout' });
      if (this.d.sync?.active) this.d.sync.failed++;
      this.consecutiveTimeouts++;
      expired++;
    }
    if (expired === 0) return;
    this.d.log.debug(
      { event: 'peer:request:timeout', peer: this.d.id, url: this.d.url, expired },
      'GET_DATA requests timed out',
    );
    if (this.consecutiveTimeouts >= this.d.settings.maxConsecutiveTimeouts) {
      this.drop('RequestTimeouts', `${this.consecutiveTimeouts} requests timed out in a row`);
      return;
    }
    await this.applyReady();
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Queue a frame; over a limit the peer is dropped (false). */
  private send(msg: PeerMessage): boolean {
    if (this.closed) return false;
    if (!this.sendQueue.enqueue(encodePeerFrame(msg))) {
      this.drop(
        'SendQueueFull',
        `${this.sendQueue.length} frames / ${this.sendQueue.bytes} bytes queued`,
      );
      return false;
    }
    this.d.metrics.framesSent.inc({ type: msg.type });
    return true;
  }

  private advertise(hashes: readonly Uint8Array[]): void {
    // during the inventory the store's live iterator reaches new hashes by itself
    if (this.d.role !== 'inbound' || this.inventory !== null) return;
    for (let i = 0; i < hashes.length; i += INV_BATCH_HASHES) {
      if (!this.send({ type: 'INV', seq: 0, hashes: hashes.slice(i, i + INV_BATCH_HASHES) }))
        return;
    }
  }

  private pumpInventory(now: number): void {
    while (
      this.inventory &&
      !this.closed &&
      this.sendQueue.length < INVENTORY_QUEUE_MARK &&
      this.d.socket.bufferedAmount < this.d.settings.sendHighWaterBytes
    ) {
      const batch: Uint8Array[] = [];
      while (batch.length < INV_BATCH_HASHES) {
        const r = this.inventory.next();
        if (r.done) {
          this.inventory = null;
          break;
        }
        batch.push(r.value);
      }
      if (batch.length > 0) {
        this.inventorySent += batch.length;
        if (!this.send({ type: 'INV', seq: 0, hashes: batch })) return;
      }
      if (this.inventory === null) {
        this.d.log.info(
          {
            event: 'peer:inventory:sent',
            peer: this.d.id,
            addr: this.d.addr,
            hashes: this.inventorySent,
          },
          'inventory sent to replication peer',
        );
      }
      this.sendQueue.flush(now);
    }
  }

  // ---- housekeeping ----------------------------------------------------------------------

  private async tick(now: number): Promise<void> {
    await this.expireRequests(now);
    if (this.closed) return;
    const s = this.d.settings;
    if (this.sendQueue.stalledFor(now) > s.sendStallTimeoutMs) {
      this.drop(
        'SendStalled',
        `nothing written for ${this.sendQueue.stalledFor(now)} ms, ${this.sendQueue.length} frames queued`,
      );
      return;
    }
    if (now - this.lastPingCycleAt >= s.pingCycleMs) {
      this.lastPingCycleAt = now;
      // docs/protocol.md §7.5; silence while we hold the socket paused is ours, not the peer's
      if (this.paused) this.lastMessageAt = now;
      const lag = now - this.lastMessageAt;
      if (lag > s.dropAfterMs) {
        this.drop('Idle', `silent for ${lag} ms`);
        return;
      }
      if (lag > s.pingAfterMs) this.send({ type: 'PING', seq: this.nextSeq++ });
    }
    this.checkSync(now);
  }

  private checkSync(now: number): void {
    const sync = this.d.sync;
    if (!sync?.active || sync.state !== 'syncing') return;
    const idle =
      this.greeted &&
      this.requests.length === 0 &&
      this.d.scheduler.wanted(this.d.id) === 0 &&
      now - this.lastInvAt >= this.d.settings.syncQuietMs;
    if (idle) {
      sync.finish('done', now);
      this.d.metrics.syncProgress.set({ peer: sync.url }, 1);
      this.d.log.info(
        { event: 'peer:sync:settled', ...sync.snapshot() },
        'initial sync from replication peer settled',
      );
      return;
    }
    const step = Math.floor(sync.progress * 10);
    if (
      step !== this.lastProgressStep ||
      now - this.lastProgressLogAt >= this.d.settings.progressLogIntervalMs
    ) {
      this.lastProgressStep = step;
      this.lastProgressLogAt = now;
      this.d.metrics.syncProgress.set({ peer: sync.url }, sync.progress);
      const { advertised, present, needed, elsewhere, fetched, failed } = sync;
      this.d.log.info(
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

  /** Pause reading while we cannot keep up; resume once every cause is gone. */
  private updateReadFlow(now: number): void {
    const s = this.d.settings;
    // (a deep mailbox pauses the socket too: spawnPeer does that at the socket, without waiting for a turn)
    let cause: string | undefined;
    if (this.sendQueue.length >= s.sendQueueLimit / 2) cause = 'send_queue';
    else if (this.d.role === 'outbound' && this.d.scheduler.wanted(this.d.id) >= s.maxWantedPerPeer)
      cause = 'want_list';
    else if (this.d.role === 'outbound' && this.invBucket.available(now) < 0) cause = 'inv_rate';
    if (cause && !this.paused) {
      this.paused = true;
      this.d.socket.pause();
      this.d.metrics.throttled.inc({ cause });
      this.d.log.debug(
        { event: 'peer:ws:paused', peer: this.d.id, cause },
        'paused reading from replication peer',
      );
    } else if (!cause && this.paused) {
      this.paused = false;
      this.d.socket.resume();
    }
  }

  // ---- closing ---------------------------------------------------------------------------

  private drop(reason: DisconnectReason, detail: string): void {
    if (this.closed) return;
    this.closed = true;
    const now = this.d.clock.now();
    // every request not yet timed out holds an in-flight slot (answered-but-unapplied ones too)
    let live = 0;
    for (const r of this.requests) if (!r.timedOut) live++;
    this.d.scheduler.release(live);
    this.requests.clear();
    this.bySeq.clear();
    this.d.scheduler.removePeer(this.d.id);
    this.sendQueue.clear();
    this.inventory = null;
    const syncFailed =
      this.d.sync?.finish('failed', now, `session ended before the sync settled: ${reason}`) ??
      false;
    this.d.metrics.disconnects.inc({ reason });
    const fields = {
      event: isMisbehaviour(reason) ? 'peer:ws:dropped' : 'peer:ws:closed',
      peer: this.d.id,
      role: this.d.role,
      addr: this.d.addr,
      url: this.d.url,
      reason,
      detail,
    };
    if (isMisbehaviour(reason)) this.d.log.warn(fields, `replication peer dropped: ${reason}`);
    else this.d.log.info(fields, `replication peer closed: ${reason}`);
    const action = closeActionOf(reason);
    try {
      if (action.terminate) {
        this.d.socket.terminate();
      } else {
        this.d.socket.close(action.code, reason); // the socket terminates if the handshake stalls
      }
    } catch {
      this.d.socket.terminate();
    }
    this.d.onClosed({
      id: this.d.id,
      role: this.d.role,
      url: this.d.url,
      reason,
      detail,
      greeted: this.greeted,
      syncFailed,
    });
  }
}
