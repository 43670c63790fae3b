/**
 * The table of announcing nodes and the announcement state machine (JS `handleAnnounce`,
 * docs/protocol.md §4.2, and expiry §4.7).
 *
 * `nodesByIp` has the original's JS-object key order: a node is appended when first created, a
 * reset replaces the record in place (same position), and a node re-created after expiry goes to
 * the end. That order drives graph building and therefore route tie-breaks.
 *
 * The table does not own the replication store: every call reports the hashes it would put in
 * (`added`) and remove from (`deleted`) the store, in the order the original calls
 * `addAnn`/`deleteAnn` (deletions always come before the addition); the caller applies them.
 */
import { isRsError, type RsError } from '../errors.ts';
import { parseAnnouncement } from '../protocol/announcement.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import type { EncodingScheme } from '../protocol/encoding-scheme-types.ts';
import { GLOBAL_TIMEOUT_MS, MAX_CLOCK_SKEW_MS } from './constants.ts';
import { applyKeepRules } from './keep-rules.ts';
import { applyLinkStates } from './link-state.ts';
import { allLinks, newNodeRecord, type NodeRecord, type NodeRecordView } from './node-record.ts';
import { applyPeers } from './peer-links.ts';
import type { ReplyError } from './reply-error.ts';
import { foldStateHash, stateHash, zeroStateHash } from './state-hash.ts';

/** A parsed announcement, or the parse failure (which replies `failed_parse_or_validate`). */
export type AnnounceInput = { readonly ann: Announcement } | { readonly parseError: RsError };

/** Parse (and verify the signature, if asked) on this thread: `{ann}` or `{parseError}`. */
export function parseAnnounceInput(bytes: Uint8Array, verify: boolean): AnnounceInput {
  try {
    return { ann: parseAnnouncement(bytes, { verifySignature: verify }) };
  } catch (e) {
    if (isRsError(e)) return { parseError: e };
    throw e;
  }
}

export interface AnnounceOptions {
  /** true: `sq: ann` from the node itself over the cjdns link; false: replication (gossip) */
  readonly fromNode: boolean;
  /** our clock, ms */
  readonly now: number;
  /** IPv6 of our own cjdns node, once known (JS `selfNode.ipv6`) */
  readonly selfIp: string | undefined;
}

export interface AnnounceOutcome {
  readonly error: ReplyError;
  /** the reply's stateHash: the node's hash, or 64 zero bytes (unknown node, parse failure) */
  readonly stateHash: Uint8Array;
  /** the node's record after the call (undefined if unknown, or after a parse failure) */
  readonly node: NodeRecordView | undefined;
  /** the announcement accepted into the record (its hash is `added[0]`) */
  readonly accepted: Announcement | undefined;
  /** hashes to put into the replication store, after `deleted` */
  readonly added: Uint8Array[];
  /** hashes to remove from the replication store, in call order (may repeat a hash) */
  readonly deleted: Uint8Array[];
}

export class NodeTable {
  private readonly byIp = new Map<string, NodeRecord>();

  /** ip → record in the original's insertion order. Read-only view: mutate through this class. */
  get nodesByIp(): ReadonlyMap<string, NodeRecord> {
    return this.byIp;
  }

  get(ip: string): NodeRecord | undefined {
    return this.byIp.get(ip);
  }

  get size(): number {
    return this.byIp.size;
  }

  [Symbol.iterator](): IterableIterator<NodeRecord> {
    return this.byIp.values();
  }

  /** Inward links held, every node together. */
  linkCount(): number {
    let n = 0;
    for (const rec of this.byIp.values()) for (const _ of allLinks(rec)) n++;
    return n;
  }

  /** docs/protocol.md §4.2, step by step: look the node up, apply to its record, keep a new record. */
  handleAnnounce(input: AnnounceInput, opts: AnnounceOptions): AnnounceOutcome {
    const node = 'ann' in input ? this.byIp.get(input.ann.nodeIp) : undefined;
    const { outcome, created } = applyAnnouncement(node, input, opts);
    if (created) this.byIp.set(created.ipv6, created);
    return outcome;
  }

  /**
   * Directory operation: store `record` under its IPv6. An existing key keeps its position (a
   * reset replaces the record in place, as the original's JS object does); a new key goes last.
   */
  put(record: NodeRecord): void {
    this.byIp.set(record.ipv6, record);
  }

  /** Directory operation: forget a node (expiry). False if it had no record. */
  remove(ip: string): boolean {
    return this.byIp.delete(ip);
  }

  /**
   * Forget every node whose newest announcement is older than `now - GLOBAL_TIMEOUT_MS`
   * (docs/protocol.md §4.7). Returns the hashes to delete from the replication store: each node's kept
   * announcements, then its resetMsg. Links pointing to a forgotten node stay in other records.
   */
  expire(now: number): Uint8Array[] {
    const deleted: Uint8Array[] = [];
    const cutoff = now - GLOBAL_TIMEOUT_MS;
    for (const [ip, node] of [...this.byIp]) {
      if (!(node.timestamp < cutoff)) continue;
      this.byIp.delete(ip);
      for (const a of node.announcements) deleted.push(a.hash);
      deleted.push(node.resetMsg.hash);
    }
    return deleted;
  }
}

/** What applying one announcement to one node's record did. */
export interface RecordTransition {
  readonly outcome: AnnounceOutcome;
  /**
   * A record created by a reset (it replaces `node`, or is the node's first record): the caller
   * stores it in the directory. Undefined when `node` was updated in place or nothing changed.
   */
  readonly created: NodeRecord | undefined;
}

