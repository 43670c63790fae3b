/**
 * The replication peer actor: one per websocket, on the typed nact wrapper. Its state is the
 * PeerSession (src/replication/peer-session.ts) it owns and mutates — it holds a socket and
 * queues, nact's copy-on-write state would buy nothing. Supervision is stop-on-crash: a crash
 * drops the peer (reason Crashed) and the dialer, if any, reconnects.
 *
 * This file wires a `ws` socket to the actor: every message becomes a FrameReceived command,
 * socket errors and closes become commands too, and a per-peer timer posts Tick. The socket's
 * read side is paused while the mailbox is deeper than `readPauseMailbox` (checked as each frame
 * arrives, before the actor gets a turn) or while the session asks for it. The only calls from
 * outside the actor are reads (`info`, `stats`) and `forceDrop` when its mailbox overflows.
 */
import type { WebSocket } from 'ws';
import type { ActorRef, ActorSystem } from '../actors/actor-system.ts';
import { stopOnCrash } from '../actors/supervision.ts';
import type { DisconnectReason } from './disconnect-reason.ts';
import type { PeerSocket } from './peer-send-queue.ts';
import {
  PeerSession,
  type PeerCommand,
  type PeerRole,
  type PeerSessionDeps,
} from './peer-session.ts';

export type {
  PeerClosed,
  PeerCommand,
  PeerRole,
  PeerStats,
  PeerStore,
} from './peer-session.ts';

/** After a close frame, wait this long for the close handshake before terminating. */
const CLOSE_GRACE_MS = 2000;

// ---- the actor ---------------------------------------------------------------------------

export interface PeerHandle {
  readonly id: number;
  readonly role: PeerRole;
  readonly session: PeerSession;
  readonly ref: ActorRef<PeerCommand>;
  /** post a command; a full mailbox drops the peer (MailboxFull) */
  tell(cmd: PeerCommand): boolean;
  /** post an advisory command; a full mailbox just refuses it */
  nudge(cmd: PeerCommand): boolean;
}

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

/** Spawn the actor of an open websocket and wire the socket's events to it. */
export function spawnPeer(system: ActorSystem, ws: WebSocket, opts: SpawnPeerOptions): PeerHandle {
  const holder: { ref?: ActorRef<PeerCommand> } = {};
  const timer = setInterval(() => {
    if (holder.ref) system.tell(holder.ref, { type: 'Tick' });
  }, opts.settings.tickMs);
  timer.unref();
  const stopActor = (): void => {
    if (holder.ref) system.stop(holder.ref);
  };
  const gate: ReadGate = { session: false, mailbox: false };
  const depth = (): number => (holder.ref ? system.mailboxStats(holder.ref).pending : 0);
  const session: PeerSession = new PeerSession({
    ...opts,
    socket: adapt(ws, gate),
    mailboxDepth: depth,
    post: (cmd) => tell(cmd),
    onClosed: (closed) => {
      clearInterval(timer);
      opts.onClosed(closed);
    },
  });
  const ref = system.spawn<PeerSession, PeerCommand>({
    name: `peer-${opts.id}`,
    initialState: () => session,
    supervision: stopOnCrash,
    mailboxLimit: opts.settings.mailboxLimit,
    handle: async (s, msg) => {
      await s.handle(msg);
      if (s.closed) stopActor();
      else if (gate.mailbox && depth() <= opts.settings.readPauseMailbox / 2) {
        gate.mailbox = false;
        applyGate(ws, gate);
      }
      return s;
    },
    onCrash: (err) => {
      opts.log.error(
        { event: 'peer:actor:crashed', peer: opts.id, err },
        'replication peer actor crashed',
      );
      session.forceDrop('Crashed', err instanceof Error ? err.message : String(err));
    },
  });
  holder.ref = ref;

  /** Post to the actor; a full mailbox drops the peer (it outran us despite the paused socket). */
  function tell(cmd: PeerCommand, fallback: DisconnectReason = 'MailboxFull'): boolean {
    if (session.closed) return false;
    if (system.tell(ref, cmd)) return true;
    session.forceDrop(fallback, `mailbox full (${opts.settings.mailboxLimit}) at ${cmd.type}`);
    stopActor();
    return false;
  }

  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    if (!isBinary) {
      tell({ type: 'SocketFailed', reason: 'BadFrame', detail: 'text websocket message' });
      return;
    }
    const buf = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    if (
      !tell({
        type: 'FrameReceived',
        bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength),
      })
    )
      return;
    if (!gate.mailbox && depth() > opts.settings.readPauseMailbox) {
      gate.mailbox = true;
      applyGate(ws, gate);
      opts.metrics.throttled.inc({ cause: 'mailbox' });
    }
  });
  ws.on('error', (err: Error & { code?: string }) => {
    tell(
      { type: 'SocketFailed', reason: wsErrorReason(err), detail: err.message },
      wsErrorReason(err),
    );
  });
  ws.on('close', (code: number) => {
    tell({ type: 'SocketClosed', code }, 'RemoteClosed');
  });
  tell({ type: 'Start' });
  return {
    id: opts.id,
    role: opts.role,
    session,
    ref,
    tell: (cmd) => tell(cmd),
    nudge: (cmd) => !session.closed && system.tell(ref, cmd),
  };
}
