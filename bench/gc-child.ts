/**
 * Child process of bench/gc.bench.ts, run with `--trace-gc-nvp`: a fast-mode route server loaded
 * with the synthetic mesh of `n` nodes, then `count` link-state updates (signed beforehand, so
 * only the server allocates during the measured part) fed through the whole fast pipeline with
 * at most `window` in flight. V8 prints one line per collection of every isolate on stdout; this
 * process prints `### INGEST START` / `### INGEST END` around the ingest and a JSON line with
 * what was accepted, for the parent to read them.
 *
 * argv: n count window seed
 */
import { prng } from './harness.ts';
import { buildWorld, dropWorlds, feed, linkStateUpdate, loadedServer } from './world.ts';

const n = Number(process.argv[2]);
const count = Number(process.argv[3]);
const window = Number(process.argv[4]);
const seed = Number(process.argv[5] ?? 42);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const w = await buildWorld(n, seed);
const rnd = prng(seed + 1);
const updates: Uint8Array[] = [];
for (let k = 0; k < count; k++) updates.push(linkStateUpdate(w, Math.floor(rnd() * n)));
const server = await loadedServer(w);
dropWorlds(w);
gc();
await new Promise((r) => setTimeout(r, 300));
process.stdout.write('### INGEST START\n');
const t0 = performance.now();
const r = await feed(server, w, updates, window);
const ms = performance.now() - t0;
process.stdout.write('### INGEST END\n');
process.stdout.write(
  JSON.stringify({ accepted: r.accepted, rejected: r.rejected, ms: Math.round(ms) }) + '\n',
);
await server.close();
process.exit(0);
