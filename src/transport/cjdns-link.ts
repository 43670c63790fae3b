/**
 * The cjdns link: the session with the local cjdroute (docs/protocol.md §6.1, §6.2).
 *
 * State machine. Not an actor, deliberately (docs/architecture-notes.md "Actors"): this object
 * owns all of its state, and every async result (an attach step, the watchdog) is guarded by
 * a generation number so a stale one is dropped — an actor's discipline without a mailbox,
 * because datagrams are answered concurrently (up to CJDNS_MAX_FRAMES_IN_FLIGHT, each waiting
 * for the route server) and callers read `state` synchronously. All I/O goes through the
 * injected admin API, socket binder and route server:
 *
 *   detached ──start()──> attaching ──ok──> attached ──watchdog fails──> lost
 *                             ^   └──fails──> lost                         │
 *                             └────────── backoff timer ───────────────────┘
 *   any state ──stop()──> detached
 *
 * Attaching: `Core_nodeInfo` → our identity (key and version from `myAddr`, checked against
 * `myIp6`) → `RouteServer.setIdentity`; then a handler socket for content type 256 (CJDHT): the
 * one we already hold (re-registered if cjdroute forgot it), else the port of an existing type-256
 * handler that we can bind (how cjdnsniff reuses the handler of a previous run), else a random
 * port registered with `UpperDistributor_registerHandler` — on the node's own IPv6 (its TUN
 * address, where cjdns delivers) unless `bindAddress` says otherwise.
 * Attached: every `watchdogIntervalMs` `UpperDistributor_listHandlers(0)` (and further pages while
 * there are more) must list our port; an error, a timeout or a missing port (cjdroute restarted)
 * → lost. From lost, the next attempt follows an exponential backoff with jitter, capped.
 * Nothing here throws out of a timer or a socket callback.
 *
 * Handler socket: each datagram from `[fc00::1]:1` (cjdns' TUN source; anything else is dropped
 * as `foreign`) goes through handleHandlerFrame to the route server; a reply is sent from the
 * same socket to `[fc00::1]:1` (cjdns routes it into its TUN device, so the TUN interface must be
 * up; tests inject another address, which is then also the only accepted source).
 */
import { Registry } from 'prom-client';
import { RsError, isRsError } from '../errors.ts';
import { backoffDelayMs } from '../lib/backoff.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { HandlerEntry, NodeInfo } from '../protocol/admin-frame.ts';
import { CONTENT_TYPE_CJDHT } from '../protocol/wire-headers.ts';
import { handleHandlerFrame } from '../server/handler-frame.ts';
import type { SelfIdentity } from '../server/identity.ts';
import { AdminClient, HANDLERS_MAX_PAGES } from './admin-client.ts';
import { resolveAdminCredentials } from './admin-credentials.ts';
import { CjdnsLinkMetrics } from './cjdns-link-metrics.ts';
import type { CjdnsSettings } from './cjdns-settings.ts';
import {
  CJDNS_MAX_FRAMES_IN_FLIGHT,
  CJDNS_REATTACH_MAX_DELAY_MS,
  CJDNS_REATTACH_MIN_DELAY_MS,
  CJDNS_REPLY_ADDRESS,
  CJDNS_REPLY_PORT,
  CJDNS_WATCHDOG_INTERVAL_MS,
  type BindHandlerSocket,
  type CjdnsAdminApi,
  type CjdnsLinkDeps,
  type CjdnsLinkEvent,
  type CjdnsLinkOptions,
  type CjdnsLinkServer,
  type CjdnsLinkState,
  type CjdnsLinkStatus,
  type FrameResult,
  type HandlerSocket,
} from './cjdns-link-types.ts';
import { identityFromNodeInfo } from './cjdns-node-identity.ts';
import { bindUdpHandlerSocket } from './handler-socket.ts';

export * from './cjdns-link-types.ts';
export { identityFromNodeInfo } from './cjdns-node-identity.ts';
export { bindUdpHandlerSocket } from './handler-socket.ts';

