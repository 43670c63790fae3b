/**
 * A synthetic network ready to feed a route server: keys (bench/keys.ts), a topology
 * (bench/topology.ts), every node's signed reset announcements, and a generator of later
 * link-state updates. Timestamps come from one counter that also drives the server's clock, so
 * every announcement is fresh (`sq: ann` from the node itself: snode and clock checks apply).
 */
import { DEFAULT_SUBNODE_OPTIONS } from '../src/routing/subnode-actors.ts';
import {
  defaultFastRoutingOptions,
  type FastRoutingOptions,
} from '../src/routing/routing-supervisor.ts';
import { DEFAULT_TREE_OPTIONS } from '../src/routing/tree-replicas.ts';
import { concatBytes } from '../src/protocol/hex.ts';
import { ip6ToString } from '../src/protocol/keys.ts';
import { serializeLinkState } from '../src/protocol/link-state.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { applyV8Tuning } from '../src/lib/v8-tuning.ts';
import { identityFromPrivateKey } from '../src/server/identity.ts';
import { errorOfOutcome } from '../src/server/ingest.ts';
import { RouteServer } from '../src/server/route-server.ts';
import { signedAnnouncement } from './fast-sign.ts';
import { loadKeys, type BenchKey } from './keys.ts';
import { entitiesFor, generateTopology, v358Label, type Topology } from './topology.ts';

export const T0 = 1_700_000_000_000;

export interface World {
  readonly n: number;
  readonly topo: Topology;
  readonly keys: readonly BenchKey[];
  readonly ips: readonly string[];
  /** the route server's own key (the snode every announcement is addressed to) */
  readonly selfKey: BenchKey;
  readonly snodeIp: string;
  /** per node: its reset, then continuation announcements (hubs have more peers than fit) */
  initial: readonly (readonly Uint8Array[])[];
  readonly clock: ManualClock;
  /** next timestamp (ms); every announcement gets its own */
  nextTs: number;
  /** link-state update round per node */
  readonly rounds: Uint32Array;
}

const cache = new Map<string, World>();

/**
 * The world of `n` nodes for `seed` (cached). `given` (at least n + 1 keys): use these identities
 * instead of bench/keys.ts's for the seed (tests pass a stored list, see keysFromScalars).
 * `measuredFraction` of the link ends carry link state (topology.ts), 1 by default.
 */
export async function buildWorld(
  n: number,
  seed: number,
  log: (s: string) => void = () => undefined,
  given?: readonly BenchKey[],
  measuredFraction = 1,
): Promise<World> {
  const id = `${n}/${seed}${given ? '/given' : ''}/${measuredFraction}`;
  const hit = cache.get(id);
  if (hit) return hit;
  if (given && given.length < n + 1)
    throw new RangeError(`${n} nodes need ${n + 1} keys, ${given.length} given`);
  const keys = given ?? (await loadKeys(n + 1, seed, log));
  const t0 = Date.now();
  const topo = generateTopology(n, seed, measuredFraction);
  const ips = keys.slice(0, n).map((k) => ip6ToString(k.ip));
  const selfKey = keys[n]!;
  const snodeIp = ip6ToString(selfKey.ip);
  let ts = T0;
  const initial: Uint8Array[][] = [];
  for (let i = 0; i < n; i++) {
    const parts = entitiesFor(topo, i, ips);
    initial.push(parts.map((e, k) => signedAnnouncement(keys[i]!, snodeIp, ts++, k === 0, e)));
  }
  log(
    `  world of ${n} nodes, ${topo.edges} links${measuredFraction < 1 ? `, ${Math.round(measuredFraction * 100)} % of link ends measured` : ''}: ${((Date.now() - t0) / 1000).toFixed(1)} s to build and sign`,
  );
  const w: World = {
    n,
    topo,
    keys: keys.slice(0, n),
    ips,
    selfKey,
    snodeIp,
    initial,
    clock: new ManualClock(ts),
    nextTs: ts,
    rounds: new Uint32Array(n),
  };
  cache.set(id, w);
  return w;
}

