/**
 * What a restart replays from the log: the live announcements grouped by node (the signing key
 * in the header), nodes in the order of their first stored announcement (their reset), each
 * node's announcements in log order — its acceptance order: the reset first, then what it still
 * keeps. A node is dropped whole when its newest announcement is older than the global timeout:
 * the node the expiry would forget (docs/protocol.md §4.7). Reads header fields only; nothing is
 * parsed or verified here.
 */
import { GLOBAL_TIMEOUT_MS } from '../graph/constants.ts';
import { parseTimestampField } from '../protocol/announcement.ts';
import type { StoredAnnouncement } from './log-reader.ts';

export interface RestorePlan {
  /** per node, oldest first; nodes in the order of their first announcement */
  readonly nodes: Uint8Array[][];
  readonly announcements: number;
  readonly expiredNodes: number;
  readonly expiredAnnouncements: number;
}

export function restorePlan(live: readonly StoredAnnouncement[], now: number): RestorePlan {
  const byNode = new Map<string, { anns: Uint8Array[]; newest: number }>();
  for (const s of live) {
    const a = s.announcement;
    // bytes 64..96: the announcing node's signing key
    const key = Buffer.from(a.buffer, a.byteOffset + 64, 32).toString('latin1');
    const t = parseTimestampField(a, 112).timestamp;
    const node = byNode.get(key);
    if (!node) byNode.set(key, { anns: [a], newest: t });
    else {
      node.anns.push(a);
      if (t > node.newest) node.newest = t;
    }
  }
  const cutoff = now - GLOBAL_TIMEOUT_MS;
  const nodes: Uint8Array[][] = [];
  let announcements = 0;
  let expiredNodes = 0;
  let expiredAnnouncements = 0;
  for (const n of byNode.values()) {
    if (n.newest < cutoff) {
      expiredNodes++;
      expiredAnnouncements += n.anns.length;
    } else {
      nodes.push(n.anns);
      announcements += n.anns.length;
    }
  }
  return { nodes, announcements, expiredNodes, expiredAnnouncements };
}
