/**
 * Properties of the graph core over random announcement streams (fast-check, fixed seed per run
 * printed on failure):
 *  - the replies' stateHash equals the hash of the kept list recomputed from scratch (the keep
 *    rules applied once to everything accepted since the node's last reset);
 *  - the replication store holds exactly every record's kept announcements and resetMsg;
 *  - every route is the one node-dijkstra finds on an independently built graph, and its label,
 *    walked hop by hop, follows the best announced links to the destination.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { AGREED_TIMEOUT_MS } from '../../src/graph/constants.ts';
import type { RouteServer } from '../../src/server/route-server.ts';
import type { NodeRecordView } from '../../src/graph/node-record.ts';
import { announcementsStateHash } from '../../src/graph/state-hash.ts';
import type { Announcement } from '../../src/protocol/announcement-types.ts';
import { SCHEMES } from '../../src/protocol/encoding-scheme.ts';
import type { Entity } from '../../src/protocol/entity-types.ts';
import { buildAnnouncement } from '../../src/protocol/announcement.ts';
import { bytesToHex, hexToBytes } from '../../src/protocol/hex.ts';
import { getEncodingForm, log2, parseLabel, reEncodeC } from '../../src/protocol/routing-label.ts';
import {
  encodingScheme,
  ipOf,
  linkState,
  mkAnn,
  peer,
  SNODE_IP,
  T0,
  version,
} from '../unit/graph/fixtures.ts';
import { referenceServer } from '../helpers/reference-server.ts';
import { loadVectors } from '../helpers/vectors.ts';
import { nodeDijkstraPath } from '../unit/routing/reference/node-dijkstra-model.ts';

const NODES = 5;

// ---- model: keep rules applied from scratch ---------------------------------------------------

function keptFromScratch(acceptedOldestFirst: readonly Announcement[]): Announcement[] {
  const newest = acceptedOldestFirst[acceptedOldestFirst.length - 1]!;
  const since = newest.timestamp - AGREED_TIMEOUT_MS;
  const seen = new Set<string>();
  const kept: Announcement[] = [];
  for (let i = acceptedOldestFirst.length - 1; i >= 0; i--) {
    const a = acceptedOldestFirst[i]!;
    if (a.timestamp < since) continue;
    let needed = false;
    for (const e of a.entities) {
      const key = e.type === 'Peer' ? `P${e.peerNum}` : e.type === 'LinkState' ? undefined : e.type;
      if (key !== undefined && !seen.has(key)) {
        seen.add(key);
        needed = true;
      }
    }
    if (needed || i === acceptedOldestFirst.length - 1) kept.push(a);
  }
  return kept;
}

// ---- random streams ----------------------------------------------------------------------------

const v358Label = fc.oneof(
  fc.integer({ min: 0, max: 7 }).map((d) => (((1 << 3) | d) << 1) | 1), // form 0: 4 bits + top
  fc.integer({ min: 0, max: 31 }).map((d) => (((1 << 5) | d) << 2) | 2), // form 1
  fc.integer({ min: 0, max: 255 }).map((d) => ((1 << 8) | d) << 2), // form 2
);

/** Entities name peers by node index through ipOf(n); a stream over other identities maps them. */
const arbEntity: fc.Arbitrary<Entity> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 1, max: NODES }),
        v358Label,
        fc.integer({ min: 1, max: NODES }),
        fc.integer({ min: 0, max: 2 }),
        fc.boolean(),
      )
      .map(([p, label, peerNum, form, wd]) => peer(ipOf(p), wd ? 0 : label, peerNum, form)),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 1, max: NODES }),
        fc.nat(17),
        fc.array(fc.tuple(fc.nat(40), fc.nat(3), fc.nat(2000)), { minLength: 1, maxLength: 18 }),
      )
      .map(([id, sp, samples]) => linkState(id, sp, samples as [number, number, number][])),
  },
  { weight: 1, arbitrary: fc.constantFrom(0, 20, 22).map(version) },
  { weight: 1, arbitrary: fc.constant(encodingScheme(SCHEMES.v358)) },
);

interface Op {
  node: number;
  dt: number; // ms after the previous op's timestamp (negative: older than the clock)
  isReset: boolean;
  gossip: boolean;
  skew: number;
  entities: Entity[];
  expire: boolean;
  route: [number, number];
}

const arbOp: fc.Arbitrary<Op> = fc.record({
  node: fc.integer({ min: 1, max: NODES }),
  dt: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 30_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: -20_000, max: 0 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 * AGREED_TIMEOUT_MS }) },
  ),
  isReset: fc.boolean(),
  gossip: fc.boolean(),
  skew: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -20_000, max: 20_000 }) },
  ),
  entities: fc.array(arbEntity, { maxLength: 6 }),
  expire: fc.boolean(),
  route: fc.tuple(fc.integer({ min: 1, max: NODES }), fc.integer({ min: 1, max: NODES })),
});

