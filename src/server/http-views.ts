/**
 * The bodies of the original's read API (docs/protocol.md §8), built from the node table, the replication
 * store and the route engine. Pure functions of the state; the HTTP transport serialises them.
 */
import { RsError } from '../errors.ts';
import type { ReplicationStore } from '../graph/replication-store.ts';
import { nodeRecordToJson } from '../graph/node-json.ts';
import type { NodeTable } from '../graph/apply-announcement.ts';
import type { PeerInfo } from '../replication/peer-info.ts';
import type { RouteJson } from '../routing/route-answer.ts';
import { schemeToJs } from '../protocol/encoding-scheme.ts';
import { ip6FromString, ip6ToString } from '../protocol/keys.ts';

/** Normalise a path parameter to the 39-char form; a malformed address is a 400. */
export function ipParam(text: string, what: string): string {
  try {
    return ip6ToString(ip6FromString(text));
  } catch {
    throw new RsError('RS_ERR_HTTP_BAD_REQUEST', `${what} is not a valid IPv6 address: ${text.slice(0, 60)}`);
  }
}

export class HttpViews {
  constructor(
    private readonly table: NodeTable,
    private readonly store: ReplicationStore,
    private readonly route: (srcIp: string, dstIp: string) => RouteJson | null,
  ) {}

  /** `/` */
  root(peerInfo: PeerInfo, extras: Record<string, unknown> = {}): { peer: PeerInfo; nodesByIp: number } {
    return { peer: peerInfo, nodesByIp: this.table.size, ...extras };
  }

  /** `/ni` */
  ni(peerInfo: PeerInfo): unknown {
    const nodes: Array<{ ip6: string; announcements: number; rst: boolean }> = [];
    let totalAnnouncements = 0;
    let rsts = 0;
    for (const n of this.table) {
      const rst = !n.announcements.includes(n.resetMsg);
      nodes.push({ ip6: n.ipv6, announcements: n.announcements.length, rst });
      totalAnnouncements += n.announcements.length;
      if (rst) rsts++;
    }
    return { nodes, totalAnnouncements, totalWithRsts: totalAnnouncements + rsts, peerInfo, totalNodes: this.table.size };
  }

  /** `/ni/<ip>`: `{node}` or `{}` for an unknown node. */
  node(ipText: string): unknown {
    const rec = this.table.get(ipParam(ipText, 'ip'));
    return rec ? { node: nodeRecordToJson(rec) } : {};
  }

  /** `/walk`: one JSON array per line, nodes first, then links whose peer has a record. */
  walk(): string {
    const lines: string[] = [];
    for (const n of this.table) {
      lines.push(
        JSON.stringify(['node', Math.floor(n.timestamp / 1000), '-', `v${n.version}.0000.0000.0000.0001.${n.key}`, schemeToJs(n.encodingScheme), n.ipv6]),
      );
    }
    for (const n of this.table) {
      for (const [peerIp, links] of n.inwardLinksByIp) {
        const peer = this.table.get(peerIp);
        if (!peer) continue;
        for (const l of links) lines.push(JSON.stringify(['link', Math.floor(l.time / 1000), '-', n.key, peer.key, l.label]));
      }
    }
    return lines.join('\n');
  }

  /** `/dump`: for each node, each kept announcement newest first: u32 BE length ‖ bytes; then 4 zero bytes. */
  dump(): Uint8Array {
    const parts: Buffer[] = [];
    for (const n of this.table) {
      for (const a of n.announcements) {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(a.binary.length);
        parts.push(len, Buffer.from(a.binary.buffer, a.binary.byteOffset, a.binary.byteLength));
      }
    }
    parts.push(Buffer.alloc(4));
    return new Uint8Array(Buffer.concat(parts));
  }

  /** `/path/<src>/<dst>`: `src not found` / `tar not found` as text, else the route or null. */
  path(srcText: string, dstText: string): string | RouteJson | null {
    const src = ipParam(srcText, 'src');
    const dst = ipParam(dstText, 'dst');
    if (!this.table.get(src)) return 'src not found';
    if (!this.table.get(dst)) return 'tar not found';
    return this.route(src, dst);
  }
}
