/**
 * Small test networks with real switch interfaces, for the route-policy tests: every node numbers
 * its interfaces, a link a—b joins one interface of a to one of b, and the Peer entities carry the
 * one-hop labels cjdns would write (the smallest form of the sender's scheme that holds the
 * interface number, README 3.3). `walkLabel` then follows a label through the network the way the
 * switches do, so a route can be checked hop by hop to its destination.
 */
import { expect } from 'chai';
import { NodeTable } from '../../src/graph/apply-announcement.ts';
import type { EncodingScheme } from '../../src/protocol/encoding-scheme-types.ts';
import { isV358 } from '../../src/protocol/encoding-scheme.ts';
import type { Entity } from '../../src/protocol/entity-types.ts';
import { formatLabel, getEncodingForm } from '../../src/protocol/routing-label.ts';
import { ipOf, mkReset, peer, SNODE_IP, T0 } from '../unit/graph/fixtures.ts';

/** One link a—b: a's interface towards b, b's towards a, and each end's link value. */
export interface TopologyLink {
  readonly a: number;
  readonly b: number;
  readonly ifaceA: number;
  readonly ifaceB: number;
  /** value of a's inward link from b (a's measurement), 0 = unmeasured */
  readonly valueA: number;
  readonly valueB: number;
  /** the link is known only from a's side (b does not announce it) */
  readonly oneWay?: boolean;
}

export interface Topology {
  /** nodes are 1 … nodes */
  readonly nodes: number;
  /** scheme of node i at index i − 1 */
  readonly schemes: readonly EncodingScheme[];
  readonly links: readonly TopologyLink[];
}

/** The one-hop label for `iface` in the smallest form of `scheme` that holds it, and that form. */
export function encodeInterface(
  iface: number,
  scheme: EncodingScheme,
): { label: bigint; form: number } {
  const v358 = isV358(scheme);
  for (let f = 0; f < scheme.length; f++) {
    const form = scheme[f]!;
    let data = iface;
    if (v358) {
      if (f === 0) data = iface === 1 ? 0 : iface === 0 ? 1 : iface;
      else if (iface === 1)
        continue; // interface 1 (self) only in form 0
      else data = iface === 0 ? 0 : iface - 1;
    }
    if (data >= 2 ** form.bitCount) continue;
    const label =
      (((1n << BigInt(form.bitCount)) | BigInt(data)) << BigInt(form.prefixLen)) |
      BigInt(form.prefix & (2 ** form.prefixLen - 1));
    return { label, form: f };
  }
  throw new RangeError(`interface ${iface} does not fit the scheme`);
}

/** The interface of the label's first director in `scheme`, and the director's size; null if none. */
export function decodeInterface(
  label: bigint,
  scheme: EncodingScheme,
): { iface: number; size: number } | null {
  const f = getEncodingForm(label, scheme);
  if (f < 0) return null;
  const form = scheme[f]!;
  const data = Number((label >> BigInt(form.prefixLen)) & ((1n << BigInt(form.bitCount)) - 1n));
  let iface = data;
  if (isV358(scheme)) {
    if (f === 0) iface = data === 0 ? 1 : data === 1 ? 0 : data;
    else iface = data === 0 ? 0 : data + 1;
  }
  return { iface, size: form.bitCount + form.prefixLen };
}

/** Records for the topology: every node announces its links (label of the peer, form of its own). */
export function tableOfTopology(t: Topology): NodeTable {
  const table = new NodeTable();
  const peers = new Map<number, Entity[]>();
  for (let n = 1; n <= t.nodes; n++) peers.set(n, []);
  const values = new Map<string, number>();
  let peerNum = 1;
  const announce = (
    at: number,
    from: number,
    ifaceHere: number,
    ifaceThere: number,
    value: number,
  ): void => {
    const there = encodeInterface(ifaceThere, t.schemes[from - 1]!);
    const here = encodeInterface(ifaceHere, t.schemes[at - 1]!);
    const label = formatLabel(there.label);
    peers.get(at)!.push(peer(ipOf(from), label, peerNum++, here.form));
    values.set(`${at}|${from}|${label}`, value);
  };
  for (const l of t.links) {
    announce(l.a, l.b, l.ifaceA, l.ifaceB, l.valueA);
    if (!l.oneWay) announce(l.b, l.a, l.ifaceB, l.ifaceA, l.valueB);
  }
  for (let n = 1; n <= t.nodes; n++) {
    const out = table.handleAnnounce(
      { ann: mkReset(ipOf(n), T0, peers.get(n)!, t.schemes[n - 1]!) },
      { fromNode: true, now: T0, selfIp: SNODE_IP },
    );
    expect(out.error).to.equal('none');
  }
  for (let n = 1; n <= t.nodes; n++) {
    const rec = table.get(ipOf(n))!;
    for (const [ip, links] of rec.inwardLinksByIp) {
      const from = Number.parseInt(ip.slice(-4), 16);
      for (const l of links) l.value = values.get(`${n}|${from}|${l.label}`) ?? 0;
    }
  }
  return table;
}

/**
 * Follow `label` from `src` as the switches do: at each node read the first director in that
 * node's scheme, leave through that interface, drop the director; the label `1` means "here".
 * Returns the nodes visited after src, or a string saying where the walk failed.
 */
export function walkLabel(t: Topology, src: number, label: bigint): number[] | string {
  const byIface = new Map<string, number>();
  for (const l of t.links) {
    byIface.set(`${l.a}|${l.ifaceA}`, l.b);
    byIface.set(`${l.b}|${l.ifaceB}`, l.a);
  }
  const visited: number[] = [];
  let node = src;
  let rest = label;
  for (let hop = 0; hop < 64; hop++) {
    if (rest === 1n) return visited;
    const d = decodeInterface(rest, t.schemes[node - 1]!);
    if (!d) return `no form at node ${node} for ${formatLabel(rest)}`;
    const next = byIface.get(`${node}|${d.iface}`);
    if (next === undefined) return `node ${node} has no interface ${d.iface}`;
    rest >>= BigInt(d.size);
    if (rest === 0n) return `label ran out at node ${node}`;
    visited.push(next);
    node = next;
  }
  return 'more than 64 hops';
}

/** The node number of a test IPv6 (ipOf). */
export function nodeOfIp(ip: string): number {
  return Number.parseInt(ip.slice(-4), 16);
}
