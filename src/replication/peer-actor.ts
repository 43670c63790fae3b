/**
 * The replication peer actor: one per websocket, on the typed nact wrapper. Its state is the
 * PeerSession (src/replication/peer-session.ts) it owns and mutates — it holds a socket and
 * queues, nact's copy-on-write state would buy nothing. Supervision is stop-on-crash: a crash
 * drops the peer (reason Crashed) and the dialer, if any, reconnects.
 *
 * This file wires a `ws` socket to the actor: frames go to an inbox, and one FramesReceived
 * command takes the frames that arrived since the actor's last turn, at most `FRAMES_PER_TURN`
 * of them (nact runs one message per actor per event-loop turn: a command per frame would cost
 * a turn per announcement, and a turn for a whole burst holds the main thread too long:
 * frame-inbox.ts; what is left is taken by the next FramesReceived, told at once), socket
 * errors and closes become commands too, and a per-peer timer posts Tick. The socket's read side
 * is paused while more than `readPauseMailbox` frames or messages wait (checked as each frame
 * arrives, before the actor gets a turn) or while the session asks for it; more than
 * `mailboxLimit` drops the peer (MailboxFull). The facade's methods
 * are the only way in; the only calls from outside the actor into the session are reads (`info`,
 * `stats`) and `forceDrop` when its mailbox overflows.
 */
import type { WebSocket } from 'ws';
import type { ActorRef, ActorSystem } from '../actors/actor-system.ts';
import { stopOnCrash } from '../actors/supervision.ts';
import { FrameInbox } from './frame-inbox.ts';
import type { DisconnectReason } from './disconnect-reason.ts';
import type { PeerSocket } from './peer-send-queue.ts';
import {
  PeerSession,
  type PeerCommand,
  type PeerRole,
  type PeerSessionDeps,
} from './peer-session.ts';

export type { PeerClosed, PeerCommand, PeerRole, PeerStats, PeerStore } from './peer-session.ts';

/** After a close frame, wait this long for the close handshake before terminating. */
const CLOSE_GRACE_MS = 2000;

// ---- the actor ---------------------------------------------------------------------------

export type SpawnPeerOptions = Omit<PeerSessionDeps, 'socket' | 'post' | 'mailboxDepth'>;

function wsErrorReason(err: Error & { code?: string }): DisconnectReason {
  if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return 'FrameTooLarge';
  if (typeof err.code === 'string' && err.code.startsWith('WS_ERR_')) return 'BadFrame';
  return 'SocketError';
}

/**
 * The socket's read side is paused while the session asks for it (send queue, want list, INV
 * rate) or while the mailbox is deeper than `readPauseMailbox` (checked as each frame arrives).
 */
interface ReadGate {
  session: boolean;
  mailbox: boolean;
}

function applyGate(ws: WebSocket, gate: ReadGate): void {
  const want = gate.session || gate.mailbox;
  if (want && !ws.isPaused) ws.pause();
  else if (!want && ws.isPaused) ws.resume();
}

function adapt(ws: WebSocket, gate: ReadGate): PeerSocket {
  return {
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    send: (data, cb) => {
      try {
        ws.send(data, { binary: true }, cb);
      } catch (e) {
        cb(e as Error);
      }
    },
    // ws has no cork of its own; its frames go to the TCP socket it wraps (`_socket`), where a
    // corked hand-over leaves in one write instead of one write per frame
    cork: () => (ws as unknown as { _socket?: { cork(): void } })._socket?.cork(),
    uncork: () => (ws as unknown as { _socket?: { uncork(): void } })._socket?.uncork(),
    pause: () => {
      gate.session = true;
      applyGate(ws, gate);
    },
    resume: () => {
      gate.session = false;
      applyGate(ws, gate);
    },
    close: (code, reason) => {
      ws.close(code, reason);
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    },
    terminate: () => ws.terminate(),
  };
}

/** The actor of one open websocket (the facade: its methods are the only way in). */
export class PeerActor {
  readonly id: number;
  readonly role: PeerRole;
  readonly session: PeerSession;
  readonly ref: ActorRef<PeerCommand>;
  private readonly gate: ReadGate = { session: false, mailbox: false };
  private readonly timer: NodeJS.Timeout;
  /** frames received and not yet taken by a FramesReceived turn */
  private readonly inbox = new FrameInbox();

