/**
 * The admin listener: operator endpoints, off the public port (docs/security.md). `admin.host`
 * is loopback by default; with `admin.token` every request needs `Authorization: Bearer
 * <token>` (for an admin listener reachable from elsewhere, e.g. a Prometheus on another host).
 *
 * - `GET /status`: identity, node count, cjdns link, cluster;
 * - `GET /metrics`: Prometheus text;
 * - `GET /debugnode/<ip>`: log every announcement of that node;
 * - `GET /healthz`, `GET /readyz`: as on the public listener;
 * - more operator endpoints through `routes` (by first path segment).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { RsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ServerMetrics } from '../server/metrics.ts';
import type { RouteServer } from '../server/route-server.ts';
import {
  createHardenedServer,
  readBody,
  requestListener,
  sendMethodNotAllowed,
  sendJson,
  sendText,
} from './http-common.ts';
import type { Readiness } from './http-server.ts';

/** An extra operator endpoint: answers every request whose first path segment is its key. */
export type AdminRoute = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { readonly pathOnly: string; readBody(limit: number): Promise<Buffer> },
) => Promise<void>;

export interface AdminHttpDeps {
  server: RouteServer;
  metrics: ServerMetrics;
  log: Logger;
  requestTimeoutMs: number;
  /** when set, required as `Authorization: Bearer <token>` on every request */
  token?: string;
  readiness: () => Readiness;
  status: () => Record<string, unknown>;
  routes?: Readonly<Record<string, AdminRoute>>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time check of the Authorization header against the token. */
function authorized(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!.trim()), digest(token));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new RsError('RS_ERR_HTTP_BAD_REQUEST', 'malformed percent-encoding in the path');
  }
}

export function createAdminHttpServer(deps: AdminHttpDeps): Server {
  const { metrics, log } = deps;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathOnly = (req.url ?? '/').split('?')[0] ?? '/';
    const parts = pathOnly.split('/');
    const first = parts[1] ?? '';
    if (deps.token !== undefined && !authorized(req.headers.authorization, deps.token)) {
      throw new RsError('RS_ERR_HTTP_UNAUTHORIZED', 'send Authorization: Bearer <admin.token>');
    }
    const route = deps.routes?.[first];
    if (route && Object.hasOwn(deps.routes!, first))
      return route(req, res, { pathOnly, readBody: (limit) => readBody(req, limit) });
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      return sendMethodNotAllowed(res, method, pathOnly);
    }
    switch (first) {
      case 'healthz':
        if (parts.length === 2) return sendJson(res, 200, { status: 'ok' });
        break;
      case 'readyz':
        if (parts.length === 2) {
          const r = deps.readiness();
          return sendJson(res, r.ready ? 200 : 503, r);
        }
        break;
      case 'status':
        if (parts.length === 2) return sendJson(res, 200, deps.status());
        break;
      case 'metrics':
        if (parts.length === 2)
          return sendText(res, 200, await metrics.exposition(), metrics.contentType);
        break;
      case 'debugnode':
        if (parts.length !== 3) throw new RsError('RS_ERR_HTTP_BAD_REQUEST', 'use /debugnode/<ip>');
        return sendJson(res, 200, { debugNode: deps.server.setDebugNode(safeDecode(parts[2]!)) });
      default:
        break;
    }
    throw new RsError('RS_ERR_HTTP_NOT_FOUND', `no such path: ${pathOnly.slice(0, 200)}`);
  }

  return createHardenedServer(
    { requestTimeoutMs: deps.requestTimeoutMs },
    requestListener(log, handle),
  );
}