function describeError(e: unknown): string {
  if (isRsError(e)) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

export class CjdnsLink {
  private readonly admin: CjdnsAdminApi;
  private readonly server: CjdnsLinkServer;
  private readonly bindSocket: BindHandlerSocket;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly metrics: CjdnsLinkMetrics;
  private readonly watchdogIntervalMs: number;
  private readonly reattachMinDelayMs: number;
  private readonly reattachMaxDelayMs: number;
  private readonly replyAddress: string;
  private readonly replyPort: number;
  /** configured handler address; undefined = the cjdns node's own IPv6 */
  private readonly bindAddress: string | undefined;
  /** the address the current socket is bound to */
  private socketAddress: string | undefined;
  private readonly maxFramesInFlight: number;
  private readonly expectedKey: string | undefined;

  private current: CjdnsLinkState = 'detached';
  /** bumped by start() and stop(): results of older async work are dropped */
  private generation = 0;
  private socket: HandlerSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** consecutive failed attempts (the backoff exponent) */
  private failures = 0;
  private attachedOnce = false;
  private attachedAt: number | null = null;
  private reattachCount = 0;
  private lastError: string | null = null;
  private node: NodeInfo | undefined;
  private identity: SelfIdentity | undefined;
  private framesInFlight = 0;
  private replyFailing = false;
  private readonly listeners = new Set<(e: CjdnsLinkEvent) => void>();

  constructor(deps: CjdnsLinkDeps, opts: CjdnsLinkOptions = {}) {
    this.admin = deps.admin;
    this.server = deps.server;
    this.bindSocket = deps.bindSocket ?? bindUdpHandlerSocket;
    this.log = deps.log ?? silentLogger();
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.metrics = new CjdnsLinkMetrics(deps.registry ?? new Registry(), () => this.current);
    this.watchdogIntervalMs = opts.watchdogIntervalMs ?? CJDNS_WATCHDOG_INTERVAL_MS;
    this.reattachMinDelayMs = opts.reattachMinDelayMs ?? CJDNS_REATTACH_MIN_DELAY_MS;
    this.reattachMaxDelayMs = Math.max(
      this.reattachMinDelayMs,
      opts.reattachMaxDelayMs ?? CJDNS_REATTACH_MAX_DELAY_MS,
    );
    this.replyAddress = opts.replyAddress ?? CJDNS_REPLY_ADDRESS;
    this.replyPort = opts.replyPort ?? CJDNS_REPLY_PORT;
    this.bindAddress = opts.bindAddress;
    this.maxFramesInFlight = opts.maxFramesInFlight ?? CJDNS_MAX_FRAMES_IN_FLIGHT;
    this.expectedKey = opts.expectedKey;
  }

  get state(): CjdnsLinkState {
    return this.current;
  }

  /** Listen to state changes, attachments, losses and frames; returns the unsubscribe function. */
  addListener(fn: (e: CjdnsLinkEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  status(): CjdnsLinkStatus {
    const id = this.identity;
    return {
      state: this.current,
      adminAddr: this.admin.endpoint,
      handlerPort: this.socket?.port ?? null,
      attachedAt: this.attachedAt === null ? null : new Date(this.attachedAt).toISOString(),
      reattaches: this.reattachCount,
      lastError: this.lastError,
      node:
        id && this.node
          ? {
              key: id.key,
              ipv6: id.ipv6,
              version: id.version,
              encodingScheme: this.node.compressedSchemeHex,
            }
          : null,
    };
  }

  /** detached → attaching; does nothing in any other state. Never throws. */
  start(): void {
    if (this.current !== 'detached') return;
    this.generation++;
    this.failures = 0;
    this.beginAttach(this.generation);
  }

  /**
   * Cancel timers, close the handler socket, → detached. The handler stays registered unless
   * `unregister` (as in the original: the next run finds it and binds its port again).
   */
  async stop(opts: { unregister?: boolean } = {}): Promise<void> {
    this.generation++;
    this.clearTimer();
    const socket = this.socket;
    const wasAttached = this.current === 'attached';
    this.socket = undefined;
    this.attachedAt = null;
    this.setState('detached');
    if (!socket) return;
    if (opts.unregister && wasAttached) {
      try {
        await this.admin.unregisterHandler(socket.port);
      } catch (e) {
        this.log.warn(
          { event: 'cjdns:handler:unregister_failed', err: describeError(e), port: socket.port },
          'could not unregister the handler',
        );
      }
    }
    await socket.close();
    this.log.info({ event: 'cjdns:link:stopped', handlerPort: socket.port }, 'cjdns link stopped');
  }

  // ---- state machine --------------------------------------------------------------------------

  private setState(to: CjdnsLinkState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.emit({ type: 'state', from, to });
  }

  private emit(e: CjdnsLinkEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch (err) {
        this.log.error({ event: 'cjdns:link:listener_failed', err }, 'cjdns link listener threw');
      }
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(gen: number, delayMs: number, fn: () => void): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (gen === this.generation) fn();
    }, delayMs);
    this.timer.unref();
  }

  /** Exponential backoff with "equal jitter": half fixed, half random, capped. */
  private nextDelay(): number {
    const backoff = {
      baseMs: this.reattachMinDelayMs,
      maxMs: this.reattachMaxDelayMs,
      jitter: 'equal',
    } as const;
    return backoffDelayMs(backoff, this.failures++, this.random);
  }

  private beginAttach(gen: number): void {
    this.setState('attaching');
    this.log.debug(
      { event: 'cjdns:link:attaching', admin: this.admin.endpoint },
      'attaching to cjdroute',
    );
    this.attach(gen)
      .then(
        (done) => {
          if (done && gen === this.generation) this.onAttached(gen);
        },
        (err: unknown) => {
          if (gen === this.generation) this.onAttachFailed(gen, err);
        },
      )
      .catch((err: unknown) => this.bug(err));
  }

  /** A throw from our own transition code: log it, never let it escape a timer. */
  private bug(err: unknown): void {
    this.log.error({ event: 'cjdns:link:bug', err }, 'cjdns link state machine failed');
  }

  private onAttached(gen: number): void {
    const reattach = this.attachedOnce;
    this.attachedOnce = true;
    this.failures = 0;
    this.lastError = null;
    this.attachedAt = this.now();
    if (reattach) {
      this.reattachCount++;
      this.metrics.reattaches.inc();
    }
    this.setState('attached');
    const id = this.identity!;
    const handlerPort = this.socket!.port;
    this.log.info(
      {
        event: 'cjdns:link:attached',
        admin: this.admin.endpoint,
        handlerPort,
        key: id.key,
        ipv6: id.ipv6,
        version: id.version,
        reattach,
      },
      'attached to cjdroute',
    );
    this.emit({ type: 'attached', handlerPort, identity: id, reattach });
    this.schedule(gen, this.watchdogIntervalMs, () => this.watchdog(gen));
  }

  private onAttachFailed(gen: number, err: unknown): void {
    this.lastError = describeError(err);
    this.metrics.attachFailures.inc();
    const retryInMs = this.nextDelay();
    this.setState('lost');
    const level = isRsError(err) ? 'warn' : 'error'; // anything but an RsError is a bug
    this.log[level](
      {
        event: 'cjdns:link:attach_failed',
        admin: this.admin.endpoint,
        err: this.lastError,
        retryInMs,
      },
      'could not attach to cjdroute',
    );
    this.emit({ type: 'attach_failed', error: this.lastError, retryInMs });
    this.schedule(gen, retryInMs, () => this.beginAttach(gen));
  }

  private onLost(gen: number, reason: string): void {
    this.lastError = reason;
    this.attachedAt = null;
    this.metrics.losses.inc();
    const retryInMs = this.nextDelay();
    this.setState('lost');
    this.log.warn(
      { event: 'cjdns:link:lost', admin: this.admin.endpoint, reason, retryInMs },
      'lost the cjdns link, re-attaching',
    );
    this.emit({ type: 'lost', reason, retryInMs });
    this.schedule(gen, retryInMs, () => this.beginAttach(gen));
  }

  private watchdog(gen: number): void {
    const socket = this.socket;
    if (this.current !== 'attached' || !socket) return;
    // one attempt per check (no retries): a dead cjdroute is noticed within interval + call timeout
    this.isRegistered(socket.port, { retries: 0 })
      .then(
        (found) => {
          if (gen !== this.generation) return;
          if (found) this.schedule(gen, this.watchdogIntervalMs, () => this.watchdog(gen));
          else
            this.onLost(
              gen,
              `handler port ${socket.port} is no longer registered (cjdroute restarted?)`,
            );
        },
        (err: unknown) => {
          if (gen === this.generation) this.onLost(gen, describeError(err));
        },
      )
      .catch((err: unknown) => this.bug(err));
  }

  // ---- attach steps ---------------------------------------------------------------------------

  /** Resolves true when attached, false when a stop()/start() made this attempt stale. */
  private async attach(gen: number): Promise<boolean> {
    const info = await this.admin.nodeInfo();
    const identity = identityFromNodeInfo(info);
    if (this.expectedKey !== undefined && identity.key !== this.expectedKey) {
      throw new RsError(
        'RS_ERR_CONFIG_INVALID',
        `cjdroute is node ${identity.key}, but identity.publicKey is ${this.expectedKey}`,
      );
    }
    if (gen !== this.generation) return false;
    this.node = info;
    this.identity = identity;
    this.server.setIdentity(identity);

    if (this.socket && this.socketAddress !== this.handlerAddress()) {
      // the node's address changed (another key): the socket listens where nothing arrives
      await this.socket.close();
      this.socket = undefined;
    }
    if (this.socket) {
      // cjdroute may have restarted: our socket is fine, make sure it is (still) registered
      if (!(await this.isRegistered(this.socket.port))) await this.register(this.socket.port);
      return gen === this.generation;
    }
    let socket: HandlerSocket | undefined;
    for (const h of await this.listCjdhtHandlers()) {
      socket = await this.tryBind(h.udpPort);
      if (socket) break;
    }
    const reused = socket !== undefined;
    if (!socket) {
      try {
        socket = await this.bind(0);
      } catch (e) {
        throw new RsError(
          'RS_ERR_CJDNS_HANDLER',
          `cannot bind a handler socket on ${this.handlerAddress()}: ${(e as Error).message}${this.bindAddress === undefined ? ' (is the cjdns TUN interface up?)' : ''}`,
          { cause: e },
        );
      }
    }
    if (gen !== this.generation) {
      await socket.close();
      return false;
    }
    this.socket = socket;
    this.socketAddress = this.handlerAddress();
    if (!reused) await this.register(socket.port);
    else
      this.log.info(
        { event: 'cjdns:handler:reused', port: socket.port },
        'bound the port of an existing CJDHT handler',
      );
    return gen === this.generation;
  }

  /** Where the handler socket binds: as configured, else the node's own IPv6 (the TUN address). */
  private handlerAddress(): string {
    return this.bindAddress ?? this.identity!.ipv6;
  }

  /**
   * Bind the handler socket; only datagrams from the reply address (cjdns' TUN source,
   * [fc00::1]:1) reach the route server, anything else is dropped and counted as `foreign`.
   */
  private bind(port: number): Promise<HandlerSocket> {
    let socket: HandlerSocket | undefined;
    const onDatagram = (bytes: Uint8Array): void => {
      if (socket) this.onDatagram(bytes, socket);
    };
    return this.bindSocket({
      address: this.handlerAddress(),
      port,
      onDatagram,
      acceptFrom: { address: this.replyAddress, port: this.replyPort },
      onForeign: (from) => {
        this.countFrame('foreign');
        this.log.debug(
          {
            event: 'cjdns:frame:foreign',
            from: `[${from.address}]:${from.port}`,
            bytes: from.bytes,
          },
          'dropped a datagram that did not come from cjdns',
        );
      },
      log: this.log,
    }).then((s) => (socket = s));
  }

  /** The socket, or undefined when the port is taken or not ours to bind. */
  private async tryBind(port: number): Promise<HandlerSocket | undefined> {
    try {
      return await this.bind(port);
    } catch (e) {
      this.log.debug(
        { event: 'cjdns:handler:port_busy', port, err: (e as Error).message },
        'cannot bind an existing handler port',
      );
      return undefined;
    }
  }

  private async register(port: number): Promise<void> {
    try {
      await this.admin.registerHandler(CONTENT_TYPE_CJDHT, port);
    } catch (e) {
      // a retried call whose first attempt got through: the port is ours already
      const already =
        isRsError(e) &&
        e.code === 'RS_ERR_ADMIN_CALL' &&
        e.context?.error === 'UpperDistributor_registerHandler_PORT_REGISTERED';
      if (already && (await this.isRegistered(port))) return;
      throw e;
    }
    this.log.info({ event: 'cjdns:handler:registered', port }, 'registered the CJDHT handler');
  }

  /** `UpperDistributor_listHandlers` page by page, from page 0, while cjdns says there is more. */
  private async *handlerPages(opts: { retries?: number } = {}): AsyncGenerator<HandlerEntry[]> {
    for (let page = 0; page < HANDLERS_MAX_PAGES; page++) {
      const { handlers, more } = await this.admin.listHandlers(page, opts);
      yield handlers;
      if (!more || handlers.length === 0) return;
    }
  }

  /** Every handler of content type 256. */
  private async listCjdhtHandlers(): Promise<HandlerEntry[]> {
    const out: HandlerEntry[] = [];
    for await (const handlers of this.handlerPages()) {
      out.push(...handlers.filter((h) => h.type === CONTENT_TYPE_CJDHT));
    }
    return out;
  }

  /** Whether `port` is registered as a type-256 handler (stops at the page that lists it). */
  private async isRegistered(port: number, opts: { retries?: number } = {}): Promise<boolean> {
    for await (const handlers of this.handlerPages(opts)) {
      if (handlers.some((h) => h.udpPort === port && h.type === CONTENT_TYPE_CJDHT)) return true;
    }
    return false;
  }

  // ---- handler frames -------------------------------------------------------------------------

  private onDatagram(bytes: Uint8Array, socket: HandlerSocket): void {
    if (this.framesInFlight >= this.maxFramesInFlight) {
      this.countFrame('dropped');
      return;
    }
    this.framesInFlight++;
    this.handleFrame(bytes, socket)
      .catch((err: unknown) => {
        this.countFrame('error');
        this.log.error({ event: 'cjdns:frame:failed', err }, 'handling a cjdns frame failed');
      })
      .finally(() => this.framesInFlight--);
  }

  private async handleFrame(bytes: Uint8Array, socket: HandlerSocket): Promise<void> {
    const outcome = await handleHandlerFrame(bytes, (dict, sender) =>
      this.server.handleSubnodeQueryResult(dict, sender),
    );
    this.countFrame(outcome.kind);
    if (outcome.kind === 'malformed') {
      this.log.debug(
        { event: 'cjdns:frame:malformed', reason: outcome.reason, bytes: bytes.length },
        'dropped a malformed frame',
      );
    }
    if (outcome.kind !== 'reply') return;
    try {
      await socket.send(outcome.frame, this.replyPort, this.replyAddress);
      this.replyFailing = false;
    } catch (e) {
      this.metrics.replySendErrors.inc();
      // the first failure in a row is a warning (TUN down?), the rest are noise
      const level = this.replyFailing ? 'debug' : 'warn';
      this.replyFailing = true;
      this.log[level](
        {
          event: 'cjdns:reply:send_failed',
          to: `[${this.replyAddress}]:${this.replyPort}`,
          err: (e as Error).message,
        },
        'cannot send a reply to cjdns (is the cjdns TUN interface up?)',
      );
    }
  }

  private countFrame(result: FrameResult): void {
    this.metrics.frames.inc({ result });
    if (this.listeners.size > 0) this.emit({ type: 'frame', result });
  }
}

/**
 * The link as `snode serve --cjdns` runs it: credentials (config/flags over `~/.cjdnsadmin` over
 * cjdns's defaults), an AdminClient, and the link, started. `close()` stops both.
 * Throws RS_ERR_CONFIG_INVALID for an unreadable or invalid admin file.
 */
export function openCjdnsLink(
  cfg: Readonly<CjdnsSettings>,
  deps: {
    server: CjdnsLinkServer;
    log: Logger;
    registry?: Registry;
    home?: string;
    expectedKey?: string | undefined;
  },
): { link: CjdnsLink; admin: AdminClient; close(): Promise<void> } {
  const credentials = resolveAdminCredentials({
    addr: cfg.adminAddr,
    port: cfg.adminPort,
    password: cfg.adminPassword,
    file: cfg.adminFile,
    home: deps.home,
  });
  const admin = new AdminClient({
    addr: credentials.addr,
    port: credentials.port,
    password: credentials.password,
    timeoutMs: cfg.callTimeoutMs,
    retries: cfg.callRetries,
    log: deps.log,
  });
  deps.log.info(
    { event: 'cjdns:admin:configured', admin: admin.endpoint, source: credentials.source },
    'cjdns admin API endpoint',
  );
  const link = new CjdnsLink(
    {
      admin,
      server: deps.server,
      log: deps.log,
      ...(deps.registry ? { registry: deps.registry } : {}),
    },
    {
      watchdogIntervalMs: cfg.watchdogIntervalMs,
      reattachMaxDelayMs: cfg.reattachMaxDelayMs,
      replyAddress: cfg.replyAddress,
      replyPort: cfg.replyPort,
      bindAddress: cfg.handlerBindAddress,
      expectedKey: deps.expectedKey,
    },
  );
  link.start();
  return {
    link,
    admin,
    close: async () => {
      await link.stop();
      await admin.close();
    },
  };
}
