/**
 * `/path` answers printed to bytes (src/server/route-json-bytes.ts) against what they replaced,
 * `Buffer.from(JSON.stringify(route, null, 2))`, on the same real answers of a generated mesh
 * (bench/world.ts, 10k nodes; quick: 2k), in the same run: answers per second on one core, and
 * the bytes each printing allocates on the V8 heap (what the scavenges that pause every query
 * in flight have to deal with).
 */
import { buildWorld, loadedServer } from './world.ts';
import { opsPerSecond, type BenchOptions, type BenchResult } from './harness.ts';
import type { RouteJson } from '../src/routing/route-answer.ts';
import { routeJsonBytes } from '../src/server/route-json-bytes.ts';

/** V8 heap bytes `f` allocates per call, over `n` calls (the heap's growth, with no GC between). */
function heapBytesPerCall(f: () => void, n: number): number {
  const v8 = process.memoryUsage;
  f(); // compiled already (opsPerSecond ran it), warm caches
  const before = v8().heapUsed;
  for (let i = 0; i < n; i++) f();
  return (v8().heapUsed - before) / n;
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const n = opts.quick ? 2000 : 10_000;
  const w = await buildWorld(n, opts.seed);
  const server = await loadedServer(w);
  const routes: RouteJson[] = [];
  for (let i = 0; routes.length < 1000 && i < 20_000; i++) {
    const r = server.views.path(w.ips[(i * 7919) % n]!, w.ips[(i * 104_729 + 13) % n]!);
    if (r !== null && typeof r === 'object') routes.push(r);
  }
  let bytes = 0;
  for (const r of routes) {
    const b = routeJsonBytes(r);
    if (!b.equals(Buffer.from(JSON.stringify(r, null, 2), 'utf8')))
      throw new Error('a /path answer printed to other bytes than JSON.stringify prints');
    bytes += b.length;
  }
  const minMs = opts.quick ? 300 : 1500;
  let i = 0;
  const printed = (): void => void routeJsonBytes(routes[i++ % routes.length]!);
  let j = 0;
  const stringified = (): void =>
    void Buffer.from(JSON.stringify(routes[j++ % routes.length]!, null, 2), 'utf8');
  const fast = opsPerSecond(printed, { minMs });
  const slow = opsPerSecond(stringified, { minMs });
  // few enough calls that no scavenge runs in between (the young generation holds them)
  const heapFast = heapBytesPerCall(printed, 200);
  const heapSlow = heapBytesPerCall(stringified, 200);
  await server.close?.();
  return [
    {
      name: '/path answers printed to bytes /s (1 core)',
      value: fast,
      unit: 'answers/s',
      baseline: {
        name: 'Buffer.from(JSON.stringify(route, null, 2))',
        value: slow,
        unit: 'answers/s',
      },
      ratio: fast / slow,
      notes: `${routes.length} real answers of a ${n}-node mesh, ${(bytes / routes.length).toFixed(0)} bytes each (byte-identical); V8 heap per answer ${heapFast.toFixed(0)} B against ${heapSlow.toFixed(0)} B`,
    },
  ];
}
