/**
 * The route server of one process: the node state (node table, replication store), the routing
 * engine, the ingest funnel every announcement goes through (ingest.ts), our identity, metrics
 * and the subnode query handler. Every way in (cjdns link, HTTP subnode API, replication,
 * cluster bus) calls this facade.
 */
import { ReplicationStore } from '../graph/replication-store.ts';
import type { AnnounceOutcome } from '../graph/apply-announcement.ts';
import type { NodeDirectory } from '../graph/node-directory.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import type { BDict } from '../protocol/bencode.ts';
import type { PcOutcome } from '../protocol/seeder-message.ts';
import type { Clock } from '../lib/clock.ts';
import { ReferenceEngine } from '../routing/reference/reference-engine.ts';
import type { GrRoute, RouteJson } from '../routing/route-answer.ts';
import type { EngineDeps, RoutingEngine } from '../routing/routing-engine.ts';
import { registerRoutingMetrics } from '../routing/routing-metrics.ts';
import type { RoutingMode } from '../routing/routing-mode.ts';
import { defaultFastRoutingOptions, RoutingSupervisor } from '../routing/routing-supervisor.ts';
import { Seeder } from '../seeder/seeder.ts';
import { seederGraphOf } from '../seeder/seeder-graph.ts';
import { seederSchema, type SeederSettings } from '../seeder/seeder-settings.ts';
import { HttpViews, ipParam } from './http-views.ts';
import type { SelfIdentity } from './identity.ts';
import {
  Ingest,
  type ClusterApplyResult,
  type ClusterHooks,
  type StoreListener,
} from './ingest.ts';
import { ServerMetrics } from './metrics.ts';
import type { Sender } from './sender.ts';
import {
  handleSubnodeQuery,
  type SubnodeHandlerDeps,
  type SubnodeResult,
} from './subnode-handler.ts';

export type { AnnouncementSource } from '../graph/announcement-source.ts';
export type { ClusterHooks, StoreListener } from './ingest.ts';
import type { AnnouncementSource } from '../graph/announcement-source.ts';

export interface RouteServerOptions {
  self: SelfIdentity;
  clock: Clock;
  log?: Logger;
  metrics?: ServerMetrics;
  /**
   * Routing engine (default `fast`, with the configuration's defaults — what `snode serve` runs):
   * - `fast`: subnode actors, verification in worker threads, double-buffered tree replicas;
   *   each answer equals the reference's on the active snapshot (docs/architecture-notes.md).
   * - `reference`: the original's timing — one node table applied synchronously, routes from
   *   a graph rebuilt lazily by the first query after 3 s (RouteEngine). `snode replay` and the
   *   route-server scenarios need it (their `gr` replies depend on that cadence).
   */
  routing?: RoutingMode;
  /** the peering seeder's settings (docs/seeder.md; default: the `seeder` section's defaults) */
  seeder?: SeederSettings;
}

export class RouteServer {
  /** `nodesByIp`, in the original's insertion order */
  readonly nodes: NodeDirectory;
  /** the replication store: every announcement we offer to peers */
  readonly store = new ReplicationStore();
  /** the engine applying announcements and answering routes */
  readonly engine: RoutingEngine;
  /** the fast engine (subnode actors, tree replicas, verify pool), when it is the one running */
  readonly routing: RoutingSupervisor | undefined;
  /** the reference engine, when it is the one running */
  readonly reference: ReferenceEngine | undefined;
  readonly ingest: Ingest;
  readonly views: HttpViews;
  readonly metrics: ServerMetrics;
  readonly clock: Clock;
  /** the peering seeder (`sq: pc`, `/seeder-peers`, `/seeder-testres`), reading peer counts from the node table */
  readonly seeder: Seeder;
  private self: SelfIdentity;
  private readonly log: Logger;
  private readonly subnodeDeps: SubnodeHandlerDeps;

