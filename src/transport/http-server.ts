/**
 * The public HTTP listener: the original's read API (`/`, `/ni`, `/ni/<ip>`, `/walk`, `/dump`,
 * `/path/<src>/<dst>`), health, the subnode API (`POST /subnode`), the peering seeder's API
 * (`GET /seeder-peers`, `POST /seeder-testres`, password-protected; docs/seeder.md), `/ui/…` (the
 * live network map, ui-http.ts, docs/ui.md) and the replication websocket upgrade. Operator endpoints (`/status`, `/metrics`, `/debugnode`) are on the admin listener
 * (admin-http-server.ts). Thin: every answer comes from the route server facade; this file only
 * maps requests and errors. Whole-table answers stream through HeavyRequests (per-client caps,
 * back-pressure, write timeout); docs/security.md.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RsError } from '../errors.ts';
import { httpStatusOnly, refuseSocket } from '../lib/refuse-socket.ts';
import type { Logger } from '../log.ts';
import { bencodeDecode, bencodeEncode, isBDict } from '../protocol/bencode.ts';
import type { RouteServer } from '../server/route-server.ts';
import { parseSenderHeaders } from '../server/sender.ts';
import type { ServerMetrics } from '../server/metrics.ts';
import type { PeerInfo } from '../replication/peer-info.ts';
import { answerRead, heavyRead } from '../server/read-api.ts';
import { seederPeers, seederTestResults } from '../seeder/seeder-http.ts';
import type { ClientAddress } from './client-address.ts';
import { arrivedOverCjdns } from './over-cjdns.ts';
import type { HeavyRequests } from './heavy-requests.ts';
import {
  createHardenedServer,
  readBody,
  requestListener,
  sendError,
  sendMethodNotAllowed,
  sendJson,
  sendText,
} from './http-common.ts';
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
  /** who the client is (the socket's peer, or X-Forwarded-For from a trusted proxy) */
  clientAddress: ClientAddress;
  /** the slots and stream limits of whole-table answers */
  heavy: HeavyRequests;
  /** keys added to `/` after the original's */
  rootExtras?: () => Record<string, unknown>;
  /** the live network map under /ui (docs/ui.md) */
  ui?: UiHttp;
  /** websocket upgrade for /cjdnsnode_websocket (replication); other paths are refused */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer, client: string) => void;
}

/** Route name used in metrics (bounded cardinality). */
function routeName(first: string): string {
  return [
    '',
    'ni',
    'walk',
    'dump',
    'path',
    'healthz',
    'readyz',
    'subnode',
    'seeder-peers',
    'seeder-testres',
    'ui',
  ].includes(first)
    ? first || 'root'
    : 'other';
}

/** Paths served by the admin listener only. */
const ADMIN_ONLY = new Set(['status', 'metrics', 'debugnode']);

export function createHttpServer(deps: HttpDeps): Server {
  const { server, metrics, log } = deps;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const pathOnly = url.split('?')[0] ?? '/';
    const parts = pathOnly.split('/');
    const first = parts[1] ?? '';
    const method = req.method ?? 'GET';
    res.on('finish', () =>
      metrics.httpRequests.inc({ route: routeName(first), status: String(res.statusCode) }),
    );

    if (first === 'subnode') {
      if (method !== 'POST')
        return sendError(
          res,
          new RsError('RS_ERR_HTTP_BAD_REQUEST', 'POST the bencoded query to /subnode'),
          405,
        );
      // the cluster's own API: not to whoever reaches us over cjdns (docs/security.md)
      if (arrivedOverCjdns(req.socket)) {
        return sendError(
          res,
          new RsError(
            'RS_ERR_HTTP_FORBIDDEN',
            'the subnode API is not served over cjdns: cjdns nodes query through cjdroute',
          ),
          403,
        );
      }
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
        throw new RsError(
          'RS_ERR_SUBNODE_INVALID',
          'the subnode query must be a bencoded dictionary',
        );
      }
      const sender = parseSenderHeaders(req.headers, dict);
      const reply = await server.handleSubnodeQuery(dict, sender);
      if (reply === null) {
        res.writeHead(204);
        res.end();
        return;
      }
      const bytes = bencodeEncode(reply);
      res.writeHead(200, {
        'Content-Type': 'application/x-bencode',
        'Content-Length': bytes.length,
      });
      res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return;
    }

    if (pathOnly === '/seeder-peers' || pathOnly === '/seeder-testres') {
      // the peering seeder's API for testers and nameservers (docs/seeder.md)
      const post = pathOnly === '/seeder-testres';
      if (method !== (post ? 'POST' : 'GET')) {
        return sendError(
          res,
          new RsError('RS_ERR_HTTP_BAD_REQUEST', `${post ? 'POST' : 'GET'} ${pathOnly}`),
          405,
        );
      }
      const nowSec = Math.floor(server.clock.now() / 1000);
      const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
      const answer = post
        ? seederTestResults(
            server.seeder,
            new Uint8Array(await readBody(req, deps.maxBodyBytes)),
            nowSec,
          )
        : seederPeers(server.seeder, new URLSearchParams(query), nowSec);
      return sendText(res, answer.status, answer.body, answer.contentType);
    }

    if (method !== 'GET' && method !== 'HEAD') {
      return sendMethodNotAllowed(res, method, pathOnly);
    }
    if (first === 'ui' && deps.ui) {
      return deps.ui.handle(req, res, pathOnly, (answer) =>
        deps.heavy.answer(req, res, deps.clientAddress.of(req), answer),
      );
    }
    if (ADMIN_ONLY.has(first)) {
      throw new RsError(
        'RS_ERR_HTTP_NOT_FOUND',
        `no such path: ${pathOnly.slice(0, 200)} (operator endpoints are on the admin listener)`,
      );
    }
    const heavy = heavyRead(pathOnly, { views: server.views, peerInfo: deps.peerInfo });
    if (heavy) {
      await deps.heavy.answer(req, res, deps.clientAddress.of(req), heavy);
      return;
    }
    switch (pathOnly) {
      case '/healthz':
        return sendJson(res, 200, { status: 'ok' });
      case '/readyz': {
        const r = deps.readiness();
        return sendJson(res, r.ready ? 200 : 503, r);
      }
      default:
        break;
    }
    const answer = answerRead(pathOnly, {
      views: server.views,
      peerInfo: deps.peerInfo,
      setDebugNode: (ip) => server.setDebugNode(ip),
      ...(deps.rootExtras ? { rootExtras: deps.rootExtras } : {}),
    });
    if (!answer)
      throw new RsError('RS_ERR_HTTP_NOT_FOUND', `no such path: ${pathOnly.slice(0, 200)}`);
    const body =
      typeof answer.body === 'string'
        ? Buffer.from(answer.body, 'utf8')
        : Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
    res.writeHead(answer.status, {
      'Content-Type': answer.contentType,
      'Content-Length': body.length,
    });
    res.end(method === 'HEAD' ? undefined : body);
  }

  const http = createHardenedServer(
    { requestTimeoutMs: deps.requestTimeoutMs },
    requestListener(log, handle),
  );
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/cjdnsnode_websocket' && deps.onUpgrade) {
      deps.onUpgrade(req, socket, head, deps.clientAddress.of(req));
      return;
    }
    refuseSocket(socket, httpStatusOnly('404 Not Found'));
  });
  return http;
}
