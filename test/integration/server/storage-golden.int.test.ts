/**
 * The read API of a loaded server — `/walk`, `/dump`, `/ni` and every `/ni/<ip>` — must stay
 * byte for byte what it was whatever the node state's storage (issue 17). A generated mesh of
 * 600 nodes (bench/world.ts, keys from test/fixtures/mesh/keys.bin) goes through a scripted life:
 * the nodes' resets, link-state rounds, then every rule of the state machine a storage can get
 * wrong — a peer withdrawn, a link replaced (new label) and refreshed (same label, new mtu and
 * flags), a second link to a peer, a link state for a peerNum the node never announced, the same
 * bytes accepted twice, a reset with fewer peers, announcements falling out of the kept list by
 * age (20 min) and link-state samples by age (120 slots), half the nodes expired (20 h 20 min)
 * and some of them created again (they go last in `nodesByIp`).
 *
 * Two oracles: the reference engine (one table of plain record objects, the original's model)
 * given the same announcements, whose answers must equal the fast engine's; and the SHA-256 of
 * each answer as the object model gave it when this test was written (recorded on main before
 * the storage changed), so that a change to both models at once is caught too.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { buildWorld, linkStateUpdate, T0, timestampOf, type World } from '../../../bench/world.ts';
import { signedAnnouncement } from '../../../bench/fast-sign.ts';
import { v358Label } from '../../../bench/topology.ts';
import { serializeLinkState, serializePeer } from '../../../src/protocol/entity.ts';
import { concatBytes } from '../../../src/protocol/hex.ts';
import type { PeerInfo } from '../../../src/replication/peer-info.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { identityFromPrivateKey } from '../../../src/server/identity.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import { prng } from '../../../bench/harness.ts';
import { fastOptions, until } from '../../helpers/fast-server.ts';
import { meshKeys } from '../../helpers/mesh.ts';

const N = 600;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** One step of the script: announcements (as their node, at their timestamp), or an expiry run. */
type Step = { readonly ann: Uint8Array } | { readonly expireAt: number };

const sha = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** A Peer entity of node i towards its k-th neighbour as the generator writes it, with changes. */
function peerOf(
  w: World,
  i: number,
  k: number,
  change: { label?: number; mtu?: number; flags?: number; peerNum?: number } = {},
): Uint8Array {
  const j = w.topo.neighbours[i]![k]!;
  const mine = v358Label(w.topo.iface[i]![k]!);
  const back = w.topo.neighbours[j]!.indexOf(i);
  const theirs = v358Label(w.topo.iface[j]![back]!);
  return serializePeer({
    ipv6: w.ips[j]!,
    label: change.label ?? theirs.label,
    peerNum: change.peerNum ?? mine.label & 0xffff,
    mtu: change.mtu ?? 1280,
    flags: change.flags ?? 0,
    encodingFormNum: mine.form,
  });
}

function linkState(nodeId: number, round: number): Uint8Array {
  return serializeLinkState({
    nodeId,
    startingPoint: round % 18,
    samples: [0, 1, 2, 3].map((s) => ({
      lag: 100 + ((round + s) % 9),
      drops: s % 2,
      kbRecv: 500 + 3 * round + s,
    })),
  });
}

