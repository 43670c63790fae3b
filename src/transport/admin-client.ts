/**
 * cjdns admin API client over UDP (docs/protocol.md §6.1): one datagram per request, replies matched
 * by `txid`, cookie + sha256 auth, per-exchange timeout with retries, and a bounded number of
 * calls in flight. The frames themselves are built and parsed by protocol/admin-frame.ts.
 *
 * Differences from the anchors, on purpose:
 * - IPv6 admin addresses work (udp6 when the address contains ':'; the Rust port was IPv4-only);
 * - a datagram that is not a bencoded reply, carries no known txid, or comes from anywhere but
 *   the admin endpoint is counted and dropped (cjdnsadmin threw inside the socket callback);
 * - a timed-out call is retried with a new cookie and txid (cjdnsadmin failed it at once).
 *
 * Every call authenticates (cookie, then `q: "auth"`), as cjdnsadmin does whenever it has a
 * password; cjdns accepts an authenticated request for any function. `{auth: false}` sends a plain
 * query for the few functions that do not need it (`ping`).
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { RsError, isRsError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import {
  type AdminArgs,
  type AdminReply,
  type HandlerEntry,
  type NodeInfo,
  buildAuthQuery,
  buildCookieQuery,
  buildPlainQuery,
  checkAdminError,
  parseAdminReply,
  parseCookieReply,
  parseListHandlersReply,
  parseNodeInfoReply,
  parseRegisterHandlerReply,
} from '../protocol/admin-frame.ts';
import { normalizeIp6 } from '../protocol/keys.ts';
import { formatAdminEndpoint, stripBrackets } from './admin-credentials.ts';

/** cjdnsadmin DEFAULT_TIMEOUT: how long to wait for each reply datagram. */
export const ADMIN_CALL_TIMEOUT_MS = 10_000;
/** Extra attempts after a timeout (a lost UDP datagram should not fail a call). */
export const ADMIN_CALL_RETRIES = 2;
/** cjdnsadmin runs at most 4 calls at once (Saferphore.create(4)). */
export const ADMIN_MAX_IN_FLIGHT = 4;
/** Calls waiting for a slot; beyond this a call fails at once with RS_ERR_ADMIN_BUSY. */
export const ADMIN_MAX_QUEUED = 256;
/** `UpperDistributor_listHandlers` page size. */
export const HANDLERS_PER_PAGE = 8;
/** Stop paging after this many pages (a node that never returns an empty page cannot loop us). */
export const HANDLERS_MAX_PAGES = 64;

// ---- client -----------------------------------------------------------------------------------

export interface AdminClientOptions {
  addr: string;
  port: number;
  password: string;
  /** wait this long for each reply datagram (cookie and call separately); default 10 s */
  timeoutMs?: number;
  /** attempts after a timed-out one; default 2 */
  retries?: number;
  maxInFlight?: number;
  maxQueued?: number;
  log?: Logger;
  /** txid generator (default: 8 random bytes as hex) */
  txid?: () => string;
}

export interface AdminCallOptions {
  /** authenticate with cookie + password hash (default true) */
  auth?: boolean;
  timeoutMs?: number;
  retries?: number;
}

export interface AdminClientStats {
  /** datagrams sent */
  sent: number;
  /** replies matched to a call */
  replies: number;
  /** datagrams dropped: not bencode, not a reply, or from another address */
  garbage: number;
  /** well-formed replies whose txid matches no call (late replies after a timeout) */
  stale: number;
  timeouts: number;
  retries: number;
  inFlight: number;
  queued: number;
}

interface Pending {
  resolve(reply: AdminReply): void;
  reject(err: RsError): void;
  timer: NodeJS.Timeout;
}

interface Waiter {
  resolve(): void;
  reject(err: RsError): void;
}

function defaultTxid(): string {
  return randomBytes(8).toString('hex');
}

/** Canonical text of an IP address for comparing with a datagram's source. */
function canonicalAddress(addr: string): string {
  if (isIP(addr) !== 6) return addr;
  try {
    return normalizeIp6(addr);
  } catch {
    return addr.toLowerCase(); // embedded IPv4 or a zone: compare as text
  }
}