/** A starting network: every node resets with Peers for its random undirected links. */
const arbPrelude = fc.array(
  fc.tuple(
    fc.integer({ min: 1, max: NODES }),
    fc.integer({ min: 1, max: NODES }),
    v358Label,
    v358Label,
    fc.nat(2),
    fc.nat(2),
  ),
  { minLength: 2, maxLength: 10 },
);

type Edge = [number, number, number, number, number, number];

/** How a stream is turned into announcements: the node IPs and the announcement objects or bytes. */
interface Announcer {
  readonly ip: (n: number) => string;
  readonly make: (spec: {
    node: number;
    timestamp: number;
    isReset: boolean;
    snodeIp: string;
    entities: Entity[];
  }) => Announcement | Uint8Array;
}

const fakeAnnouncer: Announcer = {
  ip: ipOf,
  make: ({ node, timestamp, isReset, snodeIp, entities }) =>
    mkAnn({ nodeIp: ipOf(node), timestamp, isReset, snodeIp, entities }),
};

/** Rename the placeholder peer IPs (ipOf(n)) to the announcer's IPs. */
function mapPeers(entities: readonly Entity[], a: Announcer): Entity[] {
  return entities.map((e) =>
    e.type === 'Peer' ? { ...e, ipv6: a.ip(parseInt(e.ipv6.slice(-4), 16)) } : e,
  );
}

function preludeSpecs(edges: Edge[]): { node: number; entities: Entity[] }[] {
  const peersOf = new Map<number, Entity[]>();
  for (let n = 1; n <= NODES; n++) peersOf.set(n, []);
  for (const [a, b, lab, lba, fa, fb] of edges) {
    if (a === b) continue;
    // b reaches a with lab (b's scheme); a's label back to b has form fa; peerNum = the other node
    peersOf.get(a)!.push(peer(ipOf(b), lab, b, fa));
    peersOf.get(b)!.push(peer(ipOf(a), lba, a, fb));
  }
  return [...peersOf].map(([node, peers]) => ({
    node,
    entities: [version(22), encodingScheme(), ...peers],
  }));
}

function opEntities(op: Op): Entity[] {
  // resets normally carry Version and EncodingScheme first, as cjdns sends them
  return op.isReset && op.node % 2 === 1
    ? [version(22), encodingScheme(), ...op.entities]
    : op.entities;
}

// ---- route checks ------------------------------------------------------------------------------

/** The reverse graph built independently: edge n → p iff both directions, cost 1 / best value. */
function independentGraph(server: RouteServer): Map<string, Map<string, number>> {
  const g = new Map<string, Map<string, number>>();
  for (const [nip, n] of server.nodes.nodesByIp) {
    const es = new Map<string, number>();
    for (const [pip, links] of n.inwardLinksByIp) {
      if (!server.nodes.get(pip)?.inwardLinksByIp.has(nip)) continue;
      es.set(pip, 1 / Math.max(...links.map((l) => l.value)));
    }
    g.set(nip, es);
  }
  return g;
}

function bfsReachable(g: Map<string, Map<string, number>>, from: string, to: string): boolean {
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length) {
    const k = queue.shift()!;
    if (k === to) return true;
    for (const n of g.get(k)?.keys() ?? []) {
      if (seen.has(n)) continue;
      seen.add(n);
      queue.push(n);
    }
  }
  return false;
}

/** Walk the label over the path's best links: each hop's director must be the one announced. */
function checkRoute(server: RouteServer, srcIp: string, dstIp: string): 'route' | 'none' {
  const route = server.getRoute(srcIp, dstIp);
  if (srcIp === dstIp) {
    expect(route).to.deep.equal(
      server.nodes.get(srcIp) ? { label: '0000.0000.0000.0001', hops: [] } : null,
    );
    return 'none';
  }
  const g = independentGraph(server);
  const expectedPath = nodeDijkstraPath(g, dstIp, srcIp);
  if (!route) {
    if (!bfsReachable(g, dstIp, srcIp)) expect(expectedPath).to.equal(null);
    return 'none';
  }
  expect(route.path).to.deep.equal(expectedPath!.reverse());
  const path = route.path!;
  let rest = parseLabel(route.label);
  let prevFormNum: number | undefined;
  for (let i = 1; i < path.length; i++) {
    const from = server.nodes.get(path[i - 1]!)!;
    const to: NodeRecordView = server.nodes.get(path[i]!)!;
    const hop = route.hops[i - 1]!;
    const links = to.inwardLinksByIp.get(from.ipv6)!;
    const best = Math.max(...links.map((l) => l.value));
    const used = links.find((l) => l.label === hop.origLabel && l.value === best);
    expect(used, `hop ${i} uses a best link`).to.not.equal(undefined);
    expect(hop.inverseFormNum).to.equal(prevFormNum);
    const hopLabel = parseLabel(hop.label);
    const orig = parseLabel(hop.origLabel);
    if (prevFormNum === undefined || getEncodingForm(orig, from.encodingScheme) >= prevFormNum) {
      expect(hopLabel).to.equal(orig);
    } else {
      expect(getEncodingForm(hopLabel, from.encodingScheme)).to.equal(prevFormNum);
      // the same interface: narrowing back (C semantics) gives the announced label
      expect(
        reEncodeC(hopLabel, from.encodingScheme, getEncodingForm(orig, from.encodingScheme)),
      ).to.equal(orig);
    }
    const bits = BigInt(log2(hopLabel));
    const mask = (1n << bits) - 1n;
    expect(rest & mask, `director of hop ${i}`).to.equal(hopLabel & mask);
    rest >>= bits;
    prevFormNum = used!.encodingFormNum;
  }
  expect(rest, 'label ends after the last hop').to.equal(1n);
  return 'route';
}

