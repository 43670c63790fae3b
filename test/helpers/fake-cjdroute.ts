/**
 * An in-process stand-in for cjdroute's admin API and UpperDistributor, speaking the real wire
 * protocol over UDP on loopback: bencoded requests, `cookie`, auth checked exactly as cjdns
 * admin/Admin.c does it (find the submitted hash in the raw bytes, write
 * hex(sha256(password ‖ cookie)) over it, sha256 the whole message, compare; cookies older than
 * 20 s or from the future fail), and the functions the route server uses: `ping`,
 * `Core_nodeInfo`, `UpperDistributor_registerHandler` / `listHandlers` (8 per page, `more`) /
 * `unregisterHandler`. `restart()` forgets every handler; `silent` drops every request;
 * `dropRequests` drops the next n; `deliver()` sends a frame to every CJDHT handler as cjdns would
 * — from the `tun` socket when one is set (the test's reply sink: cjdns sends from the address
 * its replies go to, [fc00::1]:1), else from a socket of its own (a source the link drops).
 */
import { createHash } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bencodeDecode,
  bencodeEncode,
  bdict,
  bint,
  bstr,
  isBDict,
  type BDict,
  type BInput,
} from '../../src/protocol/bencode.ts';
import { parseSchemeStrict, schemeToAdminList } from '../../src/protocol/encoding-scheme.ts';
import { hexToBytes } from '../../src/protocol/hex.ts';
import { fixturesDir } from './vectors.ts';

export interface FakeNodeInfo {
  myAddr: string;
  myIp6: string;
  compressedSchemeHex: string;
  encodingScheme: Array<{ bitCount: number; prefix: string; prefixLen: number }>;
  version: number;
}

export interface FakeHandler {
  type: number;
  udpPort: number;
}

const HANDLERS_PER_PAGE = 8;
const COOKIE_LIFETIME_S = 20;
/** functions registered "needs auth" in cjdns */
const NEEDS_AUTH = new Set([
  'UpperDistributor_registerHandler',
  'UpperDistributor_listHandlers',
  'UpperDistributor_unregisterHandler',
  'AuthorizedPasswords_list',
]);

const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

export class FakeCjdroute {
  handlers: FakeHandler[] = [];
  /** every request as `q` (`aq` for auth requests), in arrival order */
  readonly requests: string[] = [];
  /** drop every request */
  silent = false;
  /** drop the next n requests */
  dropRequests = 0;
  /** cookie clock, Unix seconds */
  nowSeconds: () => number = () => Math.floor(Date.now() / 1000);
  authFailures = 0;
  restarts = 0;
  /** the socket frames are delivered from: where the link's replies go (its accepted source) */
  tun: Socket | undefined;
  private lastClient: RemoteInfo | undefined;
  private readonly distributor: Socket;

  private constructor(
    private readonly socket: Socket,
    distributor: Socket,
    readonly address: string,
    readonly port: number,
    public password: string,
    public nodeInfo: FakeNodeInfo,
  ) {
    this.distributor = distributor;
    socket.on('message', (msg, rinfo) => this.onRequest(new Uint8Array(msg), rinfo));
  }

  static async start(opts: {
    nodeInfo: FakeNodeInfo;
    password?: string;
    address?: string;
  }): Promise<FakeCjdroute> {
    const address = opts.address ?? '127.0.0.1';
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    const distributor = createSocket('udp6');
    await new Promise<void>((resolve) => distributor.bind(0, '::1', () => resolve()));
    return new FakeCjdroute(
      socket,
      distributor,
      address,
      socket.address().port,
      opts.password ?? 'NONE',
      opts.nodeInfo,
    );
  }

  /** cjdroute restarted: every registered handler is forgotten. */
  restart(): void {
    this.handlers = [];
    this.restarts++;
  }

  /** Address of the last client that talked to us. */
  client(): RemoteInfo | undefined {
    return this.lastClient;
  }

  /** Send raw bytes to the last client that talked to us (garbage tests). */
  sendToClient(bytes: Uint8Array): Promise<void> {
    const c = this.lastClient;
    if (!c) throw new Error('no client yet');
    return new Promise((resolve) => this.socket.send(bytes, c.port, c.address, () => resolve()));
  }

  /** Deliver a handler frame to every CJDHT handler (from `tun`, else from a socket of ours). */
  async deliver(frame: Uint8Array, from: Socket = this.tun ?? this.distributor): Promise<number> {
    const ports = this.handlers.filter((h) => h.type === 256).map((h) => h.udpPort);
    for (const p of ports)
      await new Promise<void>((resolve) => from.send(frame, p, '::1', () => resolve()));
    return ports.length;
  }

  /** Deliver from a source that is not cjdns' (a forged frame from another local socket). */
  deliverForged(frame: Uint8Array): Promise<number> {
    return this.deliver(frame, this.distributor);
  }

  close(): Promise<void> {
    return Promise.all([
      new Promise<void>((resolve) => this.socket.close(() => resolve())),
      new Promise<void>((resolve) => this.distributor.close(() => resolve())),
    ]).then(() => undefined);
  }

  // ---- protocol -------------------------------------------------------------------------------

  private reply(dict: { [k: string]: BInput | undefined }, to: RemoteInfo): void {
    this.socket.send(bencodeEncode(dict), to.port, to.address);
  }

