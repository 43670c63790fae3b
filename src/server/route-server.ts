/**
 * The route server of one process: the pure core (node table, replication store, routes) wired
 * to a clock, our identity, metrics and listeners. Every way in (cjdns link, HTTP subnode API,
 * replication, cluster bus) calls this facade.
 */
import type { RoutingMode } from '../routing/routing-mode.ts';
import { defaultFastRoutingOptions, RoutingSupervisor } from '../routing/routing-supervisor.ts';
import { RsError } from '../errors.ts';
import type { AnnouncementSource } from '../graph/announcement-source.ts';
import { RouteServerCore } from '../routing/reference/core.ts';
import { applyAnnouncement, type AnnounceInput, type AnnounceOutcome } from '../graph/apply-announcement.ts';
import type { GrRoute, RouteJson } from '../routing/route-answer.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { announcerIp, parseAnnouncement } from '../protocol/announcement.ts';
import type { Announcement } from '../protocol/announcement-types.ts';
import { zeroStateHash } from '../graph/state-hash.ts';
import type { BDict } from '../protocol/bencode.ts';
import { bytesToHex } from '../protocol/hex.ts';
import type { Clock } from '../lib/clock.ts';
import { HttpViews, ipParam } from './http-views.ts';
import type { SelfIdentity } from './identity.ts';
import { ServerMetrics } from './metrics.ts';
import { registerRoutingMetrics } from '../routing/routing-metrics.ts';
import type { Sender } from './sender.ts';
import { handleSubnodeQuery, type SubnodeHandlerDeps, type SubnodeResult } from './subnode-handler.ts';
import type { PcOutcome } from '../protocol/seeder-message.ts';
import { Seeder } from '../seeder/seeder.ts';
import { seederGraphOf } from '../seeder/seeder-graph.ts';
import { seederSchema, type SeederSettings } from '../seeder/seeder-settings.ts';

export type { AnnouncementSource } from '../graph/announcement-source.ts';

/** The cluster bus's hooks around a node's own announcements (docs/cluster.md). */
export interface ClusterHooks {
  /** failover: catch up on this node from the durable record before applying its announcement */
  beforeNodeAnnouncement(nodeIp: string): Promise<void>;
  /** make an accepted announcement durable for the cluster; the node is acknowledged after this */
  afterNodeAccepted(bytes: Uint8Array, nodeIp: string): Promise<void>;
}

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
  /**
   * Route engine (default `reference`):
   * - `reference`: the original's timing — one node table applied synchronously, routes from
   *   a graph rebuilt lazily by the first query after 3 s (RouteEngine). `snode replay` and the
   *   route-server scenarios need it (their `gr` replies depend on that cadence).
   * - `fast`: subnode actors, verification in worker threads, double-buffered tree replicas;
   *   each answer equals the reference's on the active snapshot (docs/architecture-notes.md).
   */
  routing?: RoutingMode;
  /** the peering seeder's settings (docs/seeder.md; default: the `seeder` section's defaults) */
  seeder?: SeederSettings;
}

function parseOrError(bytes: Uint8Array): Announcement | undefined {
  try {
    return parseAnnouncement(bytes, { verifySignature: false });
  } catch {
    return undefined;
  }
}

export class RouteServer {
  readonly core: RouteServerCore;
  readonly views: HttpViews;
  readonly metrics: ServerMetrics;
  readonly clock: Clock;
  /** the fast path's supervisor (subnode actors, tree replicas, verify pool); fast mode only */
  readonly routing: RoutingSupervisor | undefined;
  /** the peering seeder (`sq: pc`, `/seeder-peers`, `/seeder-testres`), reading peer counts from the node table */
  readonly seeder: Seeder;
  private self: SelfIdentity;
  private readonly log: Logger;
  private readonly listeners = new Set<StoreListener>();
  private debugNode: string | undefined;
  private readonly subnodeDeps: SubnodeHandlerDeps;
  private clusterHooks: ClusterHooks | undefined;

