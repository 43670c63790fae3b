/**
 * HTTP transport: the original's read API (`/`, `/ni`, `/ni/<ip>`, `/walk`, `/dump`,
 * `/path/<src>/<dst>`), health and metrics, the subnode API (`POST /subnode`) and the peering
 * seeder's API (`GET /seeder-peers`, `POST /seeder-testres`, docs/seeder.md); `/ui/…` goes to the
 * live network map (ui-http.ts, docs/ui.md). Thin: every
 * answer comes from the route server facade; this file only maps requests and errors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_CODES, RsError, isRsError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import { bencodeDecode, bencodeEncode, isBDict } from '../protocol/bencode.ts';
import type { RouteServer } from '../server/route-server.ts';
import { parseSenderHeaders } from '../server/sender.ts';
import type { ServerMetrics } from '../server/metrics.ts';
import type { PeerInfo } from '../replication/peer-info.ts';
import { answerRead } from '../server/read-api.ts';
import { seederPeers, seederTestResults } from '../seeder/seeder-http.ts';
import type { UiHttp } from './ui-http.ts';

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface HttpDeps {
  server: RouteServer;
  metrics: ServerMetrics;
  log: Logger;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  readiness: () => Readiness;
  peerInfo: () => PeerInfo;
  status?: () => Record<string, unknown>;
  /** keys added to `/` after the original's */
  rootExtras?: () => Record<string, unknown>;
  /** the live network map under /ui (docs/ui.md) */
  ui?: UiHttp;
  /** websocket upgrade for /cjdnsnode_websocket (replication); other paths are refused */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  RS_ERR_HTTP_NOT_FOUND: 404,
  RS_ERR_HTTP_BODY_TOO_LARGE: 413,
  // a capped heavy request (the map's graph and event streams): retry shortly
  RS_ERR_HTTP_BUSY: 503,
  // back-pressure of the fast routing path: the node retries (cjdns resends its announcement)
  RS_ERR_MAILBOX_FULL: 503,
  RS_ERR_VERIFY_QUEUE_FULL: 503,
  RS_ERR_QUERY_TIMEOUT: 503,
  RS_ERR_WORKER_FAILED: 503,
};

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value, null, 2);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: RsError, status?: number): void {
  sendJson(res, status ?? STATUS_OF[err.code] ?? 400, { error: { code: err.code, message: err.message } });
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // A refused body is still read to its end (and thrown away) before the 413 goes out: a socket
    // closed with unread data is reset, and the client would never see the answer. The server's
    // requestTimeout bounds a client that never stops sending.
    const declared = Number(req.headers['content-length'] ?? '0');
    let tooLarge = declared > limit ? new RsError('RS_ERR_HTTP_BODY_TOO_LARGE', `body of ${declared} bytes exceeds ${limit}`) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      if (tooLarge) return;
      size += c.length;
      if (size > limit) {
        tooLarge = new RsError('RS_ERR_HTTP_BODY_TOO_LARGE', `body exceeds ${limit} bytes`);
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => (tooLarge ? reject(tooLarge) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new RsError('RS_ERR_HTTP_BAD_REQUEST', 'request aborted before the end of its body'));
    });
  });
}

/** Route name used in metrics (bounded cardinality). */
function routeName(first: string): string {
  return ['', 'ni', 'walk', 'dump', 'path', 'healthz', 'readyz', 'metrics', 'subnode', 'debugnode', 'status', 'seeder-peers', 'seeder-testres', 'ui'].includes(first)
    ? first || 'root'
    : 'other';
}

