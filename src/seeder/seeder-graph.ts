/**
 * What the seeder needs from the route server's graph (docs/seeder.md), and nothing more: how
 * many distinct peers a node announced, and whether one given node is among them.
 */

export interface PeerInfo {
  /** distinct peer IPv6s the node announced; Infinity for a node the graph does not hold */
  readonly count: number;
  /** `asker` is among them (false when no asker was given) */
  readonly isPeerOf: boolean;
}

export interface SeederGraph {
  peerInfo(nodeIp: string, asker?: string): PeerInfo;
}

/** The node records as the graph keeps them: a node's links grouped by the peer's IPv6. */
export interface NodeLinksLookup {
  get(ip: string): { readonly inwardLinksByIp: ReadonlyMap<string, unknown> } | undefined;
}

/** A SeederGraph over the node table (keys of `inwardLinksByIp` = the peers a node announced, docs/protocol.md §4.4). */
export function seederGraphOf(nodes: NodeLinksLookup): SeederGraph {
  return {
    peerInfo(nodeIp, asker) {
      const node = nodes.get(nodeIp);
      if (!node) return { count: Infinity, isPeerOf: false };
      const links = node.inwardLinksByIp;
      return { count: links.size, isPeerOf: asker !== undefined && links.has(asker) };
    },
  };
}
