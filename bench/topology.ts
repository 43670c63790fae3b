/**
 * Synthetic cjdns mesh for the benchmarks: deterministic for a seed, shaped like the real
 * network — most nodes have 2–5 peers, about 1 % are hubs with 20–200 peers, links are mostly
 * local (a node peers with nodes "near" it in id order, like friends-of-friends peering) with
 * some long links, and the whole graph is connected.
 *
 * Each node numbers its interfaces 2, 3, … (1 is the switch itself) and writes each one-hop
 * label in the smallest v358 form that holds it, as cjdns does; the Peer entity for the link
 * A—B in A's announcement carries B's label to A, A's label to B as peerNum, and that label's
 * form. Link quality comes from synthetic LinkState samples (lag, kbRecv) so link values — and
 * therefore route costs — differ per link, with ties where samples agree. `measured` can leave a
 * fraction of the link ends without LinkState (value 0: unmeasured, as brand-new links and
 * links with drops are in a real network).
 *
 * `announcementsFor` turns a node into real signed announcement bytes (bench/keys.ts makes the
 * keys; signing is bench/fast-sign.ts): a reset with Version, EncodingScheme and as many Peer +
 * LinkState entities as fit under cjdns' ~700-byte entity budget, then non-reset announcements
 * with the remaining peers (hubs need several).
 */
import { SCHEMES } from '../src/protocol/encoding-scheme.ts';
import {
  serializeEncodingSchemeEntity,
  serializeLinkState,
  serializePad,
  serializePeer,
  serializeVersion,
} from '../src/protocol/entity.ts';
import { concatBytes } from '../src/protocol/hex.ts';
import { prng } from './harness.ts';

/** cjdns keeps the entity part of an announcement under about this many bytes. */
const ENTITY_BUDGET_BYTES = 700;
const HUB_FRACTION = 0.01;
const LINK_STATE_SAMPLES = 18;

export interface Topology {
  readonly n: number;
  /** neighbours[i] = peer node indices, in the order node i's interfaces were numbered */
  readonly neighbours: number[][];
  /** interface number of node i towards neighbours[i][k] */
  readonly iface: number[][];
  /** per node and neighbour: [lag ms, kbRecv] of its link-state samples */
  readonly quality: Array<Array<[number, number]>>;
  /** per node and neighbour: whether node i sends LinkState for that link (value > 0) */
  readonly measured: boolean[][];
  readonly edges: number;
}

/** v358 one-hop label for interface `i` (≥ 2) in its smallest form, and that form's number. */
export function v358Label(i: number): { label: number; form: number } {
  if (i < 8) return { label: (1 << 4) | (i << 1) | 1, form: 0 }; // form 0 swaps 0/1 only
  if (i <= 32) return { label: (1 << 7) | ((i - 1) << 2) | 2, form: 1 };
  if (i <= 256) return { label: (1 << 10) | ((i - 1) << 2), form: 2 };
  throw new RangeError(`interface ${i} does not fit v358`);
}

/**
 * A mesh of `n` nodes; `measuredFraction` of the link ends (each end on its own) carry link
 * state, the others stay unmeasured.
 */
export function generateTopology(n: number, seed: number, measuredFraction = 1): Topology {
  const rnd = prng(seed ^ 0x70b0);
  const neighbours: number[][] = Array.from({ length: n }, () => []);
  const adj: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
  const link = (a: number, b: number): boolean => {
    if (a === b || adj[a]!.has(b)) return false;
    adj[a]!.add(b);
    adj[b]!.add(a);
    neighbours[a]!.push(b);
    neighbours[b]!.push(a);
    return true;
  };
  const hubs = Math.max(1, Math.round(n * HUB_FRACTION));
  const target: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (i < hubs) target[i] = 20 + Math.floor(rnd() * rnd() * 180);
    else {
      const r = rnd();
      target[i] = r < 0.35 ? 2 : r < 0.65 ? 3 : r < 0.85 ? 4 : 5;
    }
  }
  // a spanning tree with locality: each node joins a recent node, sometimes a hub
  for (let i = 1; i < n; i++) {
    const j =
      rnd() < 0.1 ? Math.floor(rnd() * Math.min(hubs, i)) : i - 1 - Math.floor(rnd() ** 3 * i);
    link(i, Math.max(0, j));
  }
  // top up degrees: mostly near neighbours in id order, sometimes anywhere
  for (let i = 0; i < n; i++) {
    let tries = 0;
    while (neighbours[i]!.length < target[i]! && tries++ < 20) {
      const far = i < hubs || rnd() < 0.15;
      const j = far ? Math.floor(rnd() * n) : (i + 1 + Math.floor(rnd() ** 2 * 200)) % n;
      if (j < hubs && i >= hubs && neighbours[j]!.length >= target[j]! + 10) continue;
      if (neighbours[j]!.length >= (j < hubs ? 255 : target[j]! + 2)) continue;
      link(i, j);
    }
  }
  const iface = neighbours.map((ns) => ns.map((_, k) => k + 2));
  const quality = neighbours.map((ns) =>
    ns.map((): [number, number] => [5 + Math.floor(rnd() * 200), Math.floor(rnd() * 4000)]),
  );
  const mrnd = prng(seed ^ 0x5a17);
  const measured = neighbours.map((ns) => ns.map(() => mrnd() < measuredFraction));
  let edges = 0;
  for (const ns of neighbours) edges += ns.length;
  return { n, neighbours, iface, quality, measured, edges: edges / 2 };
}

/** IPv6 strings and keys of the nodes, from bench/keys.ts. */
export interface NodeIdentity {
  readonly ip: string;
}

/**
 * The serialized entities of node i's announcements: the first (reset) one starts with Version
 * and EncodingScheme; each holds Peer + LinkState pairs until the entity budget is used.
 * `sampleShift` varies the link-state samples between rounds (so values keep changing).
 */
export function entitiesFor(
  t: Topology,
  i: number,
  ips: readonly string[],
  sampleShift = 0,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let parts: Uint8Array[] = [
    serializeVersion(22),
    serializePad(1),
    serializeEncodingSchemeEntity(SCHEMES.v358),
  ];
  let size = parts.reduce((s, p) => s + p.length, 0);
  const ns = t.neighbours[i]!;
  for (let k = 0; k < ns.length; k++) {
    const j = ns[k]!;
    const mine = v358Label(t.iface[i]![k]!);
    const back = t.neighbours[j]!.indexOf(i);
    const theirs = v358Label(t.iface[j]![back]!);
    const peer = serializePeer({
      ipv6: ips[j]!,
      label: theirs.label,
      peerNum: mine.label & 0xffff,
      mtu: 1280,
      encodingFormNum: mine.form,
    });
    const [lag, kb] = t.quality[i]![k]!;
    const ls = !t.measured[i]![k]
      ? new Uint8Array(0)
      : serializeLinkState({
          nodeId: mine.label & 0xffff,
          startingPoint: 0,
          samples: Array.from({ length: LINK_STATE_SAMPLES }, (_, s) => ({
            lag: lag + ((s + sampleShift) % 5),
            drops: 0,
            kbRecv: kb + 7 * ((s + sampleShift) % 3),
          })),
        });
    if (size + peer.length + ls.length > ENTITY_BUDGET_BYTES && parts.length > 0) {
      out.push(concatBytes(...parts));
      parts = [];
      size = 0;
    }
    parts.push(peer, ls);
    size += peer.length + ls.length;
  }
  if (parts.length > 0 || out.length === 0) out.push(concatBytes(...parts));
  return out;
}
