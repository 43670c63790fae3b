/**
 * A replication source for the sync and ingest benchmarks, as a process of its own: a fast-mode
 * route server loaded with the generated world (bench/world.ts) as gossip — every node's
 * initial announcements, then `updates` link-state updates per node (so that a 50k-node world
 * holds more than 100k announcements) — listening on a loopback port.
 *
 *   node --import tsx bench/sync-peer.ts <nodes> <seed> <updatesPerNode> <identityIndex>
 *
 * stdout, one JSON line each: `{"ready":…,"port":…,"store":…}` once loaded; after a stdin line
 * `{"churn":M}`: M more link-state updates (random nodes) ingested, then `{"churned":M,"secs":…}`.
 * The churn is signed and parsed before its ingest starts, and ingested without verifying its
 * signatures (this process made them): while the measured server pulls it, the source stands
 * for another operator's machine and should take as little of this one's CPU as it can.
 * It exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { startApp } from '../src/app.ts';
import { validateConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import type { Announcement } from '../src/protocol/announcement-types.ts';
import { parseAnnouncement } from '../src/protocol/announcement.ts';
import { bytesToHex } from '../src/protocol/hex.ts';
import { prng } from './harness.ts';
import { loadKeys } from './keys.ts';
import { buildWorld, linkStateUpdate } from './world.ts';

const [n, seed, updates, idx] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number,
];
const keys = await loadKeys(n + 16, seed);
const world = await buildWorld(n, seed, undefined, keys);
const app = await startApp(
  validateConfig({
    http: { host: '127.0.0.1', port: 0 },
    admin: { enabled: false },
    identity: { privateKey: bytesToHex(keys[n + 1 + idx]!.priv) },
    log: { level: 'silent' },
    store: { mode: 'off' }, // no announcement log (the benches measure the pipeline)
  }),
  silentLogger(),
  { expiryTimer: false },
);

/** One announcement as gossip; a busy server (a typed rejection) is asked again. */
async function submit(m: Uint8Array | Announcement): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await app.server.submitAnnouncement(m, 'gossip')).error === 'none';
    } catch (e) {
      if (attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Ingest as gossip with a bounded window; returns how many were refused. */
async function ingest(msgs: Iterable<Uint8Array | Announcement>): Promise<number> {
  const inFlight = new Set<Promise<void>>();
  let refused = 0;
  for (const m of msgs) {
    if (inFlight.size >= 256) await Promise.race(inFlight);
    const p: Promise<void> = submit(m).then((ok) => {
      if (!ok) refused++;
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return refused;
}

function* updatesOf(rounds: number): Generator<Uint8Array> {
  for (let r = 0; r < rounds; r++) for (let i = 0; i < n; i++) yield linkStateUpdate(world, i);
}

const refused = (await ingest(world.initial.flat())) + (await ingest(updatesOf(updates)));
world.initial = [];
process.stdout.write(
  JSON.stringify({ ready: true, port: app.address().port, store: app.server.store.size, refused }) +
    '\n',
);

const rnd = prng(seed + 1000 + idx);
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === '') continue;
  const cmd = JSON.parse(line) as { churn?: number };
  if (cmd.churn) {
    const batch = Array.from({ length: cmd.churn }, () =>
      parseAnnouncement(linkStateUpdate(world, Math.floor(rnd() * n)), { verifySignature: false }),
    );
    const t0 = performance.now();
    const bad = await ingest(batch);
    process.stdout.write(
      JSON.stringify({ churned: cmd.churn, refused: bad, secs: (performance.now() - t0) / 1000 }) +
        '\n',
    );
  }
}
await app.close();
process.exit(0);
