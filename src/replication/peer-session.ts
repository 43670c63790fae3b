/**
 * The state machine of one replication peer connection (docs/protocol.md §7), owned by the peer actor
 * (src/replication/peer-actor.ts), which feeds it PeerCommands one at a time. No I/O of its own: it talks to
 * an abstract PeerSocket, reads an injected clock, and shares the fetch scheduler.
 *
 * This file is the session core: greeting, frames in and out, PING/ACK, idle and stall checks,
 * back-pressure, closing. Each role adds its half (§7.3): inbound (they connected to us: we send
 * HELLO, answer GET_DATA with DATA, and pump our inventory — peer-inbound.ts), outbound (we
 * dialled: we send OLLEH and run the request pipeline — peer-outbound.ts).
 *
 * Back-pressure. Reading is paused while the send queue is half full, and when the request
 * pipeline asks for it (a full want list while nothing asked is pending, a spent INV rate
 * budget: peer-outbound.ts — flow control is on what we ask, never on what we read while
 * requests are outstanding); the send queue hands frames to the socket only under its
 * high-water mark, one hand-over in one write. Limits that a well-behaved peer cannot reach drop
 * the peer with a DisconnectReason (disconnect-reason.ts).
 *
 * A turn never waits for the gossip path: the pipeline submits answers and books their outcomes
 * as they come back (peer-outbound.ts).
 */
import type { Logger } from '../log.ts';
import { decodePeerFrame, encodePeerFrame, type PeerMessage } from '../protocol/peer-frame.ts';
import type { Clock } from '../lib/clock.ts';
import { closeActionOf, isMisbehaviour, type DisconnectReason } from './disconnect-reason.ts';
import type { FetchScheduler } from './fetch-scheduler.ts';
import type { InitialSync } from './initial-sync.ts';
import { InventoryPump } from './peer-inbound.ts';
import { RequestPipeline } from './peer-outbound.ts';
import { PeerSendQueue, type PeerSocket } from './peer-send-queue.ts';
import type { ReplicationMetrics } from './replication-metrics.ts';
import type { ReplicationSettings } from './replication-settings.ts';

/** The original sends and expects version 1 in HELLO/OLLEH. */
export const PEER_PROTOCOL_VERSION = 1;
/**
 * Frames are handed to the socket when the mailbox is about to run dry or this many wait: one
 * socket hand-over (and one completion message) per burst instead of one per frame.
 */
const FLUSH_BATCH_FRAMES = 64;

export type PeerRole = 'inbound' | 'outbound';

export type PeerCommand =
  | { readonly type: 'Start' }
  | { readonly type: 'FrameReceived'; readonly bytes: Uint8Array }
  /** every frame that arrived since the last turn, taken at once (one turn per burst) */
  | { readonly type: 'FramesReceived'; readonly take: () => Uint8Array[] }
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
  /**
   * the gossip path; resolves to the reply error (`none` = accepted or nothing to change),
   * rejects with a typed RsError when the route server refused it (busy)
   */
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
  /** answers handed to the gossip path whose outcome is not back yet */
  readonly applying: number;
  /** advertised hashes that did not fit the want list this session (read again by a Resync) */
  readonly deferred: number;
  readonly wanted: number;
  readonly wantQueue: number;
  readonly inventoryDone: boolean;
  readonly framesReceived: number;
}

/** What a session's halves (peer-inbound.ts, peer-outbound.ts) use of their session. */
export interface PeerSessionLink {
  readonly d: PeerSessionDeps;
  readonly closed: boolean;
  /** queue a frame; over a limit the peer is dropped (false) */
  send(msg: PeerMessage): boolean;
  drop(reason: DisconnectReason, detail: string): void;
  /** a sequence number for a request (counting from the session's start time, as the original) */
  nextSeq(): number;
  /** whether we ever handed out `seq` */
  issuedSeq(seq: number): boolean;
  /** frames waiting in the send queue */
  queuedFrames(): number;
  /** hand queued frames to the socket */
  flush(now: number): void;
}

export class PeerSession {
  closed = false;
  private greeted = false;
  private readonly seqBase: number;
  private seq: number;
  private lastMessageAt: number;
  private lastPingCycleAt: number;
  private paused = false;
  private readonly sendQueue: PeerSendQueue;
  private framesReceived = 0;
  /** the role's half: the inventory pump (inbound) or the request pipeline (outbound) */
  private readonly inbound: InventoryPump | undefined;
  private readonly outbound: RequestPipeline | undefined;

