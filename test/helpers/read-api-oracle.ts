/**
 * The bodies of `/walk`, `/dump` and `/ni` exactly as the server built them in one piece before
 * they were streamed (src/server/http-views.ts at b0c3c42), kept as the oracle the streamed
 * answers are compared with byte for byte.
 */
import type { NodeTable } from '../../src/graph/apply-announcement.ts';
import { schemeToJs } from '../../src/protocol/encoding-scheme.ts';
import type { PeerInfo } from '../../src/replication/peer-info.ts';

export function oracleWalk(table: NodeTable): string {
  const lines: string[] = [];
  for (const n of table) {
    lines.push(
      JSON.stringify([
        'node',
        Math.floor(n.timestamp / 1000),
        '-',
        `v${n.version}.0000.0000.0000.0001.${n.key}`,
        schemeToJs(n.encodingScheme),
        n.ipv6,
      ]),
    );
  }
  for (const n of table) {
    for (const [peerIp, links] of n.inwardLinksByIp) {
      const peer = table.get(peerIp);
      if (!peer) continue;
      for (const l of links)
        lines.push(
          JSON.stringify(['link', Math.floor(l.time / 1000), '-', n.key, peer.key, l.label]),
        );
    }
  }
  return lines.join('\n');
}

export function oracleDump(table: NodeTable): Uint8Array {
  const parts: Buffer[] = [];
  for (const n of table) {
    for (const a of n.announcements) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(a.binary.length);
      parts.push(len, Buffer.from(a.binary.buffer, a.binary.byteOffset, a.binary.byteLength));
    }
  }
  parts.push(Buffer.alloc(4));
  return new Uint8Array(Buffer.concat(parts));
}

/** `/ni` as the HTTP answer's text (the server sent `JSON.stringify(value, null, 2)`). */
export function oracleNi(table: NodeTable, peerInfo: PeerInfo): string {
  const nodes: Array<{ ip6: string; announcements: number; rst: boolean }> = [];
  let totalAnnouncements = 0;
  let rsts = 0;
  for (const n of table) {
    const rst = !n.announcements.includes(n.resetMsg);
    nodes.push({ ip6: n.ipv6, announcements: n.announcements.length, rst });
    totalAnnouncements += n.announcements.length;
    if (rst) rsts++;
  }
  const value = {
    nodes,
    totalAnnouncements,
    totalWithRsts: totalAnnouncements + rsts,
    peerInfo,
    totalNodes: table.size,
  };
  return JSON.stringify(value, null, 2);
}