/** What the checks of docs/protocol.md §4.2 steps 1–8 read of a node's record. */
export interface AdmitState {
  readonly timestamp: number;
  readonly encodingScheme: EncodingScheme;
  readonly version: number;
}

/** The outcome of steps 1–8: refused (`ann` undefined: nothing changes), or what to apply. */
export type Admission =
  | { readonly ann: undefined; readonly error: ReplyError }
  | { readonly ann: Announcement; readonly scheme: EncodingScheme; readonly version: number };

/**
 * docs/protocol.md §4.2 steps 1–8 for ONE node, whatever stores its record: the checks that
 * decide whether `input` changes `node` (its current record, undefined if unknown), and the
 * encoding scheme and version it will have. Step 8 (gossip older than the record) refuses with
 * `none`.
 */
export function admit(
  node: AdmitState | undefined,
  input: AnnounceInput,
  opts: AnnounceOptions,
): Admission {
  // 1. parse (done by the caller)
  let ann: Announcement | undefined = 'ann' in input ? input.ann : undefined;
  let error: ReplyError = ann ? 'none' : 'failed_parse_or_validate';
  // 2. (the caller looked the node up)
  if (!ann) node = undefined;
  const drop = (e: ReplyError): void => {
    error = e;
    ann = undefined;
  };
  // 3.
  if (opts.fromNode && ann && node && node.timestamp > ann.timestamp) drop('old_message');
  // 4.
  if (opts.fromNode) {
    // The original throws when its own node is not known yet; we refuse the message instead.
    if (ann && ann.snodeIp !== opts.selfIp) drop('wrong_snode');
    if (ann && Math.abs(opts.now - ann.timestamp) > MAX_CLOCK_SKEW_MS) drop('excessive_clock_skew');
  } else if (opts.selfIp !== undefined && ann && ann.snodeIp === opts.selfIp) {
    drop('wrong_snode');
  }
  // 5.
  let scheme: EncodingScheme | undefined;
  const annScheme = ann ? firstEncodingScheme(ann) : undefined;
  if (annScheme) scheme = annScheme;
  else if (node) scheme = node.encodingScheme;
  else if (ann) drop('no_encodingScheme');
  // 6. (a Version of 0 counts as missing: JS truthiness)
  let version: number | undefined;
  const annVersion = ann ? firstVersion(ann) : undefined;
  if (annVersion) version = annVersion;
  else if (node) version = node.version;
  else if (ann) drop('no_version');
  // 7.
  if (!ann) return { ann: undefined, error };
  // 8. (only reachable for gossip)
  if (node && node.timestamp > ann.timestamp) return { ann: undefined, error: 'none' };
  return { ann, scheme: scheme!, version: version! };
}

/**
 * docs/protocol.md §4.2 for ONE node: `node` is the node's current record (undefined if unknown, or after
 * a parse failure). Pure apart from mutating `node` in place (kept list, timestamp, links,
 * stateHash), so the record can be owned by whoever serialises that node's announcements —
 * the NodeTable in reference mode. (The fast engine's records live in arenas:
 * compact-table.ts applies the same steps to them.)
 */
export function applyAnnouncement(
  node: NodeRecord | undefined,
  input: AnnounceInput,
  opts: AnnounceOptions,
): RecordTransition {
  if (!('ann' in input)) node = undefined;
  const a = admit(node, input, opts);
  if (!a.ann) return unchanged(a.error, node);
  const { ann, scheme, version } = a;

  // 9.
  const deleted: Uint8Array[] = [];
  let record: NodeRecord;
  let created: NodeRecord | undefined;
  let folded: Uint8Array | undefined;
  if (ann.isReset) {
    if (node) {
      for (const a of node.announcements) deleted.push(a.hash);
      deleted.push(node.resetMsg.hash);
    }
    record = created = newNodeRecord(ann, scheme, version, zeroStateHash());
  } else if (node) {
    record = node;
    const { kept, dropped } = applyKeepRules(node.announcements, ann);
    for (const a of dropped) if (a !== node.resetMsg) deleted.push(a.hash);
    node.announcements = kept;
    // nothing fell out: the new list is the old one with `ann` on top, so its chain is the old
    // chain (kept current in `stateHash`) folded once more
    if (dropped.length === 0) folded = foldStateHash(node.stateHash, ann.binary);
    node.timestamp = ann.timestamp;
    node.timestampHex = ann.timestampHex;
  } else {
    return unchanged('unknown_node', undefined);
  }
  // 10., 11.
  applyPeers(record, ann);
  applyLinkStates(record, ann);
  // 12., 13.
  record.stateHash = folded ?? stateHash(record);
  return {
    outcome: {
      error: 'none',
      stateHash: record.stateHash,
      node: record,
      accepted: ann,
      added: [ann.hash],
      deleted,
    },
    created,
  };
}

/**
 * A reply that changes nothing, with the node's hash: JS recomputes and stores it here, which
 * gives the value `stateHash` already holds (every change of the kept list updates it).
 */
function unchanged(error: ReplyError, node: NodeRecord | undefined): RecordTransition {
  const hash = node ? node.stateHash : zeroStateHash();
  return {
    outcome: { error, stateHash: hash, node, accepted: undefined, added: [], deleted: [] },
    created: undefined,
  };
}

function firstEncodingScheme(ann: Announcement): EncodingScheme | undefined {
  for (const e of ann.entities) if (e.type === 'EncodingScheme') return e.scheme;
  return undefined;
}

function firstVersion(ann: Announcement): number | undefined {
  for (const e of ann.entities) if (e.type === 'Version') return e.version;
  return undefined;
}
