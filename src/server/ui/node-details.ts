/**
 * Compact JSON answers of the map page (docs/ui.md): one node's details and a route between two
 * nodes. Pure functions of the node table and the route engine; the HTTP side serialises them.
 * Nodes are named by IPv6 (any textual form) or by key (`….k`).
 */
import { RsError } from '../../errors.ts';
import type { LinkView, NodeRecordView } from '../../graph/node-record.ts';
import type { RouteJson } from '../../routing/route-answer.ts';
import type { Announcement } from '../../protocol/announcement-types.ts';
import { printScheme } from '../../protocol/encoding-scheme.ts';
import { bytesToHex } from '../../protocol/hex.ts';
import {
  ip6FromPublicKey,
  ip6FromString,
  ip6ToString,
  publicKeyFromString,
} from '../../protocol/keys.ts';
import type { UiAnnouncement, UiLink, UiLinkSample, UiNode, UiPath } from './details-wire.ts';

export type { UiAnnouncement, UiLink, UiLinkSample, UiNode, UiPath } from './details-wire.ts';

/** A node's name on the page's URLs: its IPv6 (any textual form) or its key. */
export function nodeIpOf(text: string, what = 'node'): string {
  try {
    if (text.endsWith('.k')) return ip6ToString(ip6FromPublicKey(publicKeyFromString(text)));
    return ip6ToString(ip6FromString(text));
  } catch {
    throw new RsError(
      'RS_ERR_HTTP_BAD_REQUEST',
      `${what} is neither an IPv6 address nor a key: ${text.slice(0, 80)}`,
    );
  }
}

function newestSample(link: LinkView): UiLinkSample | null {
  let best: UiLinkSample | null = null;
  for (const [slot, s] of link.linkState) {
    if (best === null || slot > best.slot)
      best = { slot, lag: s.lag, drops: s.drops, kbRecv: s.kbRecv };
  }
  return best;
}

function bestLink(links: readonly LinkView[] | undefined): LinkView | undefined {
  let best: LinkView | undefined;
  for (const l of links ?? []) if (!best || l.value > best.value) best = l;
  return best;
}

function announcementOf(ann: Announcement): UiAnnouncement {
  const entities: Record<string, number> = {};
  for (const e of ann.entities) entities[e.type] = (entities[e.type] ?? 0) + 1;
  return {
    hash: bytesToHex(ann.hash),
    timestamp: ann.timestamp,
    isReset: ann.isReset,
    bytes: ann.binary.length,
    entities,
  };
}

/** The details of `rec`; `lookup` finds the peers' records (for the links back). */
export function uiNode(
  rec: NodeRecordView,
  lookup: (ip: string) => NodeRecordView | undefined,
): UiNode {
  const links: UiLink[] = [];
  for (const [peer, peerLinks] of rec.inwardLinksByIp) {
    const backLink = bestLink(lookup(peer)?.inwardLinksByIp.get(rec.ipv6));
    const back = backLink ? { label: backLink.label, value: backLink.value } : null;
    for (const l of peerLinks) {
      links.push({
        peer,
        label: l.label,
        value: l.value,
        mtu: l.mtu,
        flags: l.flags,
        peerNum: l.peerNum,
        encodingFormNum: l.encodingFormNum,
        createTime: l.createTime,
        time: l.time,
        samples: l.linkState.size,
        last: newestSample(l),
        back,
      });
    }
  }
  return {
    ip: rec.ipv6,
    key: rec.key,
    version: rec.version,
    lastSeen: rec.timestamp,
    encodingScheme: printScheme(rec.encodingScheme),
    stateHash: bytesToHex(rec.stateHash),
    links,
    announcements: rec.announcements.map(announcementOf),
  };
}

export function uiPath(src: string, dst: string, route: RouteJson | null): UiPath {
  if (!route) return { src, dst, found: false, label: null, nodes: [], hops: [] };
  return {
    src,
    dst,
    found: true,
    label: route.label,
    nodes: route.path ?? [src],
    hops: route.hops.map((h) => ({ label: h.label, origLabel: h.origLabel })),
  };
}