export function createHttpServer(deps: HttpDeps): Server {
  const { server, metrics, log } = deps;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const pathOnly = url.split('?')[0] ?? '/';
    const parts = pathOnly.split('/');
    const first = parts[1] ?? '';
    const method = req.method ?? 'GET';
    res.on('finish', () => metrics.httpRequests.inc({ route: routeName(first), status: String(res.statusCode) }));

    if (first === 'subnode') {
      if (method !== 'POST') return sendError(res, new RsError('RS_ERR_HTTP_BAD_REQUEST', 'POST the bencoded query to /subnode'), 405);
      const body = await readBody(req, deps.maxBodyBytes);
      let dict;
      try {
        dict = bencodeDecode(new Uint8Array(body));
      } catch (e) {
        metrics.malformed.inc({ way: 'subnode_http' });
        throw e;
      }
      if (!isBDict(dict)) {
        metrics.malformed.inc({ way: 'subnode_http' });
        throw new RsError('RS_ERR_SUBNODE_INVALID', 'the subnode query must be a bencoded dictionary');
      }
      const sender = parseSenderHeaders(req.headers, dict);
      const reply = await server.handleSubnodeQuery(dict, sender);
      if (reply === null) {
        res.writeHead(204);
        res.end();
        return;
      }
      const bytes = bencodeEncode(reply);
      res.writeHead(200, { 'Content-Type': 'application/x-bencode', 'Content-Length': bytes.length });
      res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return;
    }

    if (pathOnly === '/seeder-peers' || pathOnly === '/seeder-testres') {
      // the peering seeder's API for testers and nameservers (docs/seeder.md)
      const post = pathOnly === '/seeder-testres';
      if (method !== (post ? 'POST' : 'GET')) {
        return sendError(res, new RsError('RS_ERR_HTTP_BAD_REQUEST', `${post ? 'POST' : 'GET'} ${pathOnly}`), 405);
      }
      const nowSec = Math.floor(server.clock.now() / 1000);
      const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
      const answer = post
        ? seederTestResults(server.seeder, new Uint8Array(await readBody(req, deps.maxBodyBytes)), nowSec)
        : seederPeers(server.seeder, new URLSearchParams(query), nowSec);
      return sendText(res, answer.status, answer.body, answer.contentType);
    }

    if (method !== 'GET' && method !== 'HEAD') {
      return sendError(res, new RsError('RS_ERR_HTTP_BAD_REQUEST', `method ${method} not allowed on ${pathOnly}`), 405);
    }
    if (first === 'ui' && deps.ui) return deps.ui.handle(req, res, pathOnly);
    const answer = answerRead(pathOnly, {
      views: server.views,
      peerInfo: deps.peerInfo,
      setDebugNode: (ip) => server.setDebugNode(ip),
      ...(deps.rootExtras ? { rootExtras: deps.rootExtras } : {}),
    });
    if (answer) {
      const body = typeof answer.body === 'string' ? Buffer.from(answer.body, 'utf8') : Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
      res.writeHead(answer.status, { 'Content-Type': answer.contentType, 'Content-Length': body.length });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    switch (first) {
      case 'healthz':
        return sendJson(res, 200, { status: 'ok' });
      case 'readyz': {
        const r = deps.readiness();
        return sendJson(res, r.ready ? 200 : 503, r);
      }
      case 'status':
        return sendJson(res, 200, deps.status ? deps.status() : {});
      case 'metrics': {
        const text = await metrics.exposition();
        return sendText(res, 200, text, metrics.contentType);
      }
      default:
        throw new RsError('RS_ERR_HTTP_NOT_FOUND', `no such path: ${pathOnly.slice(0, 200)}`);
    }
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (isRsError(e)) {
        sendError(res, e);
        return;
      }
      log.error({ event: 'http:request:failed', err: e, url: req.url }, 'internal error');
      sendJson(res, 500, { error: { code: 'RS_ERR_INTERNAL', message: ERROR_CODES.RS_ERR_INTERNAL } });
    });
  });
  http.requestTimeout = deps.requestTimeoutMs;
  http.headersTimeout = Math.min(deps.requestTimeoutMs, 60_000);
  http.keepAliveTimeout = 65_000;
  http.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  http.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/cjdnsnode_websocket' && deps.onUpgrade) {
      deps.onUpgrade(req, socket, head);
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  return http;
}