  constructor(opts: RouteServerOptions) {
    this.self = opts.self;
    this.clock = opts.clock;
    this.log = opts.log ?? silentLogger();
    this.metrics =
      opts.metrics ??
      new ServerMetrics({
        nodes: () => this.nodes.size,
        links: () => this.linkCount(),
        storeSize: () => this.store.size,
        seederEntries: () => this.seeder.size,
      });
    const now = (): number => this.clock.now();
    this.ingest = new Ingest({ store: this.store, metrics: this.metrics, log: this.log, now });
    const deps: EngineDeps = {
      now,
      selfIp: () => this.self.ipv6,
      recorder: this.ingest,
      log: this.log,
    };
    const routing: RoutingMode = opts.routing ?? { mode: 'fast' };
    if (routing.mode === 'fast') {
      this.routing = new RoutingSupervisor(
        { ...deps, system: routing.system, anns: this.store.arena },
        routing.options ?? defaultFastRoutingOptions(),
      );
      this.engine = this.routing;
      registerRoutingMetrics(this.metrics.registry, this.routing);
    } else {
      this.reference = new ReferenceEngine(deps, routing.policy);
      this.engine = this.reference;
    }
    this.ingest.feed(this.engine);
    this.nodes = this.engine.nodes;
    this.seeder = new Seeder({
      settings: opts.seeder ?? seederSchema.parse(undefined),
      graph: seederGraphOf(this.nodes),
    });
    this.views = new HttpViews(this.nodes, this.store, (s, d) => this.getRoute(s, d));
    this.subnodeDeps = {
      now,
      selfVersion: () => this.self.version,
      announce: (bytes, sender) => this.ingest.submit(bytes, 'node', sender),
      routeForGr: (s, d) => this.routeForGr(s, d),
      stateHashOf: (ip) => this.nodes.get(ip)?.stateHash,
      postCredentials: (ip, record) => this.postCredentials(ip, record),
    };
  }

  get identity(): SelfIdentity {
    return this.self;
  }

  /** Adopt a new identity (e.g. the one of the cjdns node we attached to). */
  setIdentity(self: SelfIdentity): void {
    this.self = self;
  }

  /** Install the cluster bus's hooks (app.ts; only when another process reads the bus). */
  setClusterHooks(hooks: ClusterHooks | undefined): void {
    this.ingest.setClusterHooks(hooks);
  }

  /** The announcement store's commit (docs/store.md): every `ann` reply waits for it. */
  setDurability(durable: (() => Promise<unknown>) | undefined): void {
    this.ingest.setDurability(durable);
  }

  addListener(l: StoreListener): () => void {
    return this.ingest.addListener(l);
  }

  /**
   * Start-up restore of one node from the announcement store (docs/store.md): its stored
   * announcements, oldest first, in the cluster apply mode. Resolves with each one's reply error.
   */
  restoreNode(announcements: readonly Uint8Array[]): Promise<string[]> {
    return this.ingest.restore(announcements);
  }

  /**
   * Hold the route trees' updates for a bulk load (the store's reload): the fast engine's
   * replicas build once when released (TreeReplicas#hold); the reference engine builds lazily
   * anyway. Returns the release.
   */
  holdRouteUpdates(): () => void {
    return this.routing?.trees.hold() ?? (() => {});
  }

  /**
   * JS `handleAnnounce(bytes, fromNode)` through the ingest funnel: `node` = from the announcing
   * node, `gossip` = replication, `cluster` = another process of our cluster. Async:
   * announcements of one node are applied strictly in order.
   */
  submitAnnouncement(
    input: Uint8Array | Announcement,
    source: AnnouncementSource,
  ): Promise<AnnounceOutcome>;
  /** The same, keeping only what `pick` takes of the outcome (Ingest#submit). */
  submitAnnouncement<R>(
    input: Uint8Array | Announcement,
    source: AnnouncementSource,
    pick: (outcome: AnnounceOutcome) => R,
  ): Promise<R>;
  submitAnnouncement<R>(
    input: Uint8Array | Announcement,
    source: AnnouncementSource,
    pick?: (outcome: AnnounceOutcome) => R,
  ): Promise<AnnounceOutcome | R> {
    return pick
      ? this.ingest.submit(input, source, undefined, pick)
      : this.ingest.submit(input, source);
  }

