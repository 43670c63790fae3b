/**
 * The bodies of the original's read API (docs/protocol.md §8), built from the node table, the replication
 * store and the route engine. Pure functions of the state; the whole-table ones (`/walk`, `/dump`,
 * `/ni`) also come in chunks for the HTTP transport to stream.
 */
import { RsError } from '../errors.ts';
import type { ReplicationStore } from '../graph/replication-store.ts';
import { nodeRecordToJson } from '../graph/node-json.ts';
import { keepsResetMsg, type NodeDirectory } from '../graph/node-directory.ts';
import type { NodeRecordView } from '../graph/node-record.ts';
import type { PeerInfo } from '../replication/peer-info.ts';
import type { RouteJson } from '../routing/route-answer.ts';
import { schemeToJs } from '../protocol/encoding-scheme.ts';
import { normalizeIp6 } from '../protocol/keys.ts';
import { jsonAtDepth } from './json-at-depth.ts';

/** Normalise a path parameter to the 39-char form; a malformed address is a 400. */
export function ipParam(text: string, what: string): string {
  try {
    return normalizeIp6(text);
  } catch {
    throw new RsError(
      'RS_ERR_HTTP_BAD_REQUEST',
      `${what} is not a valid IPv6 address: ${text.slice(0, 60)}`,
    );
  }
}

/** Target size of one chunk of a streamed answer: well under a millisecond of work. */
export const READ_CHUNK_BYTES = 16 * 1024;

interface NiEntry {
  ip6: string;
  announcements: number;
  rst: boolean;
}

function niEntry(n: NodeRecordView): NiEntry {
  return { ip6: n.ipv6, announcements: n.announcements.length, rst: !keepsResetMsg(n) };
}

export class HttpViews {
  constructor(
    private readonly table: NodeDirectory,
    private readonly store: ReplicationStore,
    private readonly route: (srcIp: string, dstIp: string) => RouteJson | null,
  ) {}

  /** `/` */
  root(
    peerInfo: PeerInfo,
    extras: Record<string, unknown> = {},
  ): { peer: PeerInfo; nodesByIp: number } {
    return { peer: peerInfo, nodesByIp: this.table.size, ...extras };
  }

  /** `/ni` as a value (`snode replay`); HTTP streams the same text with `niChunks`. */
  ni(peerInfo: PeerInfo): unknown {
    const nodes: NiEntry[] = [];
    let totalAnnouncements = 0;
    let rsts = 0;
    for (const n of this.table) {
      const entry = niEntry(n);
      nodes.push(entry);
      totalAnnouncements += entry.announcements;
      if (entry.rst) rsts++;
    }
    return {
      nodes,
      totalAnnouncements,
      totalWithRsts: totalAnnouncements + rsts,
      peerInfo,
      totalNodes: this.table.size,
    };
  }

  /**
   * `/ni` as the text `JSON.stringify(ni(peerInfo), null, 2)` gives, in chunks of about
   * `chunkBytes` (see walkChunks for what is snapshotted).
   */
  *niChunks(peerInfo: PeerInfo, chunkBytes = READ_CHUNK_BYTES): Generator<string, void, undefined> {
    const nodes = Array.from(this.table);
    let totalAnnouncements = 0;
    let rsts = 0;
    let buf = '{\n  "nodes": [';
    for (let i = 0; i < nodes.length; i++) {
      const entry = niEntry(nodes[i]!);
      totalAnnouncements += entry.announcements;
      if (entry.rst) rsts++;
      buf += (i === 0 ? '\n    ' : ',\n    ') + jsonAtDepth(entry, '    ');
      if (buf.length >= chunkBytes) {
        yield buf;
        buf = '';
      }
    }
    buf += nodes.length > 0 ? '\n  ],' : '],';
    buf += `\n  "totalAnnouncements": ${totalAnnouncements},`;
    buf += `\n  "totalWithRsts": ${totalAnnouncements + rsts},`;
    buf += `\n  "peerInfo": ${jsonAtDepth(peerInfo, '  ')},`;
    buf += `\n  "totalNodes": ${nodes.length}\n}`;
    yield buf;
  }

  /** `/ni/<ip>`: `{node}` or `{}` for an unknown node. */
  node(ipText: string): unknown {
    const rec = this.table.get(ipParam(ipText, 'ip'));
    return rec ? { node: nodeRecordToJson(rec) } : {};
  }

  /** `/walk`: one JSON array per line, nodes first, then links whose peer has a record. */
  walk(): string {
    return Array.from(this.walkChunks()).join('');
  }

  /**
   * `/walk` in chunks of about `chunkBytes`, so a large table is never one string and never
   * holds the event loop for more than a chunk. The node list is taken when the first chunk is
   * asked for (which nodes, in which order); each node's lines are written from its record as
   * it is when its chunk is made, all of a node's lines in one chunk. A link is listed when its
   * peer has a record at that moment.
   */
  *walkChunks(chunkBytes = READ_CHUNK_BYTES): Generator<string, void, undefined> {
    const nodes = Array.from(this.table);
    let buf = '';
    let first = true;
    const add = (line: string): void => {
      buf += first ? line : `\n${line}`;
      first = false;
    };
    for (const n of nodes) {
      add(
        JSON.stringify([
          'node',
          Math.floor(n.timestamp / 1000),
          '-',
          `v${n.version}.0000.0000.0000.0001.${n.key}`,
          schemeToJs(n.encodingScheme),
          n.ipv6,
        ]),
      );
      if (buf.length >= chunkBytes) {
        yield buf;
        buf = '';
      }
    }
    for (const n of nodes) {
      for (const [peerIp, links] of n.inwardLinksByIp) {
        const peer = this.table.get(peerIp);
        if (!peer) continue;
        for (const l of links)
          add(JSON.stringify(['link', Math.floor(l.time / 1000), '-', n.key, peer.key, l.label]));
      }
      if (buf.length >= chunkBytes) {
        yield buf;
        buf = '';
      }
    }
    if (buf.length > 0) yield buf;
  }

  /** `/dump`: for each node, each kept announcement newest first: u32 BE length ‖ bytes; then 4 zero bytes. */
  dump(): Uint8Array {
    return new Uint8Array(Buffer.concat(Array.from(this.dumpChunks())));
  }

  /** `/dump` in chunks of about `chunkBytes` (see walkChunks for what is snapshotted). */
  *dumpChunks(chunkBytes = READ_CHUNK_BYTES): Generator<Uint8Array, void, undefined> {
    const nodes = Array.from(this.table);
    let parts: Uint8Array[] = [];
    let size = 0;
    for (const n of nodes) {
      for (const a of n.announcements) {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(a.binary.length);
        parts.push(len, a.binary);
        size += 4 + a.binary.length;
      }
      if (size >= chunkBytes) {
        yield Buffer.concat(parts, size);
        parts = [];
        size = 0;
      }
    }
    parts.push(Buffer.alloc(4));
    yield Buffer.concat(parts, size + 4);
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
