/**
 * Query load for bench/sync-sink.ts, as a process of its own: `clients` keep-alive HTTP clients
 * asking `/path/<a>/<b>` for random pairs of the node addresses read from the first stdin line,
 * each asking again as soon as its answer is in, until a second line — `{"window":[from,to]}`,
 * epoch milliseconds (`performance.timeOrigin + performance.now()`) — or stdin closing; then one
 * JSON line: `{queries, qps, p50, p99, errors, loopDelayP99}` over the queries asked within the
 * window (all of them without one): latency in ms as the clients see it, and this process's own
 * event-loop delay p99 (how much of the latency is the load generator's).
 *
 *   node --import tsx bench/query-load.ts <port> <clients>
 */
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { percentile, prng } from './harness.ts';

const [port, clients] = process.argv.slice(2).map(Number) as [number, number];
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const ips = JSON.parse((await lines.next()).value as string) as string[];
let stop = false;
let window: [number, number] | undefined;
void lines.next().then((l) => {
  if (!l.done) window = (JSON.parse(l.value) as { window: [number, number] }).window;
  stop = true;
});
const agent = new Agent({ keepAlive: true, maxSockets: clients });
const rnd = prng(12345);
/** per query: when it was asked (epoch ms) and its latency (ms) */
const asked: number[] = [];
const latencies: number[] = [];
let errors = 0;
const epochMs = (): number => performance.timeOrigin + performance.now();

function ask(): Promise<void> {
  const a = ips[Math.floor(rnd() * ips.length)]!;
  const b = ips[Math.floor(rnd() * ips.length)]!;
  const t0 = performance.now();
  return new Promise<void>((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: `/path/${a}/${b}`, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) errors++;
        asked.push(performance.timeOrigin + t0);
        latencies.push(performance.now() - t0);
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
}

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const started = epochMs();
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (!stop) await ask();
  }),
);
const [from, to] = window ?? [started, epochMs()];
const inWindow = latencies.filter((_, i) => asked[i]! >= from && asked[i]! <= to);
inWindow.sort((x, y) => x - y);
process.stdout.write(
  JSON.stringify({
    queries: inWindow.length,
    qps: inWindow.length / ((to - from) / 1000),
    p50: percentile(inWindow, 50),
    p99: percentile(inWindow, 99),
    errors,
    loopDelayP99: loop.percentile(99) / 1e6,
  }) + '\n',
);
process.exit(0);
