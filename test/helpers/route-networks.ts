/**
 * Random small networks for the `best` route-policy tests (fast-check arbitraries):
 *  - `arbNetwork`: cjdns-like — nodes number their interfaces (hubs in v358's wide forms), a
 *    chain with shortcuts or a ladder of hubs beside small nodes, unmeasured links, cost ties;
 *  - `arbHostile`: arbitrary labels (self routes, labels that cannot be re-encoded), form
 *    numbers beyond the scheme, schemes whose forms shrink.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { NodeTable } from '../../src/graph/apply-announcement.ts';
import type { EncodingScheme } from '../../src/protocol/encoding-scheme-types.ts';
import { SCHEMES } from '../../src/protocol/encoding-scheme.ts';
import type { Entity } from '../../src/protocol/entity-types.ts';
import { ipOf, mkReset, peer, SNODE_IP, T0 } from '../unit/graph/fixtures.ts';
import type { Topology, TopologyLink } from './route-topology.ts';

/** Link values: unmeasured (0), a few repeated ones (cost ties), anything. */
const arbValue = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.constantFrom(1, 40, 300, 2000) },
  { weight: 2, arbitrary: fc.double({ min: 0.01, max: 5000, noNaN: true }) },
);

/** First interface number of a node: small nodes use form 0, hubs the wide forms of v358. */
const arbFirstIface = fc.constantFrom(2, 2, 6, 30, 120, 240, 240, 240);

const SANE_SCHEMES: EncodingScheme[] = [
  SCHEMES.v358,
  SCHEMES.v358,
  SCHEMES.v358,
  SCHEMES.v48,
  SCHEMES.f8,
];

/**
 * A chain 1 — 2 — … — n (a few links missing) plus shortcuts, mostly local: long paths whose
 * labels overflow, and alternatives of other costs and widths.
 */
const arbChain: fc.Arbitrary<Topology> = fc.integer({ min: 3, max: 14 }).chain((nodes) =>
  fc
    .record({
      chain: fc.array(
        fc.tuple(
          fc.oneof(
            { weight: 9, arbitrary: fc.constant(true) },
            { weight: 1, arbitrary: fc.constant(false) },
          ),
          arbValue,
          arbValue,
        ),
        { minLength: nodes - 1, maxLength: nodes - 1 },
      ),
      extra: fc.array(
        fc.tuple(
          fc.integer({ min: 1, max: nodes }),
          fc.oneof(
            { weight: 4, arbitrary: fc.integer({ min: 2, max: 4 }) },
            { weight: 1, arbitrary: fc.integer({ min: 1, max: nodes }) },
          ),
          arbValue,
          arbValue,
          fc.oneof(
            { weight: 12, arbitrary: fc.constant(false) },
            { weight: 1, arbitrary: fc.constant(true) },
          ),
        ),
        { maxLength: nodes },
      ),
      first: fc.array(arbFirstIface, { minLength: nodes, maxLength: nodes }),
      schemes: fc.array(fc.nat(SANE_SCHEMES.length - 1), { minLength: nodes, maxLength: nodes }),
    })
    .map(({ chain, extra, first, schemes }) => {
      const next = first.slice();
      const links: TopologyLink[] = [];
      const add = (a: number, b: number, valueA: number, valueB: number, oneWay: boolean): void => {
        if (a === b) return;
        links.push({
          a,
          b,
          ifaceA: next[a - 1]!++,
          ifaceB: next[b - 1]!++,
          valueA,
          valueB,
          oneWay,
        });
      };
      chain.forEach(
        ([present, valueA, valueB], i) => present && add(i + 1, i + 2, valueA, valueB, false),
      );
      for (const [a, step, valueA, valueB, oneWay] of extra)
        add(a, ((a - 1 + step) % nodes) + 1, valueA, valueB, oneWay);
      return { nodes, schemes: schemes.map((i) => SANE_SCHEMES[i]!), links };
    }),
);

/**
 * A ladder: a rail of hubs (every interface in v358's widest form, 10 bits a hop) and a rail of
 * small nodes (4 bits a hop) joined by rungs. Along the hub rail 6 hops already overflow the
 * label, so the cheapest route often does not fit and a longer one over the small nodes does.
 */
