/**
 * Query load for bench/sync-sink.ts, as a process of its own: `clients` keep-alive HTTP clients
 * asking `/path/<a>/<b>` for random pairs of the node addresses read from the first stdin line,
 * each asking again as soon as its answer is in, until stdin closes; then one JSON line:
 * `{queries, qps, p50, p99, errors}` (latency in ms, as the clients see it).
 *
 *   node --import tsx bench/query-load.ts <port> <clients>
 */
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { percentile, prng } from './harness.ts';

const [port, clients] = process.argv.slice(2).map(Number) as [number, number];
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const ips = JSON.parse((await lines.next()).value as string) as string[];
let stop = false;
void lines.next().then(() => (stop = true)); // stdin closed
const agent = new Agent({ keepAlive: true, maxSockets: clients });
const rnd = prng(12345);
const latencies: number[] = [];
let errors = 0;

function ask(): Promise<void> {
  const a = ips[Math.floor(rnd() * ips.length)]!;
  const b = ips[Math.floor(rnd() * ips.length)]!;
  const t0 = performance.now();
  return new Promise<void>((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: `/path/${a}/${b}`, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) errors++;
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

const t0 = performance.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (!stop) await ask();
  }),
);
const secs = (performance.now() - t0) / 1000;
latencies.sort((x, y) => x - y);
process.stdout.write(
  JSON.stringify({
    queries: latencies.length,
    qps: latencies.length / secs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  }) + '\n',
);
process.exit(0);