  constructor(private readonly d: PeerSessionDeps) {
    const now = d.clock.now();
    // as the original: sequence numbers start at the current time in ms (msgpack uint64)
    this.seqBase = now;
    this.seq = now;
    this.lastMessageAt = now;
    this.lastPingCycleAt = now;
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
    const isClosed = (): boolean => this.closed;
    const link: PeerSessionLink = {
      d,
      get closed() {
        return isClosed();
      },
      send: (msg) => this.send(msg),
      drop: (reason, detail) => this.drop(reason, detail),
      nextSeq: () => this.seq++,
      issuedSeq: (seq) => seq >= this.seqBase && seq < this.seq,
      queuedFrames: () => this.sendQueue.length,
      flush: (t) => this.sendQueue.flush(t),
    };
    this.inbound = d.role === 'inbound' ? new InventoryPump(link) : undefined;
    this.outbound = d.role === 'outbound' ? new RequestPipeline(link, now) : undefined;
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
      outstandingRequests: this.outbound?.outstanding ?? 0,
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
      outstanding: this.outbound?.outstanding ?? 0,
      applying: this.outbound?.applying ?? 0,
      deferred: this.outbound?.deferred ?? 0,
      wanted: this.d.scheduler.wanted(this.d.id),
      wantQueue: this.d.scheduler.queueLength(this.d.id),
      inventoryDone: this.inbound?.done ?? true,
      framesReceived: this.framesReceived,
    };
  }

  /** One actor turn. Never waits for the gossip path: outcomes are booked as they come. */
  handle(cmd: PeerCommand): void {
    if (this.closed) return;
    const now = this.d.clock.now();
    switch (cmd.type) {
      case 'Start':
        this.start(now);
        break;
      case 'FrameReceived':
        this.onFrame(cmd.bytes, now);
        break;
      case 'FramesReceived':
        for (const bytes of cmd.take()) {
          if (this.closed) break;
          this.onFrame(bytes, now);
        }
        break;
      case 'SocketFailed':
        this.drop(cmd.reason, cmd.detail);
        break;
      case 'SocketClosed':
        this.drop('RemoteClosed', `close code ${cmd.code}`);
        break;
      case 'Advertise':
        this.inbound?.advertise(cmd.hashes);
        break;
      case 'FetchReady':
        this.outbound?.onFetchReady();
        break; // the pipeline advances below
      case 'Drop':
        this.drop(cmd.reason, cmd.detail);
        break;
      case 'Drained':
        this.sendQueue.drained(cmd.frames, now);
        break;
      case 'Tick':
        this.tick(now);
        break;
    }
    if (this.closed) return;
    this.outbound?.advance(now);
    if (this.closed) return;
    if (
      this.d.mailboxDepth() <= 1 ||
      this.sendQueue.length >= FLUSH_BATCH_FRAMES ||
      cmd.type !== 'FrameReceived'
    )
      this.sendQueue.flush(now);
    this.inbound?.pump(now);
    this.updateReadFlow(now);
  }

  /** Drop from outside the actor (its mailbox overflowed, or it crashed). */
  forceDrop(reason: DisconnectReason, detail: string): void {
    this.drop(reason, detail);
  }

  private start(now: number): void {
    if (this.inbound) {
      this.send({ type: 'HELLO', seq: 0, version: PEER_PROTOCOL_VERSION });
      this.inbound.start();
    } else {
      this.send({ type: 'OLLEH', seq: 0, version: PEER_PROTOCOL_VERSION });
      this.outbound!.start(now);
    }
  }

  // ---- receiving -------------------------------------------------------------------------

  private onFrame(bytes: Uint8Array, now: number): void {
    let m: PeerMessage;
    try {
      // the INV length is checked against our own limit (InvTooLarge); the frame size bound
      // keeps the decoded list small either way
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
    const outbound = this.outbound;
    switch (m.type) {
      case 'HELLO':
      case 'OLLEH':
        if ((m.type === 'HELLO') !== (outbound !== undefined)) {
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
        outbound.onInv(m.hashes, now);
        return;
      case 'DATA':
        if (!outbound) {
          this.d.metrics.ignoredFrames.inc({ type: 'DATA' });
          return;
        }
        outbound.onData(m.seq, m.data);
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

  // ---- housekeeping ----------------------------------------------------------------------

  private tick(now: number): void {
    this.outbound?.expire(now);
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
      // §7.5; silence while we hold the socket paused is ours, not the peer's
      if (this.paused) this.lastMessageAt = now;
      const lag = now - this.lastMessageAt;
      if (lag > s.dropAfterMs) {
        this.drop('Idle', `silent for ${lag} ms`);
        return;
      }
      if (lag > s.pingAfterMs) this.send({ type: 'PING', seq: this.seq++ });
    }
    this.outbound?.checkSync(now, this.greeted);
  }

  /** Pause reading while we cannot keep up; resume once every cause is gone. */
  private updateReadFlow(now: number): void {
    const s = this.d.settings;
    // (a deep mailbox pauses the socket too: the peer actor does that at the socket, without waiting for a turn)
    let cause: string | undefined;
    if (this.sendQueue.length >= s.sendQueueLimit / 2) cause = 'send_queue';
    else cause = this.outbound?.readPauseCause(now);
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
    this.outbound?.release();
    this.d.scheduler.removePeer(this.d.id);
    this.sendQueue.clear();
    this.inbound?.release();
    // a Resync only interrupts the sync (the next session reads the inventory again); any other
    // end fails it: not settled, the next session retries it
    const syncFailed =
      reason === 'Resync'
        ? (this.d.sync?.interrupt(detail) ?? false)
        : (this.d.sync?.finish(
            'failed',
            now,
            `session ended before the sync settled: ${reason}: ${detail}`,
          ) ?? false);
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
