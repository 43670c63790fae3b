/**
 * Replication throughput: announcements/s carried from one route server to another over the
 * peer protocol (two in-process servers, loopback websocket, default limits), beside the
 * receiving server's own direct ingest rate of the same announcements through the gossip path,
 * measured in the same run. Two figures: the initial sync (B connects to a loaded A) and live
 * propagation (A ingests while B is connected; end to end, A's ingest included).
 *
 * Inputs are real signed announcements (buildAnnouncement + entity serializers): K distinct
 * nodes, each a reset (Version, EncodingScheme, one Peer) followed by updates announcing one new
 * peer each, so every message is kept. They are addressed to a third route server, so both A and
 * B accept them as gossip.
 *
 * Both servers share this process's one event loop, so the ratio's ceiling is below 1: the
 * initial sync also pays A's serving (GET_DATA → DATA) and both sides' framing, and the live
 * figure also pays A's own ingest (a second signature check per announcement: about half). The
 * targets are ours (the issue asks for the figure, not a bound): 0.4 and 0.3.
 */
import { generateKeyPairSync } from 'node:crypto';
import { startApp, type App } from '../src/app.ts';
import { validateConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { buildAnnouncement } from '../src/protocol/announcement.ts';
import { SCHEMES } from '../src/protocol/encoding-scheme.ts';
import {
  serializeEncodingSchemeEntity,
  serializePeer,
  serializeVersion,
} from '../src/protocol/entity.ts';
import { bytesToHex, concatBytes } from '../src/protocol/hex.ts';
import { ip6FromPublicKey, ip6ToString } from '../src/protocol/keys.ts';
import type { BenchOptions, BenchResult } from './harness.ts';

interface Key {
  readonly priv: Uint8Array;
  readonly ipv6: string;
}

/** Keys whose cjdns address starts with fc (about 1 in 256; native X25519 keeps it fast). */
function fcKeys(count: number): Key[] {
  const out: Key[] = [];
  while (out.length < count) {
    const kp = generateKeyPairSync('x25519', {
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    });
    const ip = ip6FromPublicKey(new Uint8Array(kp.publicKey.subarray(kp.publicKey.length - 32)));
    if (ip[0] !== 0xfc) continue;
    out.push({
      priv: new Uint8Array(kp.privateKey.subarray(kp.privateKey.length - 32)),
      ipv6: ip6ToString(ip),
    });
  }
  return out;
}

function buildAnnouncements(
  nodes: readonly Key[],
  perNode: number,
  snodeIp: string,
  t0: number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  // node order outer, message order inner: resets come before their updates
  nodes.forEach((n, i) => {
    for (let j = 0; j < perNode; j++) {
      const peer = nodes[(i + j + 1) % nodes.length]!;
      const peerEntity = serializePeer({
        ipv6: peer.ipv6,
        label: 0x13 + 2 * j,
        peerNum: j + 1,
        mtu: 1280,
        encodingFormNum: 0,
      });
      out.push(
        buildAnnouncement({
          privateKey: n.priv,
          snodeIp,
          timestamp: t0 + j * 10,
          isReset: j === 0,
          entities:
            j === 0
              ? concatBytes(
                  serializeVersion(22),
                  serializeEncodingSchemeEntity(SCHEMES.v358),
                  peerEntity,
                )
              : peerEntity,
        }),
      );
    }
  });
  return out;
}

async function startServer(key: Key, peers: string[] = []): Promise<App> {
  const config = validateConfig({
    http: { host: '127.0.0.1', port: 0 },
    // two servers run at once: the admin listener's fixed default port (3335) would collide
    admin: { enabled: false },
    identity: { privateKey: bytesToHex(key.priv) },
    peers,
    // a synthetic network: nothing to keep across runs (and no log in the working directory)
    store: { mode: 'off' },
    log: { level: 'silent' },
  });
  return startApp(config, silentLogger(), { expiryTimer: false });
}

async function until(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`replication bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Submit in order with up to `window` outcomes outstanding: the same concurrency the receiving
 * peer uses (`replication.applyWindow`), so the baseline is the server's best ingest at it.
 */
async function ingest(app: App, anns: readonly Uint8Array[], window: number): Promise<void> {
  const inFlight: Array<Promise<unknown>> = [];
  const check = (o: { error: string }): void => {
    if (o.error !== 'none') throw new Error(`replication bench: announcement refused (${o.error})`);
  };
  for (const a of anns) {
    if (inFlight.length >= window) await inFlight.shift();
    inFlight.push(app.server.submitAnnouncement(a, 'gossip').then(check));
  }
  await Promise.all(inFlight);
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const nodeCount = opts.quick ? 30 : 150;
  const perNode = opts.quick ? 10 : 20;
  const [keyA, keyB, keyC, keyD, third] = fcKeys(5);
  const nodes = fcKeys(nodeCount);
  const anns = buildAnnouncements(nodes, perNode, third!.ipv6, Date.now() - 60_000);
  const n = anns.length;
  const timeoutMs = 120_000;

  const rounds = opts.quick ? 2 : 3;
  const window = validateConfig({}).replication.applyWindow;
  const rate = (t0: number): number => (n * 1000) / (performance.now() - t0);

  // warm-up (JIT, module loading)
  const warm = await startServer(keyB!);
  await ingest(warm, anns.slice(0, Math.min(n, 500)), window);
  await warm.close();

  // each figure is the best of `rounds` runs (the machine is shared; the best run is the least disturbed)
  let directRate = 0;
  let syncRate = 0;
  let liveRate = 0;
  for (let round = 0; round < rounds; round++) {
    // baseline: the receiving side's direct ingest through the gossip path
    const direct = await startServer(keyB!);
    let t = performance.now();
    await ingest(direct, anns, window);
    directRate = Math.max(directRate, rate(t));
    await direct.close();

    // initial sync: B pulls a loaded A
    const a = await startServer(keyA!);
    await ingest(a, anns, window);
    if (a.server.store.size !== n)
      throw new Error(`replication bench: A kept ${a.server.store.size} of ${n}`);
    t = performance.now();
    const b = await startServer(keyB!, [`ws://127.0.0.1:${a.address().port}/cjdnsnode_websocket`]);
    await until(() => b.server.store.size === n, 'the initial sync', timeoutMs);
    syncRate = Math.max(syncRate, rate(t));
    await b.close();
    await a.close();

    // live: A ingests while B (connected, empty) follows; end to end
    const a2 = await startServer(keyC!);
    const b2 = await startServer(keyD!, [
      `ws://127.0.0.1:${a2.address().port}/cjdnsnode_websocket`,
    ]);
    await until(
      () =>
        a2.replication.stats().peers.length === 1 &&
        b2.replication.stats().peers[0]?.greeted === true,
      'the session',
      timeoutMs,
    );
    t = performance.now();
    await ingest(a2, anns, window);
    await until(() => b2.server.store.size === n, 'live propagation', timeoutMs);
    liveRate = Math.max(liveRate, rate(t));
    await b2.close();
    await a2.close();
  }

  const baseline = {
    name: `direct gossip ingest on the receiving server (${window} in flight)`,
    value: directRate,
    unit: 'ann/s',
  };
  const notes = `best of ${rounds}; ${n} signed announcements from ${nodeCount} nodes, ~${Math.round(anns.reduce((s, x) => s + x.length, 0) / n)} bytes, loopback websocket, default limits`;
  return [
    {
      name: 'replication initial sync A → B',
      value: syncRate,
      unit: 'ann/s',
      baseline,
      ratio: syncRate / directRate,
      target: '>= 0.4',
      met: syncRate / directRate >= 0.4,
      notes,
    },
    {
      name: 'replication live A → B (A ingest included)',
      value: liveRate,
      unit: 'ann/s',
      baseline,
      ratio: liveRate / directRate,
      target: '>= 0.3',
      met: liveRate / directRate >= 0.3,
      notes,
    },
  ];
}