/** The scripted life of the mesh (deterministic: keys, topology, timestamps, choices). */
function script(w: World): Step[] {
  const steps: Step[] = [];
  const rnd = prng(99);
  const pick = (): number => Math.floor(rnd() * N);
  const sign = (i: number, isReset: boolean, entities: Uint8Array): Uint8Array =>
    signedAnnouncement(w.keys[i]!, w.snodeIp, w.nextTs++, isReset, entities);
  for (const a of w.initial.flat()) steps.push({ ann: a });
  for (let k = 0; k < 3 * N; k++) steps.push({ ann: linkStateUpdate(w, pick()) });
  // the rules, on nodes with at least two peers
  const withPeers = Array.from({ length: N }, (_, i) => i).filter(
    (i) => w.topo.neighbours[i]!.length >= 2,
  );
  for (let r = 0; r < 40; r++) {
    const i = withPeers[(r * 7) % withPeers.length]!;
    const withdrawn = peerOf(w, i, 0, { label: 0 });
    steps.push({ ann: sign(i, false, withdrawn) });
    steps.push({ ann: sign(i, false, peerOf(w, i, 1, { label: 0x13 + 2 * r })) });
    steps.push({ ann: sign(i, false, peerOf(w, i, 1, { mtu: 1500, flags: 1 })) });
    steps.push({
      ann: sign(
        i,
        false,
        concatBytes(peerOf(w, i, 1, { peerNum: 900 + r }), linkState(900 + r, r)),
      ),
    });
    steps.push({ ann: sign(i, false, linkState(4000 + r, r)) });
    // the peer withdrawn above comes back last in the node's peer order
    steps.push({
      ann: sign(
        i,
        false,
        concatBytes(peerOf(w, i, 0), linkState(v358Label(w.topo.iface[i]![0]!).label & 0xffff, r)),
      ),
    });
    const again = sign(i, false, linkState(900 + r, r + 1));
    steps.push({ ann: again }, { ann: again });
  }
  // refused: older than the node's newest (old_message), addressed to another route server
  // (wrong_snode)
  const last = withPeers[(39 * 7) % withPeers.length]!;
  steps.push({
    ann: signedAnnouncement(w.keys[last]!, w.snodeIp, w.nextTs - 3000, false, linkState(1, 1)),
  });
  steps.push({
    ann: signedAnnouncement(w.keys[last]!, w.ips[0]!, w.nextTs++, false, linkState(1, 2)),
  });
  for (let r = 0; r < 10; r++) {
    const i = withPeers[(r * 13 + 5) % withPeers.length]!;
    // a new reset with fewer peers (Version and EncodingScheme inherited)
    steps.push({
      ann: sign(
        i,
        true,
        concatBytes(peerOf(w, i, 1), linkState(v358Label(w.topo.iface[i]![1]!).label & 0xffff, r)),
      ),
    });
  }
  // 25 minutes later: everything older than 20 min falls out of the kept lists of the nodes
  // that speak now, and their samples older than 120 slots go
  w.nextTs += 25 * MINUTE;
  for (let k = 0; k < N; k++) steps.push({ ann: linkStateUpdate(w, pick()) });
  // 21 hours later, half the nodes speak; expiry then forgets the silent ones, and some of them
  // come back (created again: last in nodesByIp)
  w.nextTs += 21 * HOUR;
  for (let i = 0; i < N; i += 2) steps.push({ ann: linkStateUpdate(w, i) });
  steps.push({ expireAt: w.nextTs });
  for (let i = 1; i < 40; i += 4) {
    for (const a of w.initial[i]!)
      steps.push({
        ann: signedAnnouncement(
          w.keys[i]!,
          w.snodeIp,
          w.nextTs++,
          a[119]! & 8 ? true : false,
          a.subarray(120),
        ),
      });
  }
  for (let k = 0; k < 200; k++) steps.push({ ann: linkStateUpdate(w, (2 * pick()) % N) });
  // nodes forgotten and not created again: unknown_node
  for (let i = 41; i < 61; i += 2) steps.push({ ann: linkStateUpdate(w, i) });
  return steps;
}

interface Answers {
  readonly walk: string;
  readonly dump: Uint8Array;
  readonly ni: string;
  /** every node's `/ni/<ip>`, and two unknown ones, one per line */
  readonly nodes: string;
  readonly size: number;
}

/** `/ni`'s peerInfo without peers: the replication store's two counts. */
function peerInfoOf(server: RouteServer): PeerInfo {
  return { peers: [], ...server.store.sizes() };
}

function answersOf(server: RouteServer, ips: readonly string[]): Answers {
  const v = server.views;
  const nodes = [...ips, 'fc00::1', 'fcff:ffff::2']
    .map((ip) => JSON.stringify(v.node(ip)))
    .join('\n');
  return {
    walk: v.walk(),
    dump: v.dump(),
    ni: [...v.niChunks(peerInfoOf(server))].join(''),
    nodes,
    size: server.nodes.size,
  };
}

