/**
 * Child process: a replication source. A whole route server (src/app.ts, fast engine, no store)
 * holding the synthetic mesh of `n` nodes (bench/mesh-app.ts: the nodes' own announcements
 * through the fast pipeline), listening on a loopback port. It prints one JSON line
 * `{port, store, nodes, links}` once loaded and serves replication peers until it gets SIGTERM.
 * The memory bench pulls the mesh from it over the replication websocket into a fresh process.
 *
 * argv: n seed
 */
import { startMeshApp } from './mesh-app.ts';
import { dropWorlds } from './world.ts';

const n = Number(process.argv[2]);
const seed = Number(process.argv[3] ?? 42);
const mesh = await startMeshApp(n, seed, { log: (s) => void process.stderr.write(`# ${s}\n`) });
dropWorlds(mesh.world);
const { port } = mesh.app.address();
process.stdout.write(
  JSON.stringify({
    port,
    store: mesh.app.server.store.size,
    nodes: mesh.app.server.nodes.size,
    links: mesh.app.server.linkCount(),
  }) + '\n',
);
const stop = (): void => void mesh.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => undefined, 1 << 30);