  constructor(opts: RouteServerOptions) {
    this.self = opts.self;
    this.clock = opts.clock;
    this.log = opts.log ?? silentLogger();
    const verifySignature = opts.verifySignature ?? true;
    if (opts.routing?.mode === 'fast') {
      const fast = opts.routing.options ?? defaultFastRoutingOptions();
      this.routing = new RoutingSupervisor(
        {
          now: () => this.clock.now(),
          system: opts.routing.system,
          log: (event, fields) => this.log.warn({ event, ...fields }, event),
          effects: {
            now: () => this.clock.now(),
            selfIp: () => this.core.selfIp,
            handled: (outcome, source) => this.afterAnnounce(outcome, source, true),
            expired: (_ip, deleted) => this.afterExpire(deleted),
            rebuilt: (ip, record) => this.log.warn({ event: 'snode:subnode:rebuilt', node: ip, announcements: record?.announcements.length ?? 0 }, 'subnode actor restarted; record rebuilt from the store'),
            storedAnnouncement: (hash) => this.core.store.get(hash),
            crashed: (ip, err, decision) => this.log.error({ event: 'snode:subnode:crashed', node: ip, err, decision }, 'subnode actor crashed'),
          },
        },
        fast.verifyPool && !verifySignature ? { ...fast, verifyPool: { ...fast.verifyPool, verifySignature } } : fast,
      );
      this.core = new RouteServerCore({ selfIp: opts.self.ipv6, verifySignature, nodes: this.routing.directory.table });
      this.routing.start();
    } else {
      this.routing = undefined;
      this.core = new RouteServerCore({ selfIp: opts.self.ipv6, verifySignature });
    }
    this.seeder = new Seeder({ settings: opts.seeder ?? seederSchema.parse(undefined), graph: seederGraphOf(this.core.nodes) });
    this.metrics =
      opts.metrics ??
      new ServerMetrics({
        nodes: () => this.core.nodes.size,
        links: () => this.linkCount(),
        storeSize: () => this.core.store.size,
        seederEntries: () => this.seeder.size,
      });
    if (this.routing) registerRoutingMetrics(this.metrics.registry, this.routing);
    this.views = new HttpViews(this.core.nodes, this.core.store, (s, d) => this.getRoute(s, d));
    this.subnodeDeps = {
      now: () => this.clock.now(),
      selfVersion: () => this.self.version,
      announce: (bytes) => this.announceFromNode(bytes),
      routeForGr: (s, d) => this.routeForGr(s, d),
      stateHashOf: (ip) => this.core.nodes.get(ip)?.stateHash,
      postCredentials: (ip, record) => this.postCredentials(ip, record),
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

  /** Install the cluster bus's hooks (app.ts). */
  setClusterHooks(hooks: ClusterHooks | undefined): void {
    this.clusterHooks = hooks;
  }

  /**
   * An `ann` query from the node itself: in a cluster, catch up on the node first (it may have
   * failed over from another process) and acknowledge only once the accepted announcement is
   * durable on the bus, so a process that dies loses nothing it acknowledged.
   */
  private async announceFromNode(bytes: Uint8Array): Promise<AnnounceOutcome> {
    const hooks = this.clusterHooks;
    if (!hooks) return this.submitAnnouncement(bytes, 'node');
    const nodeIp = announcerIp(bytes);
    if (nodeIp !== undefined) await hooks.beforeNodeAnnouncement(nodeIp);
    const outcome = await this.submitAnnouncement(bytes, 'node');
    if (outcome.accepted) await hooks.afterNodeAccepted(outcome.accepted.binary, outcome.accepted.nodeIp);
    return outcome;
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
    if (source === 'cluster') {
      // the origin process verified it and the bus is internal to the cluster: parse once,
      // unverified (bytes that do not parse go on and get the ordinary parse failure)
      if (input instanceof Uint8Array) input = parseOrError(input) ?? input;
      const known = input instanceof Uint8Array ? undefined : this.alreadyStored(input);
      if (known) return known;
    }
    const routing = this.routing;
    if (!routing) return this.handleAnnounce(input, source);
    // fast: parse + verify in the pool (ordered per signing key), then the node's actor
    let parsed: AnnounceInput;
    if (!(input instanceof Uint8Array)) parsed = { ann: input };
    else if (routing.pool) parsed = await routing.pool.parse(input);
    else parsed = this.core.parse(input);
    if ('parseError' in parsed) {
      // the node is unknown after a parse failure: no actor is involved (docs/protocol.md §4.2 step 7)
      const { outcome } = applyAnnouncement(undefined, parsed, { fromNode: source === 'node', now: this.clock.now(), selfIp: this.core.selfIp });
      this.afterAnnounce(outcome, source, false);
      return outcome;
    }
    return routing.directory.apply(parsed.ann, source);
  }

  /**
   * Synchronous apply on the calling thread (reference mode; in fast mode the node's subnode
   * actor applies, so use `submitAnnouncement`).
   */
  handleAnnounce(input: Uint8Array | Announcement, source: AnnouncementSource): AnnounceOutcome {
    if (this.routing) throw new RsError('RS_ERR_INTERNAL', 'handleAnnounce is synchronous: use submitAnnouncement in fast routing mode');
    const outcome = this.core.handleAnnounce(input, {
      fromNode: source === 'node',
      now: this.clock.now(),
      skipSelfCheck: source === 'cluster',
    });
    this.afterAnnounce(outcome, source, false);
    return outcome;
  }

  /** `cluster` de-dup: an announcement already in the store changes nothing. */
  private alreadyStored(ann: Announcement): AnnounceOutcome | undefined {
    if (!this.core.store.has(ann.hash)) return undefined;
    const node = this.core.nodes.get(ann.nodeIp);
    return { error: 'none', stateHash: node?.stateHash ?? zeroStateHash(), node, accepted: undefined, added: [], deleted: [] };
  }

  /** Metrics, debug log, listeners (and in fast mode the store, which core.handleAnnounce updates otherwise). */
  private afterAnnounce(outcome: AnnounceOutcome, source: AnnouncementSource, applyStore: boolean): void {
    if (applyStore) {
      for (const h of outcome.deleted) this.core.store.delete(h);
      if (outcome.accepted) this.core.store.add(outcome.accepted.hash, outcome.accepted.binary);
    }
    this.metrics.announcements.inc({ source, result: outcome.error });
    if (this.debugNode !== undefined && outcome.node?.ipv6 === this.debugNode) {
      this.log.info({ event: 'snode:ann:debug', node: this.debugNode, source, error: outcome.error, stateHash: bytesToHex(outcome.stateHash) }, 'debug node announcement');
    }
    for (const h of outcome.deleted) for (const l of this.listeners) l.deleted?.(h);
    if (outcome.accepted) for (const l of this.listeners) l.accepted?.(outcome.accepted, source, outcome);
  }

  private afterExpire(deleted: readonly Uint8Array[]): void {
    for (const h of deleted) this.core.store.delete(h);
    for (const h of deleted) for (const l of this.listeners) l.deleted?.(h);
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

  /** `sq: pc` from the node `senderIp` (docs/seeder.md). */
  postCredentials(senderIp: string, record: Uint8Array): PcOutcome {
    const outcome = this.seeder.post(senderIp, record, Math.floor(this.clock.now() / 1000));
    this.metrics.seederPosts.inc({ result: 'pr' in outcome ? 'ok' : 'err' });
    if ('err' in outcome) this.log.debug({ event: 'snode:seeder:refused', node: senderIp, err: outcome.err }, 'peering credentials refused');
    return outcome;
  }

  getRoute(srcIp: string, dstIp: string): RouteJson | null {
    const r = this.routing ? this.routing.trees.active.route(srcIp, dstIp) : this.core.getRoute(srcIp, dstIp, this.clock.now());
    this.metrics.routeLookups.inc({ result: r ? 'found' : 'none' });
    return r;
  }

  routeForGr(srcIp: string, dstIp: string): GrRoute | null {
    if (this.routing) {
      // the active snapshot: never waits for an update, a rebuild or a swap
      const r = this.routing.trees.active.routeForGr(srcIp, dstIp);
      this.metrics.routeLookups.inc({ result: r ? 'found' : 'none' });
      return r;
    }
    const before = this.core.routes.cacheSize;
    const r = this.core.getRouteForGr(srcIp, dstIp, this.clock.now());
    this.metrics.routeLookups.inc({ result: r ? 'found' : 'none' });
    this.metrics.routeCache.inc({ result: this.core.routes.cacheSize === before ? 'hit' : 'miss' });
    return r;
  }

  /**
   * Node expiry (docs/protocol.md §4.7); call every TABLE_CLEAN_CYCLE_MS. Returns the number of deleted
   * announcements (fast mode: the number of expired nodes; each node's actor expires it in
   * order with its announcements).
   */
  expire(): number {
    if (this.routing) return this.routing.directory.expire(this.clock.now());
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

  /**
   * Fast mode: resolves when the active route snapshot reflects every announcement accepted so
   * far and both tree replicas hold them (two swaps). Reference mode: at once.
   */
  async syncRoutes(): Promise<void> {
    await this.routing?.trees.sync();
  }

  /** Stop timers, workers and actors. */
  async close(): Promise<void> {
    this.metrics.close();
    await this.routing?.close();
  }
}