async function run(
  server: RouteServer,
  clock: ManualClock,
  steps: readonly Step[],
  fast: boolean,
): Promise<Map<string, number>> {
  const errors = new Map<string, number>();
  for (const s of steps) {
    if ('expireAt' in s) {
      clock.set(s.expireAt);
      server.expire();
      continue;
    }
    clock.set(Math.max(clock.now(), timestampOf(s.ann)));
    const o = await server.submitAnnouncement(s.ann, 'node');
    errors.set(o.error, (errors.get(o.error) ?? 0) + 1);
  }
  if (fast) await server.syncRoutes();
  return errors;
}

describe('storage: the read API of a loaded server, byte for byte (golden)', function () {
  this.timeout(600_000);
  let steps: Step[];
  let world: World;
  let ips: string[];
  let want: Answers;
  let refErrors: Map<string, number>;

  before(async () => {
    world = await buildWorld(N, 7, undefined, meshKeys().slice(0, N + 1));
    steps = script(world);
    const clock = new ManualClock(T0);
    // the golden answers come from the reference engine; the fast engine must give the same
    const reference = new RouteServer({
      self: identityFromPrivateKey(world.selfKey.priv, 22),
      clock,
      routing: { mode: 'reference' },
    });
    refErrors = await run(reference, clock, steps, false);
    ips = [...reference.nodes].map((n) => n.ipv6);
    want = answersOf(reference, ips);
    await reference.close();
  });

  it('the object model (reference records) answers as recorded', () => {
    const recorded = {
      steps: steps.length,
      errors: Object.fromEntries([...refErrors].sort()),
      size: want.size,
      walk: sha(want.walk),
      dump: sha(want.dump),
      ni: sha(want.ni),
      nodes: sha(want.nodes),
    };
    assert.deepEqual(recorded, GOLDEN);
  });

  for (const pool of [false, true]) {
    it(`the fast engine answers exactly as the object model (${pool ? 'verification worker, packed link state' : 'parsed on the main thread'})`, async () => {
      const clock = new ManualClock(T0);
      const options = fastOptions(
        pool
          ? {
              verifyPool: {
                workers: 1,
                batchSize: 64,
                maxInFlight: 4,
                maxQueued: 100_000,
                verifySignature: true,
              },
            }
          : {},
      );
      const fast = new RouteServer({
        self: identityFromPrivateKey(world.selfKey.priv, 22),
        clock,
        routing: { mode: 'fast', options },
      });
      try {
        const errors = await run(fast, clock, steps, true);
        await until(
          () => fast.nodes.size === want.size,
          'the fast engine to expire the same nodes',
        );
        assert.deepEqual([...errors].sort(), [...refErrors].sort());
        const got = answersOf(fast, ips);
        assert.equal(got.size, want.size);
        assert.ok(got.walk === want.walk, '/walk differs from the object model');
        assert.ok(
          Buffer.from(got.dump).equals(Buffer.from(want.dump)),
          '/dump differs from the object model',
        );
        assert.ok(got.ni === want.ni, '/ni differs from the object model');
        assert.ok(got.nodes === want.nodes, 'a /ni/<ip> differs from the object model');
      } finally {
        await fast.close();
      }
    });
  }
});

/** Recorded on main at 2e5ba2d (object records in both engines). */
const GOLDEN = {
  steps: 3926,
  errors: { no_encodingScheme: 10, none: 3913, old_message: 1, wrong_snode: 1 },
  size: 310,
  walk: 'b63404aa9dedc07e61c4b3e9c64c79a0832eb5c5c7a68ea9ef6f60606549472c',
  dump: '8a5ac00ed21fce5b4bb18f9a722cad418c70db8f0e77150c1a94345eea92fbad',
  ni: '0d31aa2aa390ec51765e7e986a7c9072e088d609ce99f4d8a36d30f1f1d6ea80',
  nodes: '8c27f97fcc6e4d39e38bb80c3760af0498b8ebe610113838502894ce90d306bf',
};
