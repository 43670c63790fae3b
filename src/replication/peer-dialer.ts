/**
 * The outgoing side of one configured peer URL: dial, hand the open websocket to a peer actor,
 * and reconnect when the session ends — with exactly one reconnect timer. The original arms a
 * 10 s timer on 'error' and another 1 s timer on 'close', so an error followed by a close starts
 * two connections, each of which can do it again (a reconnect storm). Here every attempt settles
 * once (error and close of the same attempt are one failure), the timer slot holds at most one
 * timer, and the delay grows exponentially with jitter (reconnect-delay.ts): 1 s after a session that
 * lasted `stableSessionMs`, doubling per short-lived session; 10 s after a failed dial, doubling
 * per consecutive failure; capped by `reconnectMaxMs`.
 */
import { WebSocket } from 'ws';
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

export class PeerDialer {
  private state: DialerState = 'idle';
  private timer: NodeJS.Timeout | undefined;
  private socket: WebSocket | undefined;
  private attempts = 0;
  private failures = 0;
  private sessionStartedAt = 0;
  private pendingTimers = 0;
  private maxTimersArmed = 0;
  private scheduled = 0;
  private readonly delays: number[] = [];
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly d: PeerDialerDeps) {
    this.random = d.random ?? Math.random;
    this.now = d.now ?? Date.now;
  }

  get url(): string {
    return this.d.url;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.dial();
  }

  /** The outbound session on our socket ended (the peer actor closed). */
  sessionEnded(): void {
    if (this.state === 'stopped') return;
    this.socket = undefined;
    const lasted = this.now() - this.sessionStartedAt;
    if (lasted >= this.d.settings.stableSessionMs) this.failures = 0;
    else this.failures++;
    this.schedule('closed');
  }

  stop(): void {
    this.state = 'stopped';
    if (this.timer) {
      clearTimeout(this.timer);
      this.pendingTimers--;
    }
    this.timer = undefined;
    // an open socket belongs to its peer actor, which the service drops; a pending dial is ours
    if (this.socket && this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
    this.socket = undefined;
  }

  stats(): DialerStats {
    return {
      url: this.d.url,
      state: this.state,
      attempts: this.attempts,
      failures: this.failures,
      timersArmed: this.pendingTimers,
      maxTimersArmed: this.maxTimersArmed,
      scheduled: this.scheduled,
      delays: [...this.delays],
    };
  }

  private dial(): void {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    this.attempts++;
    const { settings, log, metrics, url } = this.d;
    let settled = false;
    let remote = '';
    let ws: WebSocket;
    const fail = (detail: string): void => {
      if (settled) return;
      settled = true;
      if (this.socket === ws) this.socket = undefined;
      metrics.dials.inc({ result: 'failed' });
      log.warn(
        { event: 'peer:dial:failed', url, attempt: this.attempts, detail },
        'could not connect to replication peer',
      );
      this.failures++;
      this.d.onDialFailed?.(detail);
      this.schedule('error');
    };
    try {
      ws = new WebSocket(url, {
        perMessageDeflate: false,
        maxPayload: settings.maxFrameBytes,
        handshakeTimeout: settings.handshakeTimeoutMs,
      });
    } catch (e) {
      // a URL ws cannot use: retried with backoff like any failure (config validation checks the scheme)
      ws = undefined as unknown as WebSocket;
      fail(e instanceof Error ? e.message : String(e));
      return;
    }
    this.socket = ws;
    ws.on('upgrade', (res) => {
      remote = res.socket.remoteAddress ?? '';
    });
    // before 'open' the errors are ours; afterwards the peer actor has its own listeners
    ws.on('error', (err) => fail(err.message));
    ws.on('close', (code) => fail(`closed (${code}) before the handshake completed`));
    ws.once('open', () => {
      if (settled || this.state === 'stopped') {
        ws.terminate();
        return;
      }
      settled = true;
      this.state = 'open';
      this.sessionStartedAt = this.now();
      metrics.dials.inc({ result: 'open' });
      log.info(
        { event: 'peer:ws:connected', url, addr: remote, attempt: this.attempts },
        'connected to replication peer',
      );
      this.d.onOpen(ws, remote || new URL(url).hostname);
    });
  }

  private schedule(cause: ReconnectCause): void {
    if (this.state === 'stopped') return;
    if (this.timer) return; // never two
    const delay = reconnectDelayMs(this.d.settings, cause, this.failures, this.random);
    this.state = 'waiting';
    this.delays.push(delay);
    if (this.delays.length > DELAY_HISTORY) this.delays.shift();
    this.d.metrics.reconnectsScheduled.inc({ cause });
    this.d.log.info(
      {
        event: 'peer:dial:scheduled',
        url: this.d.url,
        cause,
        delayMs: delay,
        failures: this.failures,
      },
      'reconnecting to replication peer later',
    );
    this.scheduled++;
    this.pendingTimers++;
    this.maxTimersArmed = Math.max(this.maxTimersArmed, this.pendingTimers);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pendingTimers--;
      this.dial();
    }, delay);
    this.timer.unref();
  }
}
