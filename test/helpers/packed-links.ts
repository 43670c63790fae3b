/**
 * Packed links (src/routing/node-update.ts) and node updates made directly, for tests of the
 * replica model's storage: a peer list with each peer's link triples [labelId, form, value].
 */
import type { NodeUpdate } from '../../src/routing/node-update.ts';

export type PeerLinks = readonly (readonly [peer: number, links: readonly (readonly number[])[]])[];

export function packLinks(peers: PeerLinks): Float64Array {
  const p = peers.length;
  let linkCount = 0;
  for (const [, links] of peers) linkCount += links.length;
  const d = new Float64Array(2 + 2 * p + 3 * linkCount);
  d[0] = p;
  let k = 0;
  peers.forEach(([peer, links], i) => {
    d[1 + i] = peer;
    d[1 + p + i] = k;
    for (const [label, form, value] of links) {
      const base = 2 + 2 * p + 3 * k++;
      d[base] = label!;
      d[base + 1] = form!;
      d[base + 2] = value!;
    }
  });
  d[1 + 2 * p] = k;
  return d;
}

export function presentUpdate(seq: number, id: number, peers: PeerLinks, version = 1): NodeUpdate {
  return { seq, id, present: true, version, schemeId: id % 3, links: packLinks(peers) };
}

export function absentUpdate(seq: number, id: number): NodeUpdate {
  return { seq, id, present: false, version: 0, schemeId: -1, links: new Float64Array([0, 0]) };
}
