/**
 * The JSON shapes of `/ui/api/node/<ip|key>` and `/ui/api/path/<src>/<dst>` (docs/ui.md), shared
 * by the server (node-details.ts) and the map page (types only).
 */

export interface UiLinkSample {
  readonly slot: number;
  readonly lag: number;
  readonly drops: number;
  readonly kbRecv: number;
}

/** One link the node announced: `peer` reaches the node with `label` (in the peer's scheme). */
export interface UiLink {
  readonly peer: string;
  readonly label: string;
  /** link quality from link state (route cost = 1 / value; 0 until link state arrived) */
  readonly value: number;
  readonly mtu: number;
  readonly flags: number;
  readonly peerNum: number;
  readonly encodingFormNum: number;
  /** ms: the announcement that created the link, and the newest that announced it */
  readonly createTime: number;
  readonly time: number;
  readonly samples: number;
  /** the newest link-state sample */
  readonly last: UiLinkSample | null;
  /** the peer has a record and announces this node back (with that link's value) */
  readonly back: { readonly label: string; readonly value: number } | null;
}

export interface UiAnnouncement {
  readonly hash: string;
  readonly timestamp: number;
  readonly isReset: boolean;
  readonly bytes: number;
  /** entity counts by type */
  readonly entities: Readonly<Record<string, number>>;
}

export interface UiNode {
  readonly ip: string;
  readonly key: string;
  readonly version: number;
  /** ms: timestamp of the newest accepted announcement */
  readonly lastSeen: number;
  readonly encodingScheme: string;
  readonly stateHash: string;
  readonly links: readonly UiLink[];
  /** kept announcements, newest first */
  readonly announcements: readonly UiAnnouncement[];
}

/** A route as the page draws it: the spliced label, the nodes in order, each hop's label. */
export interface UiPath {
  readonly src: string;
  readonly dst: string;
  /** false: no route (the server's `/path` answers null) */
  readonly found: boolean;
  readonly label: string | null;
  /** src … dst (just [src] when src = dst) */
  readonly nodes: readonly string[];
  /** one per link along `nodes`: the label as re-encoded in the route and as announced */
  readonly hops: readonly { readonly label: string; readonly origLabel: string }[];
}
