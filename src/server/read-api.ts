/**
 * GET answers of the original's read API (docs/protocol.md §8) as plain values, shared by the HTTP transport
 * and `snode replay`. Unknown paths are a 404 JSON error (the original echoed the URL; see
 * docs/compatibility.md).
 */
import { RsError } from '../errors.ts';
import type { PeerInfo } from '../replication/peer-info.ts';
import type { HttpViews } from './http-views.ts';
import { routeJsonBytes } from './route-json-bytes.ts';

export interface ReadAnswer {
  readonly status: number;
  readonly contentType: string;
  /** a JSON or text answer may come as its UTF-8 bytes (`/path`) */
  readonly body: string | Uint8Array;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

function json(value: unknown, status = 200): ReadAnswer {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(value, null, 2) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new RsError('RS_ERR_HTTP_BAD_REQUEST', 'malformed percent-encoding in the path');
  }
}

/** A whole-table answer, made chunk by chunk (the HTTP transport streams it with back-pressure). */
export interface StreamedAnswer {
  readonly contentType: string;
  chunks(): Iterator<string | Uint8Array, unknown, undefined>;
}

/**
 * `/walk`, `/dump` and `/ni` — the answers whose size grows with the table — as streams, or
 * undefined for any other path. answerRead gives the same bodies in one piece.
 */
export function heavyRead(
  pathOnly: string,
  ctx: Pick<ReadApiContext, 'views' | 'peerInfo'>,
): StreamedAnswer | undefined {
  switch (pathOnly) {
    case '/walk':
      return { contentType: TEXT_TYPE, chunks: () => ctx.views.walkChunks() };
    case '/dump':
      return { contentType: 'application/octet-stream', chunks: () => ctx.views.dumpChunks() };
    case '/ni':
    case '/ni/':
      return { contentType: JSON_TYPE, chunks: () => ctx.views.niChunks(ctx.peerInfo()) };
    default:
      return undefined;
  }
}

export interface ReadApiContext {
  readonly views: HttpViews;
  peerInfo(): PeerInfo;
  setDebugNode(ip: string): string;
  /** keys added to `/` after the original's (e.g. the cjdns link's state when it is enabled) */
  rootExtras?(): Record<string, unknown>;
}

/**
 * Answer a GET for one of the original's endpoints, or throw RsError (404 for an unknown path,
 * 400 for a bad parameter). Returns undefined for paths this module does not own (health,
 * metrics), which the transport answers itself.
 */
export function answerRead(pathOnly: string, ctx: ReadApiContext): ReadAnswer | undefined {
  const parts = pathOnly.split('/');
  const first = parts[1] ?? '';
  const n = parts.length;
  switch (first) {
    case '':
      if (n === 2) return json(ctx.views.root(ctx.peerInfo(), ctx.rootExtras?.()));
      break;
    case 'ni':
      if (n === 2 || (n === 3 && parts[2] === '')) return json(ctx.views.ni(ctx.peerInfo()));
      if (n === 3) return json(ctx.views.node(safeDecode(parts[2]!)));
      break;
    case 'walk':
      if (n === 2) return { status: 200, contentType: TEXT_TYPE, body: ctx.views.walk() };
      break;
    case 'dump':
      if (n === 2)
        return { status: 200, contentType: 'application/octet-stream', body: ctx.views.dump() };
      break;
    case 'path': {
      if (n !== 4) throw new RsError('RS_ERR_HTTP_BAD_REQUEST', 'use /path/<srcIp>/<dstIp>');
      const answer = ctx.views.path(safeDecode(parts[2]!), safeDecode(parts[3]!));
      if (typeof answer === 'string') return { status: 200, contentType: TEXT_TYPE, body: answer };
      // the most asked answer: printed straight to bytes, the same as json(answer) (route-json-bytes.ts)
      return answer === null
        ? json(answer)
        : { status: 200, contentType: JSON_TYPE, body: routeJsonBytes(answer) };
    }
    case 'debugnode':
      if (n !== 3) throw new RsError('RS_ERR_HTTP_BAD_REQUEST', 'use /debugnode/<ip>');
      return json({ debugNode: ctx.setDebugNode(safeDecode(parts[2]!)) });
    case 'healthz':
    case 'readyz':
    case 'metrics':
    case 'status':
      if (n === 2) return undefined;
      break;
    default:
      break;
  }
  throw new RsError('RS_ERR_HTTP_NOT_FOUND', `no such path: ${pathOnly.slice(0, 200)}`);
}
