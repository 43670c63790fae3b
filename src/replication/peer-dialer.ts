/**
 * The dialer actor of one configured peer URL: dial, hand the open websocket to a peer actor,
 * and reconnect when the session ends — with exactly one reconnect timer. The original arms a
 * 10 s timer on 'error' and another 1 s timer on 'close', so an error followed by a close starts
 * two connections, each of which can do it again (a reconnect storm). Here every attempt settles
 * once (error and close of the same attempt are one failure), the timer slot holds at most one
 * timer, and the delay grows exponentially with jitter (reconnect-delay.ts): 1 s after a session that
 * lasted `stableSessionMs`, doubling per short-lived session; 10 s after a failed dial, doubling
 * per consecutive failure; capped by `reconnectMaxMs`.
 */
import { WebSocket } from 'ws';
import type { ActorRef, ActorSystem } from '../actors/actor-system.ts';
import { resumeAlways } from '../actors/supervision.ts';
import type { Logger } from '../log.ts';
import { reconnectDelayMs, type ReconnectCause } from './reconnect-delay.ts';
import type { ReplicationMetrics } from './replication-metrics.ts';
import type { ReplicationSettings } from './replication-settings.ts';

export type DialerState = 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped';

export interface PeerDialerDeps {
  readonly url: string;
  readonly settings: ReplicationSettings;
  readonly log: Logger;
  readonly metrics: ReplicationMetrics;
  /** uniform in [0, 1) (jitter) */
  readonly random?: () => number;
  /** monotonic-enough wall time for session lengths (default Date.now) */
  readonly now?: () => number;
  /** the websocket opened: start the outbound peer on it */
  readonly onOpen: (ws: WebSocket, remoteAddr: string) => void;
  /** a dial failed before the websocket opened */
  readonly onDialFailed?: (detail: string) => void;
}

export interface DialerStats {
  readonly url: string;
  readonly state: DialerState;
  readonly attempts: number;
  readonly failures: number;
  /** reconnect timers pending now (0 or 1) and the most ever pending at once */
  readonly timersArmed: number;
  readonly maxTimersArmed: number;
  /** reconnects scheduled in total (one per ended session or failed dial) */
  readonly scheduled: number;
  /** the most recent reconnect delays, oldest first */
  readonly delays: readonly number[];
}

const DELAY_HISTORY = 32;

/** actor names are unique per system (two URLs may sanitise alike) */
let dialerCount = 0;

type DialerCommand =
  | { readonly type: 'Start' }
  /** the reconnect timer fired */
  | { readonly type: 'Dial' }
  | {
      readonly type: 'Opened';
      readonly attempt: number;
      readonly ws: WebSocket;
      readonly remote: string;
    }
  | { readonly type: 'Failed'; readonly attempt: number; readonly detail: string }
  /** the outbound session on our socket ended (its peer actor closed) */
  | { readonly type: 'SessionEnded' }
  | { readonly type: 'Stop' };

/** The actor's state (only its handler touches it; `stats()` reads the view it writes). */
interface Dialer {
  state: DialerState;
  timer: NodeJS.Timeout | undefined;
  /** the socket of the attempt in progress, until it opened or failed */
  socket: WebSocket | undefined;
  attempts: number;
  failures: number;
  sessionStartedAt: number;
  pendingTimers: number;
  maxTimersArmed: number;
  scheduled: number;
  delays: number[];
}

export class PeerDialer {
  private readonly ref: ActorRef<DialerCommand>;
  private readonly random: () => number;
  private readonly now: () => number;
  private view: DialerStats;

  constructor(
    private readonly system: ActorSystem,
    private readonly d: PeerDialerDeps,
  ) {
    this.random = d.random ?? Math.random;
    this.now = d.now ?? Date.now;
    const initial: Dialer = {
      state: 'idle',
      timer: undefined,
      socket: undefined,
      attempts: 0,
      failures: 0,
      sessionStartedAt: 0,
      pendingTimers: 0,
      maxTimersArmed: 0,
      scheduled: 0,
      delays: [],
    };
    this.view = this.viewOf(initial);
    this.ref = system.spawn<Dialer, DialerCommand>({
      name: `dialer-${++dialerCount}-${d.url.replace(/[^0-9A-Za-z]/g, '_').slice(0, 80)}`,
      // created once: a crash resumes with the same timer slot and counters
      initialState: () => initial,
      handle: (st, msg) => {
        this.handle(st, msg);
        this.view = this.viewOf(st);
        return st;
      },
      supervision: resumeAlways,
      mailboxLimit: 64,
      onCrash: (err) =>
        d.log.error({ event: 'peer:dialer:crashed', url: d.url, err }, 'peer dialer crashed'),
    });
  }

  get url(): string {
    return this.d.url;
  }

  start(): void {
    this.system.tell(this.ref, { type: 'Start' });
  }

  /** The outbound session on our socket ended (the peer actor closed). */
  sessionEnded(): void {
    this.system.tell(this.ref, { type: 'SessionEnded' });
  }

