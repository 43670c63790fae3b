/**
 * What a restart replays from the log: the live announcements grouped by node (the signing key
 * in the header), nodes in the order of their first stored announcement (their reset), each
 * node's announcements in log order — its acceptance order: the reset first, then what it still
 * keeps. A node is dropped whole when its newest announcement is older than the global timeout:
 * the node the expiry would forget (docs/protocol.md §4.7). Reads header fields only; nothing is
 * parsed or verified here.
 */
import { GLOBAL_TIMEOUT_MS } from '../graph/constants.ts';
import type { StoredAnnouncement } from './log-reader.ts';

export interface RestoreNode {
  /** oldest first */
  readonly announcements: Uint8Array[];
  /** the announcer's curve25519 key, as stored */
  readonly nodeKey: Uint8Array;
}

export interface RestorePlan {
  /** nodes in the order of their first announcement */
  readonly nodes: RestoreNode[];
  readonly announcements: number;
  readonly expiredNodes: number;
  readonly expiredAnnouncements: number;
}

export function restorePlan(live: readonly StoredAnnouncement[], now: number): RestorePlan {
  const byNode = new Map<string, { anns: Uint8Array[]; newest: number; nodeKey: Uint8Array }>();
  for (const s of live) {
    const a = s.announcement;
    // bytes 64..96: the announcing node's signing key
    const key = Buffer.from(a.buffer, a.byteOffset + 64, 32).toString('latin1');
    const t = timestampOf(a);
    const node = byNode.get(key);
    if (!node) byNode.set(key, { anns: [a], newest: t, nodeKey: s.nodeKey });
    else {
      node.anns.push(a);
      if (t > node.newest) node.newest = t;
    }
  }
  const cutoff = now - GLOBAL_TIMEOUT_MS;
  const nodes: RestoreNode[] = [];
  let announcements = 0;
  let expiredNodes = 0;
  let expiredAnnouncements = 0;
  for (const n of byNode.values()) {
    if (n.newest < cutoff) {
      expiredNodes++;
      expiredAnnouncements += n.anns.length;
    } else {
      nodes.push({ announcements: n.anns, nodeKey: n.nodeKey });
      announcements += n.anns.length;
    }
  }
  return { nodes, announcements, expiredNodes, expiredAnnouncements };
}

/** The header's timestamp, ms (docs/protocol.md §1: the u64 BE at 112, shifted right by 4). */
function timestampOf(a: Uint8Array): number {
  const hi = ((a[112]! << 24) >>> 0) + ((a[113]! << 16) | (a[114]! << 8) | a[115]!);
  const lo = ((a[116]! << 24) >>> 0) + ((a[117]! << 16) | (a[118]! << 8) | a[119]!);
  return hi * 0x10000000 + Math.floor(lo / 16);
}
