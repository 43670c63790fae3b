/**
 * `/cjdnsnode_websocket` on the HTTP server (docs/protocol.md §7.1): a `ws` server in noServer mode fed by
 * the HTTP server's upgrade hook. It only admits: the allow-list and the inbound peer limit are
 * checked before the websocket handshake (403 / 503), everything else is the peer actor's job.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export type UpgradeRefusal = 'NotAllowed' | 'TooManyPeers';

export interface PeerWsServerOptions {
  /** ws maxPayload: larger messages close the socket with 1009 */
  readonly maxPayload: number;
  readonly isAllowed: (remoteAddr: string | undefined) => boolean;
  /** false when no more inbound peers may connect */
  readonly hasRoom: () => boolean;
  readonly onConnection: (ws: WebSocket, remoteAddr: string) => void;
  readonly onRefused: (remoteAddr: string, reason: UpgradeRefusal) => void;
}

const STATUS: Record<UpgradeRefusal, string> = {
  NotAllowed: '403 Forbidden',
  TooManyPeers: '503 Service Unavailable',
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

  /** The HTTP server's upgrade hook for /cjdnsnode_websocket. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy()); // a reset during the handshake must not crash the process
    const addr = req.socket.remoteAddress ?? '';
    const refusal: UpgradeRefusal | undefined = !this.opts.isAllowed(addr)
      ? 'NotAllowed'
      : !this.opts.hasRoom()
        ? 'TooManyPeers'
        : undefined;
    if (refusal) {
      this.opts.onRefused(addr, refusal);
      socket.end(`HTTP/1.1 ${STATUS[refusal]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.opts.onConnection(ws, addr));
  }

  close(): void {
    this.wss.close();
  }
}
