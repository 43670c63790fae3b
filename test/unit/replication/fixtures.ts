/**
 * Shared by the replication unit and integration tests: vector access, wait-until, a raw
 * websocket peer that speaks the original's frames, and throw-away store entries.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import {
  decodePeerFrame,
  encodePeerFrame,
  type PeerMessage,
} from '../../../src/protocol/peer-frame.ts';
import { hexToBytes } from '../../../src/protocol/hex.ts';
import { fromVectorValue, loadVectors, vectorsOf } from '../../helpers/vectors.ts';

export interface Identity {
  name: string;
  private_hex: string;
  ipv6: string;
}

/** route_server.json identities and the `routes` scenario's ann steps. */
export function routeVectors(): {
  identities: Identity[];
  identity: (name: string) => Identity;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  routes: { self: Identity & { version: number }; steps: any[] };
} {
  const file = loadVectors('route_server.json');
  const identities = file.identities as Identity[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const routes = (file.vectors as any[]).find((v) => v.name === 'routes');
  if (!routes) throw new Error('route_server.json has no routes scenario');
  return {
    identities,
    identity: (name) => {
      const id = identities.find((i) => i.name === name);
      if (!id) throw new Error(`no identity ${name}`);
      return id;
    },
    routes,
  };
}

/** peer_protocol.json frame vectors by id suffix (e.g. "010"). */
export function frameVector(idSuffix: string): {
  message: unknown;
  hex: string;
  bytes: Uint8Array;
} {
  const v = vectorsOf<{ id: string; message: unknown; hex: string }>(
    'peer_protocol.json',
    'frame',
  ).find((x) => x.id.endsWith(`/${idSuffix}`));
  if (!v) throw new Error(`no peer_protocol frame ${idSuffix}`);
  return { message: fromVectorValue(v.message), hex: v.hex, bytes: hexToBytes(v.hex) };
}

export function badFrameVectors(): Array<{ id: string; hex: string }> {
  return vectorsOf<{ id: string; hex: string }>('peer_protocol.json', 'badFrame');
}

/** Poll `cond` until it holds; fails with `what` after `timeoutMs`. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 8000,
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function randomHash(): Uint8Array {
  return new Uint8Array(randomBytes(64));
}

/** A raw websocket endpoint that records every frame it receives (bytes and decoded). */
export class RawPeer {
  readonly frames: Uint8Array[] = [];
  closed = false;
  closeCode: number | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.frames.push(new Uint8Array(data)));
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
    ws.on('error', () => {});
  }

  static connect(port: number, path = '/cjdnsnode_websocket'): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
      const peer = new RawPeer(ws);
      ws.once('open', () => resolve(peer));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  decoded(): PeerMessage[] {
    return this.frames.map((f) => decodePeerFrame(f, { hashBytes: null }));
  }

  ofType(type: PeerMessage['type']): PeerMessage[] {
    return this.decoded().filter((m) => m.type === type);
  }

  send(msg: PeerMessage | Uint8Array): void {
    this.ws.send(msg instanceof Uint8Array ? msg : encodePeerFrame(msg), { binary: true });
  }

  sendRaw(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A raw websocket server playing a route server's accepting side. */
export class RawServer {
  readonly wss: WebSocketServer;
  readonly peers: RawPeer[] = [];
  connections = 0;

  private constructor(
    wss: WebSocketServer,
    readonly port: number,
    onConnection: (peer: RawPeer) => void,
  ) {
    this.wss = wss;
    wss.on('connection', (ws) => {
      this.connections++;
      const p = new RawPeer(ws);
      this.peers.push(p);
      onConnection(p);
    });
  }

  static start(onConnection: (peer: RawPeer) => void = () => {}, port = 0): Promise<RawServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({
        host: '127.0.0.1',
        port,
        path: '/cjdnsnode_websocket',
        perMessageDeflate: false,
      });
      wss.once('error', reject);
      wss.once('listening', () =>
        resolve(new RawServer(wss, (wss.address() as AddressInfo).port, onConnection)),
      );
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/cjdnsnode_websocket`;
  }

  close(): Promise<void> {
    for (const p of this.peers) p.ws.terminate();
    return new Promise((r) => this.wss.close(() => r()));
  }
}
