/**
 * Query load for bench/sync-sink.ts, as a process of its own: `clients` keep-alive HTTP/1.1
 * connections asking `/path/<a>/<b>` for random pairs of the node addresses read from the first
 * stdin line, each asking again as soon as its answer is in, until a second line —
 * `{"windows":[[from,to],…],"alone":[from,to]}`, epoch milliseconds (`performance.timeOrigin +
 * performance.now()`) — or stdin closing; then one JSON line: `{queries, qps, p50, p99, errors,
 * loopDelayP99, alone}` over the queries asked within the windows (all of them without any), and
 * `alone: {queries, p50, p99}` over those asked within `alone` (the same clients with no ingest
 * going on): latency in ms as the clients see it, and this process's own event-loop delay p99
 * (how much of the latency is the load generator's).
 *
 * The clients are plain sockets (node:net), not node:http's client: they share this machine's
 * cores with the measured server, and node:http's request and response objects made the load
 * generator the second-busiest process of the benchmark (its event loop late by 3.5–4 ms at p99,
 * ~25 % fewer queries answered). Each connection writes a preformatted GET and frames the
 * answer by its Content-Length, which the route server always sends.
 *
 *   node --import tsx bench/query-load.ts <port> <clients>
 */
import { connect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { percentile, prng } from './harness.ts';

type Span = [number, number];

const [port, clients] = process.argv.slice(2).map(Number) as [number, number];
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const ips = JSON.parse((await lines.next()).value as string) as string[];
let stop = false;
let spans: { windows: Span[]; alone?: Span } | undefined;
void lines.next().then((l) => {
  if (!l.done) spans = JSON.parse(l.value) as { windows: Span[]; alone?: Span };
  stop = true;
});
const rnd = prng(12345);
/** per query: when it was asked (epoch ms) and its latency (ms) */
const asked: number[] = [];
const latencies: number[] = [];
let errors = 0;
const epochMs = (): number => performance.timeOrigin + performance.now();
const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

/** One keep-alive connection asking until `stop`; resolves when it has stopped. */
function client(): Promise<void> {
  return new Promise<void>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    let pending: Buffer = Buffer.alloc(0);
    let t0 = 0;
    /** bytes of the answer in `pending` (head and body) once its head is in, else -1 */
    let answerBytes = -1;
    let status = 0;
    const finish = (): void => {
      socket.destroy();
      resolve();
    };
    const ask = (): void => {
      if (stop) return finish();
      const a = ips[Math.floor(rnd() * ips.length)]!;
      const b = ips[Math.floor(rnd() * ips.length)]!;
      t0 = performance.now();
      socket.write(`GET /path/${a}/${b} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    };
    socket.on('connect', ask);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (answerBytes < 0) {
        const end = pending.indexOf(HEAD_END);
        if (end < 0) return;
        const head = pending.toString('latin1', 0, end);
        const length = CONTENT_LENGTH.exec(head);
        if (!length) {
          errors++; // not an answer this client can frame: this connection stops
          return finish();
        }
        status = Number(head.slice(9, 12));
        answerBytes = end + HEAD_END.length + Number(length[1]);
      }
      if (pending.length < answerBytes) return;
      asked.push(performance.timeOrigin + t0);
      latencies.push(performance.now() - t0);
      if (status !== 200) errors++;
      pending = pending.subarray(answerBytes);
      answerBytes = -1;
      ask();
    });
    socket.on('error', () => {
      errors++;
      finish();
    });
  });
}

/** The latencies of the queries asked within any of `spans`, sorted. */
function within(spans: readonly Span[]): number[] {
  return latencies
    .filter((_, i) => spans.some(([from, to]) => asked[i]! >= from && asked[i]! <= to))
    .sort((x, y) => x - y);
}

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const started = epochMs();
await Promise.all(Array.from({ length: clients }, client));
const windows: Span[] = spans?.windows ?? [[started, epochMs()]];
const inWindow = within(windows);
const alone = spans?.alone ? within([spans.alone]) : [];
const windowSecs = windows.reduce((s, [from, to]) => s + (to - from) / 1000, 0);
process.stdout.write(
  JSON.stringify({
    queries: inWindow.length,
    qps: inWindow.length / windowSecs,
    p50: percentile(inWindow, 50),
    p99: percentile(inWindow, 99),
    errors,
    loopDelayP99: loop.percentile(99) / 1e6,
    alone: { queries: alone.length, p50: percentile(alone, 50), p99: percentile(alone, 99) },
  }) + '\n',
);
process.exit(0);
