/**
 * Child process of bench/memory.bench.ts (a fresh process, so its RSS is the route server's): a
 * whole route server (src/app.ts, fast engine, default settings, no store) that pulls a
 * synthetic mesh from a replication source over the websocket, as a new route server joining
 * the network does. The announcement bytes therefore come fresh from the socket and everything
 * the server keeps of them is in its growth. It prints one JSON line:
 *
 * - `rssProcess`: RSS before the server starts (the bare process with the code loaded);
 * - `rssIdle`: the server started and idle (HTTP listening, verification and replica workers up,
 *   an empty snapshot built), the point the growth is measured from;
 * - `rssLoaded`: once every announcement of the source is stored and the routes reflect them;
 * - `rssAtRest`: the same once the idle subnode actors are passivated (as the passivation timer
 *   does `subnodeIdleMs` after the last message; default settings, so this is a real pass);
 * - the main thread's heap and array buffers, the workers' heaps, peak RSS, the sync's time.
 *
 * argv: url expectedStore [replication overrides as JSON]
 */
import { readFileSync } from 'node:fs';
import { startApp } from '../src/app.ts';
import { validateConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { bytesToHex } from '../src/protocol/hex.ts';
import { REPLICA_NAMES } from '../src/routing/tree-replica.ts';
import { generateIdentity } from '../src/server/identity.ts';

const url = process.argv[2]!;
const expected = Number(process.argv[3]);
const replication = JSON.parse(process.argv[4] ?? '{}') as Record<string, unknown>;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 250));
  }
};
const status = (field: string): number => {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(field));
  return Number(/(\d+)\s*kB/.exec(line ?? '')?.[1] ?? 0) * 1024;
};
const mem = (): { rss: number; heapUsed: number; arrayBuffers: number; external: number } => {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external };
};

await settle();
const atStart = mem();
const config = validateConfig({
  http: { host: '127.0.0.1', port: 0 },
  admin: { enabled: false },
  identity: { privateKey: bytesToHex(generateIdentity(22).privateKey!) },
  peers: [url],
  replication,
  store: { mode: 'off' },
  log: { level: 'silent' },
});
const app = await startApp(config, silentLogger(), { expiryTimer: false });
const server = app.server;
const routing = server.routing!;
const workerHeaps = async (): Promise<{ verify: number[]; replicas: number[] }> => ({
  verify: (await routing.pool?.heapUsed()) ?? [],
  replicas: await Promise.all(
    REPLICA_NAMES.map((name) => routing.trees.backendOf(name)?.heapUsed() ?? Promise.resolve(0)),
  ),
});
await server.syncRoutes();
await settle();
const idle = mem();
const idleWorkers = await workerHeaps();
const t0 = performance.now();
let lastChange = t0;
let last = 0;
// a stalled sync (nothing stored for 120 s) ends the wait; the report says how far it got
while (server.store.size < expected && performance.now() - lastChange < 120_000) {
  await new Promise((r) => setTimeout(r, 50));
  if (server.store.size !== last) {
    last = server.store.size;
    lastChange = performance.now();
  }
}
const syncMs = performance.now() - t0;
await server.syncRoutes();
await settle();
const loaded = mem();
const loadedWorkers = await workerHeaps();
const actors = routing.directory.activeActors;
routing.directory.passivateIdle(Number.MAX_SAFE_INTEGER);
await settle();
const rested = mem();
process.stdout.write(
  JSON.stringify({
    stored: server.store.size,
    expected,
    syncMs: Math.round(syncMs),
    links: server.linkCount(),
    nodes: server.nodes.size,
    actors,
    rssProcess: atStart.rss,
    rssIdle: idle.rss,
    rssLoaded: loaded.rss,
    rssAtRest: rested.rss,
    rssPeak: status('VmHWM'),
    heapIdle: idle.heapUsed,
    heapLoaded: loaded.heapUsed,
    arrayBuffersIdle: idle.arrayBuffers,
    arrayBuffersLoaded: loaded.arrayBuffers,
    externalIdle: idle.external,
    externalLoaded: loaded.external,
    workersIdle: idleWorkers,
    workersLoaded: loadedWorkers,
  }) + '\n',
);
await app.close();
process.exit(0);
