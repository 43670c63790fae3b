/**
 * The route server of one process: the pure core (node table, replication store, routes) wired
 * to a clock, our identity, metrics and listeners. Every way in (cjdns link, HTTP subnode API,
 * replication, cluster bus) calls this facade.
 */
import { RouteServerCore } from '../graph/core.ts';
import type { AnnounceOutcome } from '../graph/node-table.ts';
import type { GrRoute, RouteJson } from '../graph/route-engine.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import type { BDict } from '../protocol/bencode.ts';
import { bytesToHex } from '../protocol/hex.ts';
import type { Clock } from './clock.ts';
import { HttpViews, ipParam } from './http-views.ts';
import type { SelfIdentity } from './identity.ts';
import { ServerMetrics } from './metrics.ts';
import type { Sender } from './sender.ts';
import { handleSubnodeQuery, type SubnodeHandlerDeps, type SubnodeResult } from './subnode-handler.ts';

export type AnnouncementSource = 'node' | 'gossip';

/** Told about every change of the replication store (replication peers, the cluster bus). */
export interface StoreListener {
  accepted?(ann: Announcement, source: AnnouncementSource, outcome: AnnounceOutcome): void;
  deleted?(hash: Uint8Array): void;
}

export interface RouteServerOptions {
  self: SelfIdentity;
  clock: Clock;
  log?: Logger;
  metrics?: ServerMetrics;
  /** verify signatures when parsing (default true; false only for pre-verified input) */
  verifySignature?: boolean;
}

export class RouteServer {
  readonly core: RouteServerCore;
  readonly views: HttpViews;
  readonly metrics: ServerMetrics;
  readonly clock: Clock;
  private self: SelfIdentity;
  private readonly log: Logger;
  private readonly listeners = new Set<StoreListener>();
  private debugNode: string | undefined;
  private readonly subnodeDeps: SubnodeHandlerDeps;

  constructor(opts: RouteServerOptions) {
    this.self = opts.self;
    this.clock = opts.clock;
    this.log = opts.log ?? silentLogger();
    this.core = new RouteServerCore({ selfIp: opts.self.ipv6, verifySignature: opts.verifySignature ?? true });
    this.metrics =
      opts.metrics ??
      new ServerMetrics({ nodes: () => this.core.nodes.size, links: () => this.linkCount(), storeSize: () => this.core.store.size });
    this.views = new HttpViews(this.core.nodes, this.core.store, (s, d) => this.getRoute(s, d));
    this.subnodeDeps = {
      now: () => this.clock.now(),
      selfVersion: () => this.self.version,
      announce: (bytes) => this.submitAnnouncement(bytes, 'node'),
      routeForGr: (s, d) => this.routeForGr(s, d),
      stateHashOf: (ip) => this.core.nodes.get(ip)?.stateHash,
    };
  }

  get identity(): SelfIdentity {
    return this.self;
  }

  /** Adopt a new identity (e.g. the one of the cjdns node we attached to). */
  setIdentity(self: SelfIdentity): void {
    this.self = self;
    this.core.selfIp = self.ipv6;
  }

  addListener(l: StoreListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * JS `handleAnnounce(bytes, fromNode)`: `node` = from the announcing node, `gossip` =
   * replication. Async: announcements of one node are applied strictly in order, and callers
   * must not assume the outcome is ready synchronously.
   */
  async submitAnnouncement(input: Uint8Array | Announcement, source: AnnouncementSource): Promise<AnnounceOutcome> {
    return this.handleAnnounce(input, source);
  }

  /** Synchronous apply on the calling thread (the in-order core the pipeline ends in). */
  handleAnnounce(input: Uint8Array | Announcement, source: AnnouncementSource): AnnounceOutcome {
    const outcome = this.core.handleAnnounce(input, { fromNode: source === 'node', now: this.clock.now() });
    this.metrics.announcements.inc({ source, result: outcome.error });
    if (this.debugNode !== undefined && outcome.node?.ipv6 === this.debugNode) {
      this.log.info({ event: 'snode:ann:debug', node: this.debugNode, source, error: outcome.error, stateHash: bytesToHex(outcome.stateHash) }, 'debug node announcement');
    }
    for (const h of outcome.deleted) for (const l of this.listeners) l.deleted?.(h);
    if (outcome.accepted) for (const l of this.listeners) l.accepted?.(outcome.accepted, source, outcome);
    return outcome;
  }

  async handleSubnodeQuery(dict: BDict, sender: Sender): Promise<BDict | null> {
    return (await this.handleSubnodeQueryResult(dict, sender)).reply;
  }

  /** Like handleSubnodeQuery, with the query kind (for transports that count or log it). */
  async handleSubnodeQueryResult(dict: BDict, sender: Sender): Promise<SubnodeResult> {
    const r = await handleSubnodeQuery(this.subnodeDeps, dict, sender);
    this.metrics.queries.inc({ type: r.kind });
    return r;
  }

  getRoute(srcIp: string, dstIp: string): RouteJson | null {
    const r = this.core.getRoute(srcIp, dstIp, this.clock.now());
    this.metrics.routeLookups.inc({ result: r ? 'found' : 'none' });
    return r;
  }

  routeForGr(srcIp: string, dstIp: string): GrRoute | null {
    const before = this.core.routes.cacheSize;
    const r = this.core.getRouteForGr(srcIp, dstIp, this.clock.now());
    this.metrics.routeLookups.inc({ result: r ? 'found' : 'none' });
    this.metrics.routeCache.inc({ result: this.core.routes.cacheSize === before ? 'hit' : 'miss' });
    return r;
  }

  /** Node expiry (README 4.7); call every TABLE_CLEAN_CYCLE_MS. */
  expire(): number {
    const deleted = this.core.expire(this.clock.now());
    for (const h of deleted) for (const l of this.listeners) l.deleted?.(h);
    return deleted.length;
  }

  /** `/debugnode/<ip>`: log every announcement of that node. Returns the normalised IP. */
  setDebugNode(ipText: string): string {
    this.debugNode = ipParam(ipText, 'ip');
    return this.debugNode;
  }

  linkCount(): number {
    let n = 0;
    for (const rec of this.core.nodes) for (const links of rec.inwardLinksByIp.values()) n += links.length;
    return n;
  }

  close(): void {
    this.metrics.close();
  }
}
