/**
 * The map page's live status stream (`GET /ui/api/events`, server-sent events): one `status`
 * event at once, then one per interval. One timer and one sample per tick serve every viewer;
 * the timer runs only while someone watches. At most `maxClients` streams (503 beyond); a
 * viewer that does not read (more than 256 KB waiting) is dropped.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { StatusSampler } from '../server/ui/status-sampler.ts';

const SLOW_CLIENT_BYTES = 256 * 1024;

export interface StatusStreamOptions {
  readonly intervalMs: number;
  readonly maxClients: number;
}

export class StatusStream {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private latest: string | undefined;
  private sampling = false;
  private closed = false;

  constructor(
    private readonly sampler: StatusSampler,
    private readonly log: Logger,
    private readonly opts: StatusStreamOptions,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Answer one request with the stream (RS_ERR_HTTP_BUSY when full). */
  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed || this.clients.size >= this.opts.maxClients) {
      throw new RsError('RS_ERR_HTTP_BUSY', `${this.opts.maxClients} status streams already open`);
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 2000\n\n`);
    this.clients.add(res);
    const drop = (): void => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTimer();
    };
    req.on('close', drop);
    res.on('close', drop);
    if (this.latest !== undefined) res.write(this.latest);
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
      this.timer.unref();
      void this.tick();
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.latest = undefined;
  }

  private async tick(): Promise<void> {
    if (this.sampling || this.closed) return;
    this.sampling = true;
    try {
      const status = await this.sampler.sample();
      if (this.closed || this.clients.size === 0) return;
      const event = `event: status\ndata: ${JSON.stringify(status)}\n\n`;
      this.latest = event;
      for (const res of this.clients) {
        if (res.writableLength > SLOW_CLIENT_BYTES) {
          res.destroy();
          continue;
        }
        res.write(event);
      }
    } catch (e) {
      this.log.warn(
        { event: 'ui:status:failed', err: e },
        'sampling the status for the map page failed',
      );
    } finally {
      this.sampling = false;
    }
  }

  /** End every stream (shutdown). */
  close(): void {
    this.closed = true;
    this.stopTimer();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