// ---- the properties ----------------------------------------------------------------------------

/** Run one stream and check every invariant after every step; returns the number of routes checked. */
async function runStream(a: Announcer, edges: Edge[], ops: Op[]): Promise<number> {
  let routesChecked = 0;
  const { server, announce, clock: serverClock } = referenceServer(SNODE_IP);
  const acceptedSinceReset = new Map<string, Announcement[]>();
  for (const { node, entities } of preludeSpecs(edges)) {
    const input = a.make({
      node,
      timestamp: T0,
      isReset: true,
      snodeIp: SNODE_IP,
      entities: mapPeers(entities, a),
    });
    const out = await announce(input, { fromNode: true, now: T0 });
    expect(out.error).to.equal('none');
    acceptedSinceReset.set(a.ip(node), [out.accepted!]);
  }
  let clock = T0;
  for (const op of ops) {
    clock += op.dt;
    const ip = a.ip(op.node);
    const input = a.make({
      node: op.node,
      timestamp: clock,
      isReset: op.isReset,
      snodeIp: op.gossip ? ipOf(77) : SNODE_IP,
      entities: mapPeers(opEntities(op), a),
    });
    const now = clock + op.skew;
    const out = await announce(input, { fromNode: !op.gossip, now });
    if (out.accepted) {
      const list = out.accepted.isReset ? [] : acceptedSinceReset.get(ip)!;
      list.push(out.accepted);
      acceptedSinceReset.set(ip, list);
    }
    const rec = server.nodes.get(ip);
    if (out.error !== 'failed_parse_or_validate' && out.error !== 'unknown_node' && rec) {
      const model = announcementsStateHash(keptFromScratch(acceptedSinceReset.get(ip)!));
      expect(bytesToHex(out.stateHash)).to.equal(bytesToHex(model));
    } else {
      expect(out.stateHash).to.deep.equal(new Uint8Array(64));
    }
    if (op.expire) {
      serverClock.set(now);
      server.expire();
      for (const k of [...acceptedSinceReset.keys()])
        if (!server.nodes.get(k)) acceptedSinceReset.delete(k);
    }
    // the store holds every record's kept announcements and resetMsg, nothing else
    const expected = new Set<string>();
    for (const r of server.nodes) {
      for (const x of r.announcements) expected.add(bytesToHex(x.hash));
      expected.add(bytesToHex(r.resetMsg.hash));
    }
    expect(new Set([...server.store.hashes()].map(bytesToHex))).to.deep.equal(expected);

    server.reference!.routes.forceRebuild();
    if (checkRoute(server, a.ip(op.route[0]), a.ip(op.route[1])) === 'route') routesChecked++;
  }
  return routesChecked;
}

interface Identity {
  name: string;
  ipv6: string;
  private_hex: string;
}

/** Real signed announcements from the route_server.json identities, through the bytes path. */
function signedAnnouncer(): Announcer {
  const ids = (loadVectors('route_server.json').identities as Identity[]).filter(
    (i) => i.name !== 'snode',
  );
  if (ids.length < NODES) throw new Error('not enough identities');
  const keys = ids.map((i) => hexToBytes(i.private_hex));
  return {
    ip: (n) => ids[n - 1]!.ipv6,
    make: ({ node, timestamp, isReset, snodeIp, entities }) =>
      buildAnnouncement({ privateKey: keys[node - 1]!, snodeIp, timestamp, isReset, entities }),
  };
}

describe('graph core properties', () => {
  it('keeps stateHash, store and routes consistent over random announcement streams', async () => {
    let routesChecked = 0;
    await fc.assert(
      fc.asyncProperty(
        arbPrelude,
        fc.array(arbOp, { minLength: 1, maxLength: 40 }),
        async (edges, ops) => {
          routesChecked += await runStream(fakeAnnouncer, edges, ops);
        },
      ),
      { numRuns: 500 },
    );
    expect(routesChecked).to.be.greaterThan(100);
  });

  it('holds the same for real signed announcements parsed from bytes', async () => {
    const signed = signedAnnouncer();
    let routesChecked = 0;
    await fc.assert(
      fc.asyncProperty(
        arbPrelude,
        fc.array(arbOp, { minLength: 1, maxLength: 15 }),
        async (edges, ops) => {
          routesChecked += await runStream(signed, edges, ops);
        },
      ),
      { numRuns: 40 },
    );
    expect(routesChecked).to.be.greaterThan(10);
  });
});
