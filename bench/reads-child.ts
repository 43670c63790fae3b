/**
 * Child process of bench/reads.bench.ts (a fresh process, so its RSS is the route server's): a
 * route server with the synthetic network of `n` nodes loaded through the whole fast pipeline,
 * HTTP on a loopback port, the heavy limits from argv. It reports `{port, rss}` once loaded, then
 * answers `rss` (resident set size now) and `lag` (event-loop delay p99 since the last `lag`)
 * requests over IPC.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startApp } from '../src/app.ts';
import { validateConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { bytesToHex } from '../src/protocol/hex.ts';
import { T0, buildWorld, dropWorlds, feed } from './world.ts';

const n = Number(process.argv[2]);
const seed = Number(process.argv[3] ?? 42);
const heavy = JSON.parse(process.argv[4] ?? '{}') as Record<string, number>;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 200));
  }
};

const w = await buildWorld(n, seed);
const config = validateConfig({
  http: { host: '127.0.0.1', port: 0, heavy },
  admin: { enabled: false },
  identity: { privateKey: bytesToHex(w.selfKey.priv) },
  // a synthetic network: nothing to keep across runs (and no log in the working directory)
  store: { mode: 'off' },
  log: { level: 'silent' },
});
const app = await startApp(config, silentLogger(), { clock: w.clock, expiryTimer: false });
w.clock.set(T0);
const loaded = await feed(app.server, w, w.initial.flat());
await app.server.syncRoutes();
dropWorlds(w);
let walkBytes = 0;
for (const chunk of app.server.views.walkChunks()) walkBytes += Buffer.byteLength(chunk);
await settle();
const lag = monitorEventLoopDelay({ resolution: 1 });
lag.enable();
process.on('message', (m: { type: string }) => {
  if (m.type === 'rss') process.send!({ type: 'rss', rss: process.memoryUsage().rss });
  if (m.type === 'gc')
    void settle().then(() => process.send!({ type: 'gc', rss: process.memoryUsage().rss }));
  if (m.type === 'lag') {
    process.send!({ type: 'lag', p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 });
    lag.reset();
  }
  if (m.type === 'stop') void app.close().then(() => process.exit(0));
});
process.send!({
  type: 'ready',
  port: app.address().port,
  rss: process.memoryUsage().rss,
  nodes: app.server.nodes.size,
  links: app.server.linkCount(),
  accepted: loaded.accepted,
  walkBytes,
});
