/**
 * The route server's pure core in one object: the node table, the replication store and the
 * route engine, wired the way the original's `handleAnnounce` uses them. Time is always a
 * parameter; nothing here does I/O.
 */
import { isRsError } from '../../errors.ts';
import { parseAnnouncement } from '../../protocol/announcement.ts';
import type { Announcement } from '../../protocol/announcement-types.ts';
import { ReplicationStore } from '../../graph/replication-store.ts';
import { NodeTable, type AnnounceInput, type AnnounceOutcome } from '../../graph/apply-announcement.ts';
import type { GrRoute, RouteJson } from '../route-answer.ts';
import { RouteEngine } from './route-engine.ts';

export interface RouteServerCoreOptions {
  /** IPv6 of our own cjdns node, if already known (it can be set later) */
  readonly selfIp?: string;
  /** verify announcement signatures when parsing bytes (default true) */
  readonly verifySignature?: boolean;
  /**
   * the node table to use (fast mode: the subnode directory's, whose records the subnode
   * actors own); default a new one
   */
  readonly nodes?: NodeTable;
}

export class RouteServerCore {
  readonly nodes: NodeTable;
  readonly store = new ReplicationStore();
  readonly routes: RouteEngine;
  /** IPv6 of our own cjdns node (JS `selfNode.ipv6`); undefined until known */
  selfIp: string | undefined;
  private readonly verifySignature: boolean;

  constructor(opts: RouteServerCoreOptions = {}) {
    this.nodes = opts.nodes ?? new NodeTable();
    this.routes = new RouteEngine(this.nodes);
    this.selfIp = opts.selfIp;
    this.verifySignature = opts.verifySignature ?? true;
  }

  /**
   * JS `handleAnnounce(bytes, fromNode)`: parse (unless already parsed), apply to the table, then
   * apply the store deletions and the addition in that order.
   */
  handleAnnounce(
    input: Uint8Array | Announcement,
    opts: { fromNode: boolean; now: number; skipSelfCheck?: boolean },
  ): AnnounceOutcome {
    const parsed = input instanceof Uint8Array ? this.parse(input) : { ann: input };
    const selfIp = opts.skipSelfCheck ? undefined : this.selfIp;
    const outcome = this.nodes.handleAnnounce(parsed, { fromNode: opts.fromNode, now: opts.now, selfIp });
    for (const h of outcome.deleted) this.store.delete(h);
    if (outcome.accepted) this.store.add(outcome.accepted.hash, outcome.accepted.binary);
    return outcome;
  }

  /** Node expiry (docs/protocol.md §4.7), store included. Returns the deleted hashes. */
  expire(now: number): Uint8Array[] {
    const deleted = this.nodes.expire(now);
    for (const h of deleted) this.store.delete(h);
    return deleted;
  }

  getRoute(srcIp: string, dstIp: string, now: number): RouteJson | null {
    return this.routes.getRoute(srcIp, dstIp, now);
  }

  getRouteForGr(srcIp: string, dstIp: string, now: number): GrRoute | null {
    return this.routes.getRouteForGr(srcIp, dstIp, now);
  }

  /** Parse (and verify, unless disabled) on this thread: `{ann}` or `{parseError}`. */
  parse(bytes: Uint8Array): AnnounceInput {
    try {
      return { ann: parseAnnouncement(bytes, { verifySignature: this.verifySignature }) };
    } catch (e) {
      if (isRsError(e)) return { parseError: e };
      throw e;
    }
  }
}
