/**
 * A whole route-server process (src/app.ts: HTTP, the map page, fast routing) on a loopback port,
 * holding a synthetic mesh of `n` nodes (bench/world.ts: real signed announcements, fed through
 * the route server as the nodes' own). The map page's browser test and bench use it.
 */
import { startApp, type App } from '../src/app.ts';
import { validateConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { bytesToHex } from '../src/protocol/hex.ts';
import type { BenchKey } from './keys.ts';
import { buildWorld, feed, T0, type World } from './world.ts';

export interface MeshApp {
  readonly app: App;
  readonly world: World;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  close(): Promise<void>;
}

export interface MeshAppOptions {
  readonly log?: (s: string) => void;
  /** the identities (n + 1) instead of bench/keys.ts's for the seed */
  readonly keys?: readonly BenchKey[];
}

export async function startMeshApp(
  n: number,
  seed: number,
  opts: MeshAppOptions = {},
): Promise<MeshApp> {
  const log = opts.log ?? ((): void => undefined);
  const world = await buildWorld(n, seed, log, opts.keys);
  const config = validateConfig({
    http: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    identity: { privateKey: bytesToHex(world.selfKey.priv), version: 22 },
    routing: { mode: 'fast' },
    // a synthetic network: nothing to keep across runs (and no log in the working directory)
    store: { mode: 'off' },
    log: { level: 'silent' },
  });
  world.clock.set(T0);
  const app = await startApp(config, silentLogger(), { clock: world.clock, expiryTimer: false });
  try {
    const t0 = Date.now();
    const all = world.initial.flat();
    const r = await feed(app.server, world, all);
    if (r.accepted !== all.length) {
      throw new Error(
        `loading the mesh: ${r.accepted} of ${all.length} accepted, ${r.rejected} refused, ${JSON.stringify([...r.errors])}`,
      );
    }
    await app.server.syncRoutes();
    log(
      `  mesh of ${n} nodes loaded into the route server in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  } catch (e) {
    await app.close();
    throw e;
  }
  const { port } = app.address();
  return { app, world, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
