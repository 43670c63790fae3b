/**
 * What the public and the admin listener share: JSON/text/error answers, reading a bounded
 * request body, and the hardening of the server itself (timeouts, malformed requests, CONNECT).
 */
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { ERROR_CODES, RsError, isRsError, type ErrorCode } from '../errors.ts';
import { httpStatusOnly, refuseSocket } from '../lib/refuse-socket.ts';
import type { Logger } from '../log.ts';

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  RS_ERR_HTTP_NOT_FOUND: 404,
  RS_ERR_HTTP_BODY_TOO_LARGE: 413,
  RS_ERR_HTTP_UNAUTHORIZED: 401,
  RS_ERR_HTTP_FORBIDDEN: 403,
  RS_ERR_HTTP_TOO_MANY_REQUESTS: 429,
  // a capped heavy request: retry shortly
  RS_ERR_HTTP_BUSY: 503,
  // back-pressure of the fast routing path: the node retries (cjdns resends its announcement)
  RS_ERR_MAILBOX_FULL: 503,
  RS_ERR_VERIFY_QUEUE_FULL: 503,
  RS_ERR_QUERY_TIMEOUT: 503,
  RS_ERR_WORKER_FAILED: 503,
  // the cluster cannot take the announcement now (docs/cluster.md, "The guarantee"): the node retries
  RS_ERR_CLUSTER_NOT_DURABLE: 503,
  RS_ERR_CLUSTER_CATCHING_UP: 503,
};

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const body = JSON.stringify(value, null, 2);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: RsError, status?: number): void {
  // a refused body is not read: the connection cannot carry another request
  const headers: Record<string, string> =
    err.code === 'RS_ERR_HTTP_BODY_TOO_LARGE' ? { Connection: 'close' } : {};
  if (err.code === 'RS_ERR_HTTP_UNAUTHORIZED') headers['WWW-Authenticate'] = 'Bearer';
  sendJson(
    res,
    status ?? STATUS_OF[err.code] ?? 400,
    { error: { code: err.code, message: err.message } },
    headers,
  );
}

/** A read-only path asked with another method than GET/HEAD: 405, the same words on every listener. */
export function sendMethodNotAllowed(res: ServerResponse, method: string, pathOnly: string): void {
  sendError(
    res,
    new RsError(
      'RS_ERR_HTTP_BAD_REQUEST',
      `method ${method} not allowed on ${pathOnly.slice(0, 200)}`,
    ),
    405,
  );
}

/** The client went away before its request was complete (not an error of ours). */
export class ClientAborted extends Error {
  constructor() {
    super('the client closed the connection before the end of its request');
    this.name = 'ClientAborted';
  }
}

/**
 * The request body, at most `limit` bytes. A declared `Content-Length` above the limit is
 * refused before anything is read; a body that grows past it is refused at that point and
 * reading stops (the 413 closes the connection). Rejects with ClientAborted when the client
 * goes away mid-body.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(
      new RsError('RS_ERR_HTTP_BODY_TOO_LARGE', `body of ${declared} bytes exceeds ${limit}`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.pause();
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size <= limit) {
        chunks.push(c);
        return;
      }
      stop();
      reject(new RsError('RS_ERR_HTTP_BODY_TOO_LARGE', `body exceeds ${limit} bytes`));
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onClose = (): void => {
      stop();
      reject(new ClientAborted());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    // after 'close', 'error' (ECONNRESET "aborted") carries nothing more
    req.on('error', () => undefined);
  });
}

/**
 * Run `handle` for each request; map RsError to its 4xx/503 answer, a client that went away to
 * a debug line, anything else to a logged 500.
 */
export function requestListener(
  log: Logger,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): RequestListener {
  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof ClientAborted || (res.destroyed && !res.writableFinished)) {
        log.debug(
          { event: 'http:request:aborted', url: req.url?.slice(0, 200) },
          'the client went away',
        );
        return;
      }
      if (res.headersSent) {
        log.error(
          { event: 'http:response:failed', err: e, url: req.url?.slice(0, 200) },
          'failed while answering',
        );
        res.destroy();
        return;
      }
      if (isRsError(e)) {
        sendError(res, e);
        return;
      }
      log.error(
        { event: 'http:request:failed', err: e, url: req.url?.slice(0, 200) },
        'internal error',
      );
      sendJson(res, 500, {
        error: { code: 'RS_ERR_INTERNAL', message: ERROR_CODES.RS_ERR_INTERNAL },
      });
    });
  };
}

const CLIENT_ERROR_STATUS: Readonly<Record<string, string>> = {
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
};

/**
 * An HTTP server with the limits every listener has: the whole request within
 * `requestTimeoutMs` (checked every second at most), a malformed or timed-out request answered
 * and its socket destroyed (not half-closed), CONNECT refused with 405.
 */
export function createHardenedServer(
  opts: { requestTimeoutMs: number },
  listener: RequestListener,
): Server {
  const server = createServer(
    {
      requestTimeout: opts.requestTimeoutMs,
      headersTimeout: Math.min(opts.requestTimeoutMs, 60_000),
      connectionsCheckingInterval: Math.min(1000, opts.requestTimeoutMs),
      keepAliveTimeout: 65_000,
    },
    listener,
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // an answer already under way cannot be followed by another status line
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (inFlight?.headersSent) socket.destroy();
    else
      refuseSocket(
        socket,
        httpStatusOnly(CLIENT_ERROR_STATUS[err.code ?? ''] ?? '400 Bad Request'),
      );
  });
  server.on('connect', (_req, socket) => {
    refuseSocket(socket, httpStatusOnly('405 Method Not Allowed', { Allow: 'GET, HEAD, POST' }));
  });
  return server;
}
