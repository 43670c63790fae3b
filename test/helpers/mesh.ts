/**
 * A route-server process holding a generated mesh (bench/mesh-app.ts), with identities from the
 * stored key list (test/fixtures/mesh/keys.bin) so that no run spends a minute finding fc keys.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keysFromScalars, type BenchKey } from '../../bench/keys.ts';
import { startMeshApp, type MeshApp } from '../../bench/mesh-app.ts';
import { buildWorld, T0, timestampOf, type World } from '../../bench/world.ts';
import { identityFromPrivateKey } from '../../src/server/identity.ts';
import { RouteServer } from '../../src/server/route-server.ts';
import { fixturesDir } from './vectors.ts';

let keys: BenchKey[] | undefined;

/** The stored fc keys (10,240), derived once per process. */
export function meshKeys(): readonly BenchKey[] {
  keys ??= keysFromScalars(new Uint8Array(readFileSync(join(fixturesDir(), 'mesh', 'keys.bin'))));
  return keys;
}

/** A process on a loopback port holding an `n`-node mesh (n < 10,240). */
export function startTestMesh(n: number): Promise<MeshApp> {
  return startMeshApp(n, 42, { keys: meshKeys().slice(0, n + 1) });
}

/**
 * A route server (reference mode, in this process) holding an `n`-node mesh, every announcement
 * applied as the node's own. For unit tests of what is read from the node table.
 */
export async function meshServer(
  n: number,
  seed = 7,
): Promise<{ server: RouteServer; world: World }> {
  const world = await buildWorld(n, seed, undefined, meshKeys().slice(0, n + 1));
  // what is read from the node table, not routes: the reference engine, no workers to start
  const server = new RouteServer({
    self: identityFromPrivateKey(world.selfKey.priv, 22),
    clock: world.clock,
    routing: { mode: 'reference' },
  });
  world.clock.set(T0);
  for (const m of world.initial.flat()) {
    world.clock.set(Math.max(world.clock.now(), timestampOf(m)));
    const outcome = await server.submitAnnouncement(m, 'node');
    if (outcome.error !== 'none') throw new Error(`mesh announcement refused: ${outcome.error}`);
  }
  return { server, world };
}