  /** Stop dialing: the reconnect timer is cleared and a dial in progress is abandoned. */
  stop(): void {
    this.system.tell(this.ref, { type: 'Stop' });
  }

  stats(): DialerStats {
    return this.view;
  }

  private handle(st: Dialer, msg: DialerCommand): void {
    if (st.state === 'stopped') {
      // a socket that opened after we stopped is ours to close
      if (msg.type === 'Opened') msg.ws.terminate();
      return;
    }
    switch (msg.type) {
      case 'Start':
        if (st.state === 'idle') this.dial(st);
        return;
      case 'Dial':
        st.timer = undefined;
        st.pendingTimers--;
        this.dial(st);
        return;
      case 'Opened':
        if (msg.attempt !== st.attempts) {
          msg.ws.terminate();
          return;
        }
        st.socket = undefined;
        st.state = 'open';
        st.sessionStartedAt = this.now();
        this.d.metrics.dials.inc({ result: 'open' });
        this.d.log.info(
          { event: 'peer:ws:connected', url: this.d.url, addr: msg.remote, attempt: st.attempts },
          'connected to replication peer',
        );
        this.d.onOpen(msg.ws, msg.remote || new URL(this.d.url).hostname);
        msg.ws.resume();
        return;
      case 'Failed':
        if (msg.attempt !== st.attempts) return;
        st.socket = undefined;
        this.d.metrics.dials.inc({ result: 'failed' });
        this.d.log.warn(
          { event: 'peer:dial:failed', url: this.d.url, attempt: st.attempts, detail: msg.detail },
          'could not connect to replication peer',
        );
        st.failures++;
        this.d.onDialFailed?.(msg.detail);
        this.schedule(st, 'error');
        return;
      case 'SessionEnded': {
        const lasted = this.now() - st.sessionStartedAt;
        if (lasted >= this.d.settings.stableSessionMs) st.failures = 0;
        else st.failures++;
        this.schedule(st, 'closed');
        return;
      }
      case 'Stop':
        st.state = 'stopped';
        if (st.timer) {
          clearTimeout(st.timer);
          st.pendingTimers--;
        }
        st.timer = undefined;
        // an open socket belongs to its peer actor, which the service drops; a pending dial is ours
        if (st.socket && st.socket.readyState === WebSocket.CONNECTING) st.socket.terminate();
        st.socket = undefined;
        return;
    }
  }

  /** One attempt: its socket's events come back as Opened or Failed (once), tagged with it. */
  private dial(st: Dialer): void {
    st.state = 'connecting';
    const attempt = ++st.attempts;
    const { settings, url } = this.d;
    let settled = false;
    let remote = '';
    const settle = (cmd: DialerCommand): void => {
      if (settled) return;
      settled = true;
      this.system.tell(this.ref, cmd);
    };
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        perMessageDeflate: false,
        maxPayload: settings.maxFrameBytes,
        handshakeTimeout: settings.handshakeTimeoutMs,
      });
    } catch (e) {
      // a URL ws cannot use: retried with backoff like any failure (config validation checks the scheme)
      settle({ type: 'Failed', attempt, detail: e instanceof Error ? e.message : String(e) });
      return;
    }
    st.socket = ws;
    ws.on('upgrade', (res) => {
      remote = res.socket.remoteAddress ?? '';
    });
    // before 'open' the errors are ours; afterwards the peer actor has its own listeners
    ws.on('error', (err) => settle({ type: 'Failed', attempt, detail: err.message }));
    ws.on('close', (code) =>
      settle({
        type: 'Failed',
        attempt,
        detail: `closed (${code}) before the handshake completed`,
      }),
    );
    // read nothing until the peer actor listens (the actor hands the socket over on its turn)
    ws.once('open', () => {
      ws.pause();
      settle({ type: 'Opened', attempt, ws, remote });
    });
  }

  private schedule(st: Dialer, cause: ReconnectCause): void {
    if (st.timer) return; // never two
    const delay = reconnectDelayMs(this.d.settings, cause, st.failures, this.random);
    st.state = 'waiting';
    st.delays.push(delay);
    if (st.delays.length > DELAY_HISTORY) st.delays.shift();
    this.d.metrics.reconnectsScheduled.inc({ cause });
    this.d.log.info(
      {
        event: 'peer:dial:scheduled',
        url: this.d.url,
        cause,
        delayMs: delay,
        failures: st.failures,
      },
      'reconnecting to replication peer later',
    );
    st.scheduled++;
    st.pendingTimers++;
    st.maxTimersArmed = Math.max(st.maxTimersArmed, st.pendingTimers);
    st.timer = setTimeout(() => this.system.tell(this.ref, { type: 'Dial' }), delay);
    st.timer.unref();
  }

  private viewOf(st: Dialer): DialerStats {
    return {
      url: this.d.url,
      state: st.state,
      attempts: st.attempts,
      failures: st.failures,
      timersArmed: st.pendingTimers,
      maxTimersArmed: st.maxTimersArmed,
      scheduled: st.scheduled,
      delays: [...st.delays],
    };
  }
}