const arbLadder: fc.Arbitrary<Topology> = fc.integer({ min: 4, max: 7 }).chain((len) =>
  fc
    .record({
      rails: fc.array(fc.tuple(arbValue, arbValue), {
        minLength: 2 * len - 2,
        maxLength: 2 * len - 2,
      }),
      rungs: fc.array(fc.option(fc.tuple(arbValue, arbValue), { freq: 2 }), {
        minLength: len,
        maxLength: len,
      }),
    })
    .map(({ rails, rungs }) => {
      const next = [
        ...Array.from({ length: len }, () => 200),
        ...Array.from({ length: len }, () => 2),
      ];
      const links: TopologyLink[] = [];
      const add = (a: number, b: number, [valueA, valueB]: [number, number]): void => {
        links.push({ a, b, ifaceA: next[a - 1]!++, ifaceB: next[b - 1]!++, valueA, valueB });
      };
      for (let i = 1; i < len; i++) {
        add(i, i + 1, rails[i - 1]!);
        add(len + i, len + i + 1, rails[len - 2 + i]!);
      }
      rungs.forEach((r, i) => {
        if (r || i === 0 || i === len - 1) add(i + 1, len + i + 1, r ?? [1, 1]);
      });
      return {
        nodes: 2 * len,
        schemes: Array.from({ length: 2 * len }, () => SCHEMES.v358),
        links,
      };
    }),
);

const v358AnyLabel = fc.oneof(
  fc.integer({ min: 0, max: 7 }).map((d) => (((1 << 3) | d) << 1) | 1),
  fc.integer({ min: 0, max: 31 }).map((d) => (((1 << 5) | d) << 2) | 2),
  fc.integer({ min: 0, max: 255 }).map((d) => ((1 << 8) | d) << 2),
  fc.constantFrom(1, 2, 3, 4, 0x7fff_ffff),
);

/** Forms that shrink, a prefix form first: "widening" by form number can narrow or fail. */
const SHRINKING: EncodingScheme = [
  { bitCount: 5, prefixLen: 2, prefix: 2 },
  { bitCount: 3, prefixLen: 1, prefix: 1 },
  { bitCount: 8, prefixLen: 2, prefix: 0 },
];
const HOSTILE_SCHEMES: EncodingScheme[] = [
  SCHEMES.v358,
  SCHEMES.v358,
  SHRINKING,
  SCHEMES.v48,
  SCHEMES.f4,
];

export interface HostileSpec {
  nodes: number;
  /** [a, b, label a→b (in b's record), form, value] */
  links: [number, number, number, number, number][];
  schemes: number[];
}

export const arbHostile: fc.Arbitrary<HostileSpec> = fc.integer({ min: 2, max: 6 }).chain((nodes) =>
  fc.record({
    nodes: fc.constant(nodes),
    links: fc.array(
      fc.tuple(
        fc.integer({ min: 1, max: nodes }),
        fc.integer({ min: 1, max: nodes }),
        v358AnyLabel,
        fc.nat(3),
        arbValue,
      ),
      { maxLength: nodes * 3 },
    ),
    schemes: fc.array(fc.nat(HOSTILE_SCHEMES.length - 1), { minLength: nodes, maxLength: nodes }),
  }),
);

/** Records for a hostile spec: every listed link a→b is one of b's links from a, both ends known. */
export function tableOfHostile(spec: HostileSpec): NodeTable {
  const t = new NodeTable();
  const peers = new Map<number, Entity[]>();
  for (let n = 1; n <= spec.nodes; n++) peers.set(n, []);
  const values: number[] = [];
  let peerNum = 1;
  for (const [a, b, label, form, value] of spec.links) {
    if (a === b) continue;
    peers.get(b)!.push(peer(ipOf(a), label, peerNum++, form));
    values.push(value);
    // the other end, so the link is known from both ends
    peers.get(a)!.push(peer(ipOf(b), label ^ 0x10, peerNum++, (form + 1) % 3));
    values.push(value);
  }
  for (let n = 1; n <= spec.nodes; n++) {
    const out = t.handleAnnounce(
      { ann: mkReset(ipOf(n), T0, peers.get(n)!, HOSTILE_SCHEMES[spec.schemes[n - 1]!]!) },
      { fromNode: true, now: T0, selfIp: SNODE_IP },
    );
    expect(out.error).to.equal('none');
  }
  let i = 0;
  for (const rec of t)
    for (const links of rec.inwardLinksByIp.values())
      for (const l of links) l.value = values[i++ % values.length]!;
  return t;
}

/** A cjdns-like network: a chain with shortcuts, or a ladder of hubs beside small nodes. */
export const arbNetwork: fc.Arbitrary<Topology> = fc.oneof(arbChain, arbLadder);