  private onRequest(bytes: Uint8Array, from: RemoteInfo): void {
    let msg: BDict;
    try {
      const v = bencodeDecode(bytes);
      if (!isBDict(v)) return;
      msg = v;
    } catch {
      return; // cjdns drops what it cannot parse
    }
    const q = bstr(msg.q);
    this.requests.push(q === 'auth' ? (bstr(msg.aq) ?? 'auth') : (q ?? '?'));
    if (this.silent) return;
    if (this.dropRequests > 0) {
      this.dropRequests--;
      return;
    }
    this.lastClient = from;
    const txid = msg.txid instanceof Uint8Array ? msg.txid : undefined;
    if (q === 'cookie') {
      this.reply({ cookie: String(this.nowSeconds()), txid }, from);
      return;
    }
    let fn = q;
    let authed = false;
    if (q === 'auth') {
      if (!this.authValid(msg, bytes)) {
        this.authFailures++;
        this.reply({ error: 'Auth failed.', txid }, from);
        return;
      }
      fn = bstr(msg.aq);
      authed = true;
    }
    if (fn === undefined || (NEEDS_AUTH.has(fn) && !authed)) {
      this.reply(
        { error: 'No functions matched your request, try Admin_availableFunctions()', txid },
        from,
      );
      return;
    }
    const args = bdict(msg.args) ?? {};
    this.reply({ ...this.callFunction(fn, args), txid }, from);
  }

  /** admin/Admin.c authValid() */
  private authValid(msg: BDict, bytes: Uint8Array): boolean {
    const cookieText = bstr(msg.cookie);
    const cookie =
      cookieText !== undefined ? Number.parseInt(cookieText, 10) || 0 : (bint(msg.cookie) ?? 0);
    const now = this.nowSeconds();
    const submitted = bstr(msg.hash);
    if (
      !cookie ||
      cookie > now ||
      cookie < now - COOKIE_LIFETIME_S ||
      submitted === undefined ||
      submitted.length !== 64
    )
      return false;
    const buf = Buffer.from(bytes);
    const at = buf.indexOf(submitted, 0, 'latin1');
    if (at < 0) return false;
    buf.write(sha256Hex(`${this.password}${cookie}`), at, 'latin1');
    return sha256Hex(buf) === submitted;
  }

  private callFunction(fn: string, args: BDict): { [k: string]: BInput | undefined } {
    switch (fn) {
      case 'ping':
        return { q: 'pong' };
      case 'Core_nodeInfo':
        return { ...this.nodeInfo, error: 'none' };
      case 'UpperDistributor_listHandlers': {
        const page = bint(args.page) ?? 0;
        const slice = this.handlers.slice(page * HANDLERS_PER_PAGE, (page + 1) * HANDLERS_PER_PAGE);
        const more = (page + 1) * HANDLERS_PER_PAGE < this.handlers.length;
        return {
          handlers: slice.map((h) => ({ type: h.type, udpPort: h.udpPort })),
          more: more ? 1 : undefined,
          error: 'none',
        };
      }
      case 'UpperDistributor_registerHandler': {
        const contentType = bint(args.contentType);
        const udpPort = bint(args.udpPort);
        if (contentType === undefined || contentType < 0 || contentType > 0xffff)
          return { error: 'invalid_contentType' };
        if (udpPort === undefined || udpPort < 1 || udpPort > 0xffff)
          return { error: 'invalid_udpPort' };
        if (this.handlers.some((h) => h.udpPort === udpPort))
          return { error: 'UpperDistributor_registerHandler_PORT_REGISTERED' };
        this.handlers.push({ type: contentType, udpPort });
        return { error: 'none' };
      }
      case 'UpperDistributor_unregisterHandler': {
        const udpPort = bint(args.udpPort);
        const before = this.handlers.length;
        this.handlers = this.handlers.filter((h) => h.udpPort !== udpPort);
        return {
          error:
            before === this.handlers.length
              ? 'UpperDistributor_unregisterHandler_NONEXISTANT'
              : 'none',
        };
      }
      default:
        return { error: 'No functions matched your request, try Admin_availableFunctions()' };
    }
  }
}

/**
 * `Core_nodeInfo` of one node of the capture network (test/fixtures/captures/nodes.json), as cjdns v21.1
 * reports it: `v21.0000.0000.0000.0001.<key>`, the default v358 scheme.
 */
export function captureNodeInfo(name: 'A' | 'B' | 'C' | 'D', version = 21): FakeNodeInfo {
  const nodes = JSON.parse(
    readFileSync(join(fixturesDir(), 'captures', 'nodes.json'), 'utf8'),
  ) as Record<string, { publicKey: string; ipv6: string }>;
  const node = nodes[name]!;
  const compressedSchemeHex = '6114458100';
  return {
    myAddr: `v${version}.0000.0000.0000.0001.${node.publicKey}`,
    myIp6: node.ipv6,
    compressedSchemeHex,
    encodingScheme: schemeToAdminList(parseSchemeStrict(hexToBytes(compressedSchemeHex))),
    version,
  };
}

/** Poll `cond` every few ms until it holds; fail with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A free UDP port on ::1 (bound, then released). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp6');
  await new Promise<void>((resolve) => s.bind(0, '::1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