  /** Another process's announcement with the record delta its origin computed (docs/cluster.md, "Deltas"). */
  applyClusterDelta(
    bytes: Uint8Array,
    delta: Uint8Array,
    nodeIp: string,
  ): ClusterApplyResult | Promise<ClusterApplyResult> {
    return this.ingest.applyClusterDelta(bytes, delta, nodeIp);
  }

  async handleSubnodeQuery(dict: BDict, sender: Sender): Promise<BDict | null> {
    return (await this.handleSubnodeQueryResult(dict, sender)).reply;
  }

  /** Like handleSubnodeQuery, with the query kind (for transports that count or log it). */
  async handleSubnodeQueryResult(dict: BDict, sender: Sender): Promise<SubnodeResult> {
    const r = await handleSubnodeQuery(this.subnodeDeps, dict, sender);
    this.metrics.queries.inc({ type: r.kind });
    // one debug line per ann and gr answered (docs/logs.md)
    if (r.answered)
      this.log.debug({ event: `snode:${r.kind}:answered`, ...r.answered }, `${r.kind} answered`);
    return r;
  }

  /** `sq: pc` from the node `senderIp` (docs/seeder.md). */
  postCredentials(senderIp: string, record: Uint8Array): PcOutcome {
    const outcome = this.seeder.post(senderIp, record, Math.floor(this.clock.now() / 1000));
    this.metrics.seederPosts.inc({ result: 'pr' in outcome ? 'ok' : 'err' });
    if ('err' in outcome)
      this.log.debug(
        { event: 'snode:seeder:refused', node: senderIp, err: outcome.err },
        'peering credentials refused',
      );
    return outcome;
  }

  getRoute(srcIp: string, dstIp: string): RouteJson | null {
    const done = this.metrics.pathLookupSeconds.startTimer();
    const r = this.engine.route(srcIp, dstIp);
    done();
    this.metrics.routeLookups.inc({ result: r ? 'found' : 'none' });
    return r;
  }

  routeForGr(srcIp: string, dstIp: string): GrRoute | null {
    const before = this.reference?.routes.cacheSize;
    const done = this.metrics.grLookupSeconds.startTimer();
    const r = this.engine.routeForGr(srcIp, dstIp);
    done();
    this.metrics.routeLookups.inc({ result: r ? 'found' : 'none' });
    // the reference's `dst|src` cache (the fast engine counts its tree cache itself)
    if (before !== undefined)
      this.metrics.routeCache.inc({
        result: this.reference!.routes.cacheSize === before ? 'hit' : 'miss',
      });
    return r;
  }

  /**
   * Node expiry (docs/protocol.md §4.7); call every TABLE_CLEAN_CYCLE_MS. Returns the number of deleted
   * announcements (fast mode: the number of expired nodes; each node's actor expires it in
   * order with its announcements).
   */
  expire(): number {
    return this.engine.expire(this.clock.now());
  }

  /** `/debugnode/<ip>`: log every announcement of that node. Returns the normalised IP. */
  setDebugNode(ipText: string): string {
    const ip = ipParam(ipText, 'ip');
    this.ingest.debugNode = ip;
    return ip;
  }

  linkCount(): number {
    return this.nodes.linkCount();
  }

  /**
   * Fast mode: resolves when the active route snapshot reflects every announcement accepted so
   * far and both tree replicas hold them (two swaps). Reference mode: at once.
   */
  async syncRoutes(): Promise<void> {
    await this.engine.sync();
  }

  /** Stop timers, workers and actors. */
  async close(): Promise<void> {
    await this.engine.close();
  }
}