/** Forget cached worlds, and the initial announcements of `keep` (already loaded). */
export function dropWorlds(keep?: World): void {
  cache.clear();
  if (keep) keep.initial = [];
}

/** A non-reset announcement of node i with fresh link-state samples for every peer (cjdns' periodic update). */
export function linkStateUpdate(w: World, i: number): Uint8Array {
  const round = ++w.rounds[i]!;
  const ns = w.topo.neighbours[i]!;
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let k = 0; k < ns.length && size < 600; k++) {
    if (!w.topo.measured[i]![k]) continue; // this end stays unmeasured
    const mine = v358Label(w.topo.iface[i]![k]!);
    const [lag, kb] = w.topo.quality[i]![k]!;
    const e = serializeLinkState({
      nodeId: mine.label & 0xffff,
      startingPoint: round % 18,
      samples: [0, 1, 2].map((s) => ({
        lag: lag + ((round + s) % 7),
        drops: 0,
        kbRecv: kb + 13 * ((round + s) % 5),
      })),
    });
    parts.push(e);
    size += e.length;
  }
  return signedAnnouncement(w.keys[i]!, w.snodeIp, w.nextTs++, false, concatBytes(...parts));
}

/** Fast-routing options for benchmarks (production defaults, worker replicas). */
export function benchRoutingOptions(
  overrides: Partial<FastRoutingOptions> = {},
): FastRoutingOptions {
  return defaultFastRoutingOptions({
    tree: DEFAULT_TREE_OPTIONS,
    subnodes: { ...DEFAULT_SUBNODE_OPTIONS, idleMs: 0 },
    ...overrides,
  });
}

export function serverFor(
  w: World,
  options: FastRoutingOptions = benchRoutingOptions(),
): RouteServer {
  applyV8Tuning(); // as startApp does in production
  const self = identityFromPrivateKey(w.selfKey.priv, 22);
  return new RouteServer({ self, clock: w.clock, routing: { mode: 'fast', options } });
}

/**
 * Submit `messages` keeping at most `window` in flight; the clock follows the timestamps.
 * Returns the number accepted (error none) and refused (mailbox/queue full).
 */
export async function feed(
  server: RouteServer,
  w: World,
  messages: Iterable<Uint8Array>,
  window = 4096,
): Promise<{ accepted: number; rejected: number; errors: Map<string, number> }> {
  let accepted = 0;
  let rejected = 0;
  const errors = new Map<string, number>();
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const done = (): void => {
    inFlight--;
    if (wake) {
      const f = wake;
      wake = undefined;
      f();
    }
  };
  for (const m of messages) {
    while (inFlight >= window) await new Promise<void>((r) => (wake = r));
    w.clock.set(Math.max(w.clock.now(), timestampOf(m)));
    inFlight++;
    // only the error is kept, as replication keeps it (Ingest#submit's `pick`)
    server.submitAnnouncement(m, 'node', errorOfOutcome).then(
      (error) => {
        if (error === 'none') accepted++;
        else errors.set(error, (errors.get(error) ?? 0) + 1);
        done();
      },
      () => {
        rejected++;
        done();
      },
    );
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  return { accepted, rejected, errors };
}

/** The timestamp (ms) in an announcement's header. */
export function timestampOf(m: Uint8Array): number {
  const hi = ((m[112]! << 24) >>> 0) + ((m[113]! << 16) | (m[114]! << 8) | m[115]!);
  const lo = ((m[116]! << 24) >>> 0) + ((m[117]! << 16) | (m[118]! << 8) | m[119]!);
  return hi * 0x10000000 + Math.floor(lo / 16);
}

/** Load the world's initial announcements into a fresh fast-mode server and sync its routes. */
export async function loadedServer(w: World, options?: FastRoutingOptions): Promise<RouteServer> {
  const server = serverFor(w, options);
  w.clock.set(T0);
  const r = await feed(server, w, w.initial.flat());
  if (r.accepted !== w.initial.flat().length) {
    throw new Error(
      `loading the world: ${r.accepted} accepted, ${r.rejected} refused, ${JSON.stringify([...r.errors])}`,
    );
  }
  await server.syncRoutes();
  return server;
}