  constructor(
    private readonly system: ActorSystem,
    private readonly ws: WebSocket,
    private readonly opts: SpawnPeerOptions,
  ) {
    this.id = opts.id;
    this.role = opts.role;
    // the session (the actor's state) posts to its own mailbox and reads its depth: both go
    // through `this.ref`, assigned below before any message can arrive
    this.session = new PeerSession({
      ...opts,
      socket: adapt(ws, this.gate),
      mailboxDepth: () => this.depth(),
      post: (cmd) => this.tell(cmd),
      onClosed: (closed) => {
        clearInterval(this.timer);
        opts.onClosed(closed);
      },
    });
    this.timer = setInterval(() => system.tell(this.ref, { type: 'Tick' }), opts.settings.tickMs);
    this.timer.unref();
    this.ref = system.spawn<PeerSession, PeerCommand>({
      name: `peer-${opts.id}`,
      initialState: () => this.session,
      supervision: stopOnCrash,
      mailboxLimit: opts.settings.mailboxLimit,
      handle: (session, msg) => {
        session.handle(msg);
        if (session.closed) system.stop(this.ref);
        else if (this.gate.mailbox && this.depth() <= opts.settings.readPauseMailbox / 2) {
          this.gate.mailbox = false;
          applyGate(ws, this.gate);
        }
        return session;
      },
      onCrash: (err) => {
        opts.log.error(
          { event: 'peer:actor:crashed', peer: opts.id, err },
          'replication peer actor crashed',
        );
        this.session.forceDrop('Crashed', err instanceof Error ? err.message : String(err));
      },
    });
    this.wire();
    this.tell({ type: 'Start' });
  }

  /** Post a command; a full mailbox drops the peer (it outran us despite the paused socket). */
  tell(cmd: PeerCommand, fallback: DisconnectReason = 'MailboxFull'): boolean {
    if (this.session.closed) return false;
    if (this.system.tell(this.ref, cmd)) return true;
    this.session.forceDrop(
      fallback,
      `mailbox full (${this.opts.settings.mailboxLimit}) at ${cmd.type}`,
    );
    this.system.stop(this.ref);
    return false;
  }

  /** Post an advisory command; a full mailbox just refuses it. */
  nudge(cmd: PeerCommand): boolean {
    return !this.session.closed && this.system.tell(this.ref, cmd);
  }

  /** Drop the peer from outside (shutdown). */
  drop(reason: DisconnectReason, detail: string): void {
    this.session.forceDrop(reason, detail);
    this.system.stop(this.ref);
  }

  /** Messages waiting for the actor, and frames received since its last FramesReceived turn. */
  private depth(): number {
    return (this.ref ? this.system.mailboxStats(this.ref).pending : 0) + this.inbox.length;
  }

  /** The oldest frames received (one turn's worth); another turn is asked for the rest. */
  private takeInbox(): Uint8Array[] {
    const { frames, more } = this.inbox.take();
    if (more) this.tellFramesReceived();
    return frames;
  }

  private tellFramesReceived(): boolean {
    return this.tell({ type: 'FramesReceived', take: () => this.takeInbox() });
  }

  /** The socket's events become commands. */
  private wire(): void {
    const { ws, gate, opts } = this;
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (!isBinary) {
        this.tell({ type: 'SocketFailed', reason: 'BadFrame', detail: 'text websocket message' });
        return;
      }
      if (this.session.closed) return;
      const buf = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      if (this.inbox.push(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))) {
        if (!this.tellFramesReceived()) return;
      } else if (this.depth() > opts.settings.mailboxLimit) {
        this.drop(
          'MailboxFull',
          `${this.inbox.length} frames waiting (mailbox ${opts.settings.mailboxLimit})`,
        );
        return;
      }
      if (!gate.mailbox && this.depth() > opts.settings.readPauseMailbox) {
        gate.mailbox = true;
        applyGate(ws, gate);
        opts.metrics.throttled.inc({ cause: 'mailbox' });
      }
    });
    ws.on('error', (err: Error & { code?: string }) => {
      this.tell(
        { type: 'SocketFailed', reason: wsErrorReason(err), detail: err.message },
        wsErrorReason(err),
      );
    });
    ws.on('close', (code: number) => {
      this.tell({ type: 'SocketClosed', code }, 'RemoteClosed');
    });
  }
}
