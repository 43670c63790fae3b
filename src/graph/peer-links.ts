/**
 * Peer entities → inward links of the announcing node (docs/protocol.md §4.4).
 *
 * A Peer entity says "the announcer can be reached from `ipv6` with `label`"; label 0 withdraws
 * every link of that peer IP with the same peerNum. Links are identified by peerNum within one
 * peer IP: the same label and form only refresh mtu/flags/time (value and link state survive),
 * anything else replaces the link in place with a fresh one.
 */
import type { Announcement } from '../protocol/announcement-types.ts';
import type { PeerEntity } from '../protocol/entity-types.ts';
import { WITHDRAW_LABEL } from './constants.ts';
import { mkLink, type NodeRecord } from './node-record.ts';

/** Apply every Peer entity of `ann`, in message order, to `record`. */
export function applyPeers(record: NodeRecord, ann: Announcement): void {
  for (const e of ann.entities) {
    if (e.type === 'Peer') applyPeer(record, e, ann);
  }
}

export function applyPeer(record: NodeRecord, peer: PeerEntity, ann: Announcement): void {
  const byIp = record.inwardLinksByIp;
  const links = byIp.get(peer.ipv6);
  if (peer.label === WITHDRAW_LABEL) {
    if (!links) return;
    const remaining = links.filter((l) => l.peerNum !== peer.peerNum);
    if (remaining.length === 0) byIp.delete(peer.ipv6);
    else byIp.set(peer.ipv6, remaining); // an existing key keeps its position
    return;
  }
  const newLink = mkLink(peer, ann);
  if (!links) {
    byIp.set(peer.ipv6, [newLink]);
    return;
  }
  const idx = links.findIndex((l) => l.peerNum === peer.peerNum);
  if (idx < 0) {
    links.push(newLink);
    return;
  }
  const stored = links[idx]!;
  if (stored.label === newLink.label && stored.encodingFormNum === newLink.encodingFormNum) {
    stored.flags = newLink.flags;
    stored.mtu = newLink.mtu;
    stored.time = newLink.time;
  } else {
    links[idx] = newLink;
  }
}
