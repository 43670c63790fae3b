/**
 * Child process of bench/memory.bench.ts (a fresh process, so its RSS is the route server's):
 * loads a synthetic network of `n` nodes into a fast-mode route server and prints the memory
 * before and after as one JSON line.
 */
import { buildWorld, loadedServer } from './world.ts';

const n = Number(process.argv[2]);
const seed = Number(process.argv[3] ?? 42);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 200));
  }
};

const w = await buildWorld(n, seed);
await settle();
const before = process.memoryUsage();
const server = await loadedServer(w);
await settle();
const after = process.memoryUsage();
// the same server once its idle subnode actors are passivated (records stay in the directory)
const live = server.routing!.directory.activeActors;
server.routing!.directory.passivateIdle(Number.MAX_SAFE_INTEGER);
await settle();
const rested = process.memoryUsage();
process.stdout.write(
  JSON.stringify({
    n,
    links: server.linkCount(),
    nodes: server.nodes.size,
    announcements: server.store.size,
    actors: live,
    rss: after.rss - before.rss,
    rssAtRest: rested.rss - before.rss,
    heap: after.heapUsed - before.heapUsed,
    external: after.external + after.arrayBuffers - before.external - before.arrayBuffers,
  }) + '\n',
);
await server.close();
process.exit(0);
