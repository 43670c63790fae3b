/**
 * Heavy requests: answers that walk the whole table (`/walk`, `/dump`, `/ni`; any endpoint of
 * that kind should go through here). Each holds a slot while it streams — at most
 * `heavy.perAddress` per client and `heavy.total` in all, refused at once beyond that (429 for
 * the client's own share, 503 when everyone's is used up) — and is written with back-pressure,
 * a write timeout and a deadline (stream-response.ts). Counted on /metrics.
 *
 * Adopting it for another endpoint: `heavy.answer(req, res, client, { contentType, chunks })`
 * with `client` from ClientAddress and `chunks` a function returning an iterator of
 * string/Uint8Array chunks of at most a few tens of KB each (called only once a slot is taken).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RsError } from '../errors.ts';
import { AddressSlots } from '../lib/address-slots.ts';
import type { HeavySettings } from './http-settings.ts';
import { streamChunks, type StreamEnd } from './stream-response.ts';

export interface HeavyAnswer {
  readonly status?: number;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** the body, made chunk by chunk; called once the slot is taken (and not for HEAD) */
  chunks(): Iterator<string | Uint8Array, unknown, undefined>;
}

export class HeavyRequests {
  private readonly slots: AddressSlots;
  private readonly refused: Counter<'reason'>;
  private readonly ended: Counter<'end'>;

  constructor(
    private readonly settings: HeavySettings,
    registry: Registry,
  ) {
    this.slots = new AddressSlots({ perAddress: settings.perAddress, total: settings.total });
    const slots = this.slots;
    new Gauge({
      name: 'snode_http_heavy_active',
      help: 'heavy requests (whole-table answers) in progress',
      registers: [registry],
      collect() {
        this.set(slots.active);
      },
    });
    this.refused = new Counter({
      name: 'snode_http_heavy_refused_total',
      help: 'heavy requests refused: the client had heavy.perAddress in progress (address), or everyone had heavy.total (total)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.ended = new Counter({
      name: 'snode_http_heavy_ended_total',
      help: 'heavy answers by how they ended: done, closed by the client, cut after heavy.writeTimeoutMs without progress (write_timeout) or at heavy.deadlineMs (deadline)',
      labelNames: ['end'],
      registers: [registry],
    });
  }

  /** Heavy requests in progress. */
  get active(): number {
    return this.slots.active;
  }

  /** Take a slot for `client` or throw (429 RS_ERR_HTTP_TOO_MANY_REQUESTS, 503 RS_ERR_HTTP_BUSY); returns the release. */
  acquire(client: string): () => void {
    const slot = this.slots.tryAcquire(client);
    if (typeof slot === 'function') return slot;
    this.refused.inc({ reason: slot });
    if (slot === 'address') {
      throw new RsError(
        'RS_ERR_HTTP_TOO_MANY_REQUESTS',
        `${this.settings.perAddress} heavy requests from this address are in progress; retry when one is done`,
      );
    }
    throw new RsError(
      'RS_ERR_HTTP_BUSY',
      `${this.settings.total} heavy requests are in progress; retry shortly`,
    );
  }

  /** Answer `req` with `answer`, streamed while holding a slot of `client`. */
  async answer(
    req: IncomingMessage,
    res: ServerResponse,
    client: string,
    answer: HeavyAnswer,
  ): Promise<StreamEnd> {
    const release = this.acquire(client);
    try {
      res.writeHead(answer.status ?? 200, {
        'Content-Type': answer.contentType,
        ...answer.headers,
      });
      if (req.method === 'HEAD') {
        res.end();
        return 'done';
      }
      const end = await streamChunks(res, answer.chunks(), this.settings);
      this.ended.inc({ end });
      return end;
    } finally {
      release();
    }
  }
}
