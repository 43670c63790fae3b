/**
 * `/ui/…`: the live network map page and its endpoints (docs/ui.md). Read-only.
 *
 * - `/ui/` and `/ui/<file>`: the built page (ui-assets.ts);
 * - `/ui/api/graph`: the whole graph, binary, made in bounded slices (graph-encoder.ts) and
 *   streamed as a heavy answer (heavy-requests.ts: per-client and total caps, back-pressure, the
 *   shared chunk pump, a write timeout and a deadline), like `/walk`;
 * - `/ui/api/node/<ip|key>`, `/ui/api/path/<src>/<dst>`: compact JSON (node-details.ts);
 * - `/ui/api/events`: the live status stream (ui-events.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RsError } from '../errors.ts';
import type { NodeRecordView } from '../graph/node-record.ts';
import type { RouteJson } from '../routing/route-answer.ts';
import type { Logger } from '../log.ts';
import { encodeGraph } from '../server/ui/graph-encoder.ts';
import { nodeIpOf, uiNode, uiPath } from '../server/ui/node-details.ts';
import { StatusSampler, type StatusSources } from '../server/ui/status-sampler.ts';
import type { HeavyAnswer } from './heavy-requests.ts';
import { defaultUiDir, readUiAsset } from './ui-assets.ts';
import { StatusStream } from './ui-events.ts';

export interface UiLimits {
  readonly eventStreams: number;
  readonly statusIntervalMs: number;
}

export const DEFAULT_UI_LIMITS: UiLimits = {
  eventStreams: 16,
  statusIntervalMs: 1000,
};

/** Stream a heavy answer for the request being handled (http-server.ts: HeavyRequests#answer). */
export type StreamHeavy = (answer: HeavyAnswer) => Promise<unknown>;

export interface UiHttpDeps {
  /** the node table */
  readonly nodes: Iterable<NodeRecordView> & { get(ip: string): NodeRecordView | undefined };
  route(srcIp: string, dstIp: string): RouteJson | null;
  /** ms, the server's clock */
  now(): number;
  readonly status: StatusSources;
  readonly log: Logger;
  /** the built page (default: dist/ui of this package) */
  readonly dir?: string;
  readonly limits?: Partial<UiLimits>;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new RsError('RS_ERR_HTTP_BAD_REQUEST', 'malformed percent-encoding in the path');
  }
}

function sendJson(res: ServerResponse, value: unknown, head: boolean): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
  });
  res.end(head ? undefined : body);
}

export class UiHttp {
  private readonly limits: UiLimits;
  private readonly dir: string;
  private readonly events: StatusStream;

  constructor(private readonly deps: UiHttpDeps) {
    this.limits = { ...DEFAULT_UI_LIMITS, ...deps.limits };
    this.dir = deps.dir ?? defaultUiDir();
    this.events = new StatusStream(new StatusSampler(deps.status), deps.log, {
      intervalMs: this.limits.statusIntervalMs,
      maxClients: this.limits.eventStreams,
    });
  }

  /**
   * Answer a GET/HEAD under `/ui` (`pathOnly` starts with `/ui`); `streamHeavy` streams the graph.
   * Throws RsError for 4xx/503.
   */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    pathOnly: string,
    streamHeavy: StreamHeavy,
  ): Promise<void> {
    const head = req.method === 'HEAD';
    const parts = pathOnly.split('/');
    const n = parts.length;
    if (n === 2) {
      res.writeHead(308, { Location: '/ui/' });
      res.end();
      return;
    }
    if (parts[2] !== 'api') {
      if (n !== 3)
        throw new RsError('RS_ERR_HTTP_NOT_FOUND', `no such path: ${pathOnly.slice(0, 200)}`);
      const asset = await readUiAsset(this.dir, safeDecode(parts[2]!));
      res.writeHead(200, {
        'Content-Type': asset.contentType,
        'Content-Length': asset.body.length,
        'Cache-Control': 'no-cache',
      });
      res.end(head ? undefined : asset.body);
      return;
    }
    switch (n === 4 || n === 5 || n === 6 ? parts[3] : undefined) {
      case 'graph':
        if (n === 4) {
          await streamHeavy({
            contentType: 'application/octet-stream',
            headers: { 'Cache-Control': 'no-store' },
            chunks: () => encodeGraph(this.deps.nodes, this.deps.now()),
          });
          return;
        }
        break;
      case 'events':
        if (n === 4) return this.events.open(req, res);
        break;
      case 'node':
        if (n === 5) return sendJson(res, this.node(safeDecode(parts[4]!)), head);
        break;
      case 'path':
        if (n === 6)
          return sendJson(res, this.path(safeDecode(parts[4]!), safeDecode(parts[5]!)), head);
        break;
      default:
        break;
    }
    throw new RsError('RS_ERR_HTTP_NOT_FOUND', `no such path: ${pathOnly.slice(0, 200)}`);
  }

  private node(text: string): unknown {
    const ip = nodeIpOf(text);
    const rec = this.deps.nodes.get(ip);
    if (!rec) throw new RsError('RS_ERR_HTTP_NOT_FOUND', `no node ${ip}`);
    return uiNode(rec, (peer) => this.deps.nodes.get(peer));
  }

  private path(srcText: string, dstText: string): unknown {
    const src = nodeIpOf(srcText, 'src');
    const dst = nodeIpOf(dstText, 'dst');
    if (!this.deps.nodes.get(src))
      throw new RsError('RS_ERR_HTTP_NOT_FOUND', `src not found: ${src}`);
    if (!this.deps.nodes.get(dst))
      throw new RsError('RS_ERR_HTTP_NOT_FOUND', `tar not found: ${dst}`);
    return uiPath(src, dst, this.deps.route(src, dst));
  }

  /** End the event streams (shutdown). */
  close(): void {
    this.events.close();
  }
}
