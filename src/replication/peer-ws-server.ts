/**
 * `/cjdnsnode_websocket` on the HTTP server (docs/protocol.md §7.1): a `ws` server in noServer mode fed by
 * the HTTP server's upgrade hook. It only admits: the allow-list and the inbound peer limits (per
 * client address and in all) are checked before the websocket handshake (403 / 429 / 503), and a
 * refused socket is destroyed; everything else is the peer actor's job.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { httpStatusOnly, refuseSocket } from '../lib/refuse-socket.ts';

export type UpgradeRefusal = 'NotAllowed' | 'TooManyPeers' | 'TooManyFromAddress';

export interface PeerWsServerOptions {
  /** ws maxPayload: larger messages close the socket with 1009 */
  readonly maxPayload: number;
  readonly isAllowed: (remoteAddr: string | undefined) => boolean;
  /** why no more inbound peers may connect from `remoteAddr` (or at all), else undefined */
  readonly noRoom: (remoteAddr: string) => 'TooManyPeers' | 'TooManyFromAddress' | undefined;
  readonly onConnection: (ws: WebSocket, remoteAddr: string) => void;
  readonly onRefused: (remoteAddr: string, reason: UpgradeRefusal) => void;
}

const STATUS: Record<UpgradeRefusal, string> = {
  NotAllowed: '403 Forbidden',
  TooManyPeers: '503 Service Unavailable',
  TooManyFromAddress: '429 Too Many Requests',
};

export class PeerWsServer {
  private readonly wss: WebSocketServer;

  constructor(private readonly opts: PeerWsServerOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  /**
   * The HTTP server's upgrade hook for /cjdnsnode_websocket; `client` is the remote address as
   * the HTTP layer resolved it (X-Forwarded-For from a trusted proxy), else the socket's peer.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, client?: string): void {
    socket.on('error', () => socket.destroy()); // a reset during the handshake must not crash the process
    const addr = client ?? req.socket.remoteAddress ?? '';
    const refusal: UpgradeRefusal | undefined = !this.opts.isAllowed(addr)
      ? 'NotAllowed'
      : this.opts.noRoom(addr);
    if (refusal) {
      this.opts.onRefused(addr, refusal);
      refuseSocket(socket, httpStatusOnly(STATUS[refusal]));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.opts.onConnection(ws, addr));
  }

  close(): void {
    this.wss.close();
  }
}