export class AdminClient {
  readonly addr: string;
  readonly port: number;
  /** `addr:port` for logs and status */
  readonly endpoint: string;
  private readonly password: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly log: Logger;
  private readonly newTxid: () => string;
  /** null when `addr` is a host name: then only the source port is checked */
  private readonly expectedSource: string | null;
  private socket: Socket | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly waiters: Waiter[] = [];
  private running = 0;
  private closed = false;
  private readonly counters = {
    sent: 0,
    replies: 0,
    garbage: 0,
    stale: 0,
    timeouts: 0,
    retries: 0,
  };

  constructor(opts: AdminClientOptions) {
    this.addr = stripBrackets(opts.addr);
    this.port = opts.port;
    this.endpoint = formatAdminEndpoint(this.addr, this.port);
    this.password = opts.password;
    this.timeoutMs = opts.timeoutMs ?? ADMIN_CALL_TIMEOUT_MS;
    this.retries = opts.retries ?? ADMIN_CALL_RETRIES;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? ADMIN_MAX_IN_FLIGHT);
    this.maxQueued = Math.max(0, opts.maxQueued ?? ADMIN_MAX_QUEUED);
    this.log = opts.log ?? silentLogger();
    this.newTxid = opts.txid ?? defaultTxid;
    this.expectedSource = isIP(this.addr) === 0 ? null : canonicalAddress(this.addr);
  }

  stats(): AdminClientStats {
    return { ...this.counters, inFlight: this.running, queued: this.waiters.length };
  }

  /**
   * Call `fn` with `args`. Resolves with the reply when its `error` is `"none"` or absent; rejects
   * with RsError RS_ERR_ADMIN_AUTH (`Auth failed.`), RS_ERR_ADMIN_CALL (any other error string,
   * in context.error), RS_ERR_ADMIN_TIMEOUT (no reply after every attempt), RS_ERR_ADMIN_SEND,
   * RS_ERR_ADMIN_INVALID (bad cookie reply), RS_ERR_ADMIN_BUSY or RS_ERR_ADMIN_CLOSED.
   */
  async call(fn: string, args: AdminArgs = {}, opts: AdminCallOptions = {}): Promise<AdminReply> {
    await this.acquire();
    try {
      const retries = opts.retries ?? this.retries;
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.attempt(fn, args, opts.auth ?? true, opts.timeoutMs ?? this.timeoutMs);
        } catch (e) {
          if (
            !isRsError(e) ||
            e.code !== 'RS_ERR_ADMIN_TIMEOUT' ||
            attempt >= retries ||
            this.closed
          )
            throw e;
          this.counters.retries++;
          this.log.debug(
            { event: 'cjdns:admin:retry', function: fn, attempt: attempt + 1 },
            'admin call timed out, retrying',
          );
        }
      }
    } finally {
      this.release();
    }
  }

  async ping(opts: AdminCallOptions = {}): Promise<void> {
    await this.call('ping', {}, { auth: false, ...opts });
  }

  async nodeInfo(opts: AdminCallOptions = {}): Promise<NodeInfo> {
    return parseNodeInfoReply(await this.call('Core_nodeInfo', {}, opts));
  }

  /** One page of handlers; `more` when cjdns says so or the page is full. */
  async listHandlers(
    page: number,
    opts: AdminCallOptions = {},
  ): Promise<{ handlers: HandlerEntry[]; more: boolean }> {
    const reply = await this.call('UpperDistributor_listHandlers', { page }, opts);
    const { handlers } = parseListHandlersReply(reply);
    const more = reply.rest.more === 1 || handlers.length >= HANDLERS_PER_PAGE;
    return { handlers, more };
  }

  async registerHandler(
    contentType: number,
    udpPort: number,
    opts: AdminCallOptions = {},
  ): Promise<void> {
    parseRegisterHandlerReply(
      await this.call('UpperDistributor_registerHandler', { contentType, udpPort }, opts),
    );
  }

  async unregisterHandler(udpPort: number, opts: AdminCallOptions = {}): Promise<void> {
    await this.call('UpperDistributor_unregisterHandler', { udpPort }, opts);
  }

  /** Fail every call in flight or waiting with RS_ERR_ADMIN_CLOSED and close the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new RsError(
      'RS_ERR_ADMIN_CLOSED',
      `cjdns admin client for ${this.endpoint} is closed`,
    );
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const w of this.waiters.splice(0)) w.reject(err);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  // ---- internals ------------------------------------------------------------------------------

  private acquire(): Promise<void> {
    if (this.closed)
      return Promise.reject(
        new RsError('RS_ERR_ADMIN_CLOSED', `cjdns admin client for ${this.endpoint} is closed`),
      );
    if (this.running < this.maxInFlight) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.maxQueued) {
      return Promise.reject(
        new RsError(
          'RS_ERR_ADMIN_BUSY',
          `${this.waiters.length} cjdns admin calls already waiting`,
          {
            context: { maxInFlight: this.maxInFlight, maxQueued: this.maxQueued },
          },
        ),
      );
    }
    // the slot is handed over by release(): `running` stays the same
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.running--;
  }

  private async attempt(
    fn: string,
    args: AdminArgs,
    auth: boolean,
    timeoutMs: number,
  ): Promise<AdminReply> {
    let request: Uint8Array;
    const txid = this.newTxid();
    if (auth) {
      const cookieTxid = this.newTxid();
      const cookie = parseCookieReply(
        await this.exchange(buildCookieQuery(cookieTxid), cookieTxid, 'cookie', timeoutMs),
      );
      request = buildAuthQuery({ password: this.password, cookie, txid, function: fn, args });
    } else {
      request = buildPlainQuery({ function: fn, args, txid });
    }
    const reply = await this.exchange(request, txid, fn, timeoutMs);
    checkAdminError(reply, fn);
    return reply;
  }

  private ensureSocket(): Socket {
    if (this.socket) return this.socket;
    const socket = createSocket(this.addr.includes(':') ? 'udp6' : 'udp4');
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    // never let a socket error escape as an uncaught 'error' event; calls fail by timeout
    socket.on('error', (err) =>
      this.log.warn(
        { event: 'cjdns:admin:socket_error', err, admin: this.endpoint },
        'admin socket error',
      ),
    );
    socket.unref();
    this.socket = socket;
    return socket;
  }

  private exchange(
    bytes: Uint8Array,
    txid: string,
    what: string,
    timeoutMs: number,
  ): Promise<AdminReply> {
    if (this.closed)
      return Promise.reject(
        new RsError('RS_ERR_ADMIN_CLOSED', `cjdns admin client for ${this.endpoint} is closed`),
      );
    const socket = this.ensureSocket();
    return new Promise<AdminReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(txid);
        this.counters.timeouts++;
        reject(
          new RsError(
            'RS_ERR_ADMIN_TIMEOUT',
            `cjdns admin API ${this.endpoint}: no reply to ${what} within ${timeoutMs} ms`,
            {
              context: { function: what, timeoutMs, admin: this.endpoint },
            },
          ),
        );
      }, timeoutMs);
      this.pending.set(txid, { resolve, reject, timer });
      this.counters.sent++;
      socket.send(bytes, this.port, this.addr, (err) => {
        if (!err) return;
        const p = this.pending.get(txid);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(txid);
        p.reject(
          new RsError('RS_ERR_ADMIN_SEND', `cjdns admin API ${this.endpoint}: ${err.message}`, {
            cause: err,
            context: { function: what, admin: this.endpoint },
          }),
        );
      });
    });
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (
      rinfo.port !== this.port ||
      (this.expectedSource !== null && canonicalAddress(rinfo.address) !== this.expectedSource)
    ) {
      this.dropGarbage('datagram from another address', rinfo);
      return;
    }
    let reply: AdminReply;
    try {
      reply = parseAdminReply(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    } catch (e) {
      // parse errors are RsErrors; anything else would be a parser bug, still no reason to crash
      this.dropGarbage(isRsError(e) ? e.message : `unexpected parse failure: ${String(e)}`, rinfo);
      return;
    }
    const p = reply.txid === undefined ? undefined : this.pending.get(reply.txid);
    if (!p) {
      this.counters.stale++;
      this.log.debug(
        { event: 'cjdns:admin:stale_reply', txid: reply.txid, admin: this.endpoint },
        'admin reply matches no call',
      );
      return;
    }
    clearTimeout(p.timer);
    this.pending.delete(reply.txid!);
    this.counters.replies++;
    p.resolve(reply);
  }

  private dropGarbage(why: string, rinfo: RemoteInfo): void {
    this.counters.garbage++;
    this.log.debug(
      { event: 'cjdns:admin:garbage', reason: why, from: `${rinfo.address}:${rinfo.port}` },
      'dropped an admin datagram',
    );
  }
}
