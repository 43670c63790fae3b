/**
 * Composition root of one route-server process: identity, route server, HTTP, timers, and
 * graceful shutdown. `snode serve` and the integration tests start it.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Config } from './config.ts';
import { TABLE_CLEAN_CYCLE_MS } from './graph/constants.ts';
import { RsError } from './errors.ts';
import type { Logger } from './log.ts';
import { ActorSystem } from './actors/actor-system.ts';
import { hexToBytes } from './protocol/hex.ts';
import { signatureBackend } from './protocol/signature.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { applyV8Tuning } from './lib/v8-tuning.ts';
import type { PeerInfo } from './replication/peer-info.ts';
import {
  identityFromPrivateKey,
  identityFromPublicKey,
  loadOrCreateIdentity,
  type SelfIdentity,
} from './server/identity.ts';
import { errorOfOutcome } from './server/ingest.ts';
import { RouteServer } from './server/route-server.ts';
import { openServerStore } from './server/store-wiring.ts';
import type { AnnouncementStore } from './store/announcement-store.ts';
import type { LogMedium } from './store/log-medium.ts';
import { routingModeOf } from './routing/routing-mode.ts';
import { startCluster } from './cluster/start-cluster.ts';
import { routeServerSink } from './cluster/sink.ts';
import { createSubnodeForwarder } from './transport/subnode-forwarder.ts';
import type { BDict } from './protocol/bencode.ts';
import type { Sender } from './server/sender.ts';
import { subnodeKindOf, type SubnodeResult } from './server/subnode-handler.ts';
import { ReplicationService } from './replication/replication-service.ts';
import { openCjdnsLink, type CjdnsLink } from './transport/cjdns-link.ts';
import { createHttpServer, type Readiness } from './transport/http-server.ts';
import { UiHttp } from './transport/ui-http.ts';
import { createAdminHttpServer } from './transport/admin-http-server.ts';
import { ClientAddress } from './transport/client-address.ts';
import { HeavyRequests } from './transport/heavy-requests.ts';
import { HTTP_HOST_AUTO, LOOPBACK_HOST, isLoopbackHost } from './transport/http-settings.ts';
import { closeServer, listen } from './transport/listen.ts';
import { TunListener } from './transport/tun-listener.ts';
import { startActivitySummary } from './server/activity-summary.ts';

export interface App {
  readonly server: RouteServer;
  readonly http: Server;
  /** the admin listener (`admin.enabled`), else undefined */
  readonly admin: Server | undefined;
  readonly identity: SelfIdentity;
  /** replication with other route servers (peers, /cjdnsnode_websocket) */
  readonly replication: ReplicationService;
  /** the link to the local cjdroute (`cjdns.enabled`), else undefined */
  readonly cjdns: CjdnsLink | undefined;
  /** the bound HTTP address (port resolved when 0 was asked for) */
  address(): { host: string; port: number };
  /** the bound admin address, undefined without the admin listener */
  adminAddress(): { host: string; port: number } | undefined;
  /** with `http.host: auto` and the cjdns link: the cjdns address also listened on, if any */
  tunAddress(): string | undefined;
  close(): Promise<void>;
}

export interface AppOptions {
  clock?: Clock;
  /** run node expiry on a timer (default true) */
  expiryTimer?: boolean;
  /** the announcement log's medium instead of the one `store` names (tests restart on it) */
  storeMedium?: LogMedium;
  /** period of the `snode:activity:summary` log line (default one minute) */
  activitySummaryMs?: number;
}

/**
 * Our identity before any cjdns link: `identity.privateKey`, else `identity.publicKey` (a cjdns
 * node's key, when we do not hold its private key), else the identity file (created once).
 * Both keys given must name the same node.
 */
export function resolveIdentity(config: Readonly<Config>, log: Logger): SelfIdentity {
  const { privateKey, publicKey, version } = config.identity;
  if (privateKey || publicKey) {
    let identity: SelfIdentity;
    try {
      identity = privateKey
        ? identityFromPrivateKey(hexToBytes(privateKey.toLowerCase()), version)
        : identityFromPublicKey(publicKey!, version);
    } catch (e) {
      throw new RsError(
        'RS_ERR_CONFIG_INVALID',
        `identity.${privateKey ? 'privateKey' : 'publicKey'}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    if (publicKey && identity.key !== publicKey) {
      throw new RsError(
        'RS_ERR_CONFIG_INVALID',
        `identity.privateKey gives ${identity.key}, not identity.publicKey ${publicKey}`,
      );
    }
    return identity;
  }
  const { identity, created } = loadOrCreateIdentity(config.identity.file, version);
  log.info(
    {
      event: created ? 'identity:file:created' : 'identity:file:loaded',
      file: config.identity.file,
      key: identity.key,
      ipv6: identity.ipv6,
    },
    created ? 'generated a new route-server identity' : 'loaded the route-server identity',
  );
  return identity;
}

/** How often the extra verification workers of an initial sync check whether it settled. */
const SYNC_WORKERS_CHECK_MS = 200;

export async function startApp(
  config: Readonly<Config>,
  log: Logger,
  opts: AppOptions = {},
): Promise<App> {
  applyV8Tuning(); // before anything allocates per announcement (lib/v8-tuning.ts)
  const identity = resolveIdentity(config, log);
  // routing.mode: `fast` (default: subnode actors, verify workers, double-buffered trees) or
  // `reference` (the original's timing; the route-server scenario tests use it)
  const clock = opts.clock ?? systemClock;
  // One actor system for the process (docs/architecture-notes.md "Actors"): the subnode actors,
  // tree replicas, replication peers and dialers, the cluster actor. An actor whose restart
  // budget is spent escalates to the system's root, which stops it and says so here.
  const system = new ActorSystem(
    undefined,
    () => clock.now(),
    (actor, err) =>
      log.error(
        { event: 'actors:escalated', actor, err },
        'an actor gave up after crashing too often; stopped',
      ),
  );
  const routing = routingModeOf(config.routing);
  const server = new RouteServer({
    self: identity,
    clock,
    log,
    routing: routing.mode === 'fast' ? { ...routing, system } : routing,
    seeder: config.seeder,
  });
  // an initial sync will pull from the configured peers before the server is ready: verify on
  // every core meanwhile (routing.syncVerifyWorkers); the workers start now, beside the rest of
  // the start-up, and the pool shrinks once the sync settled (below)
  if (config.peers.length > 0) server.routing?.setInitialSync(true);
  // A single process reloads its announcement log before any way in opens, so each node's next
  // announcement finds the state it was told (docs/store.md); a cluster keeps it in Redis.
  let store: AnnouncementStore | undefined;
  try {
    store = await openServerStore(server, {
      settings: config.store,
      clustered:
        config.cluster.redisUrl !== undefined || config.cluster.forwardSubnodeUrl !== undefined,
      log,
      registry: server.metrics.registry,
      medium: opts.storeMedium,
    });
  } catch (e) {
    await server.close();
    system.shutdown();
    throw e;
  }
  let listening = false;
  // The cluster bus: Redis when cluster.redisUrl is set, else the embedded in-memory bus (one
  // process). A node's own announcement is acknowledged only once it is durable on the bus, and
  // applied only once this process caught up with that node (docs/cluster.md, "The guarantee").
  const cluster = await startCluster(
    config,
    routeServerSink(server),
    log,
    server.metrics.registry,
    { system },
  );
  // every series on /metrics names this process as the cluster bus does (docs/metrics.md)
  server.metrics.setProcessName(cluster.actor.origin);
  // Only a bus other processes read gets our announcements (the ingest funnel's cluster hooks):
  // the embedded bus of a single process has no reader, so nothing is published or encoded.
  if (cluster.shared) {
    server.setClusterHooks({
      beforeNodeAnnouncement: (nodeIp) => cluster.actor.catchUpBeforeLocalApply(nodeIp),
      // not durable (Redis away or refusing writes) → RS_ERR_CLUSTER_NOT_DURABLE: no acknowledgement
      afterNodeAccepted: async (bytes, nodeIp, delta) => {
        await cluster.actor.publishDurable(bytes, nodeIp, delta);
      },
    });
  }
  const replication = new ReplicationService({
    host: {
      store: server.store,
      // only the error is kept (a waiting promise holding the whole outcome promotes it)
      submitGossip: (bytes) => server.submitAnnouncement(bytes, 'gossip', errorOfOutcome),
      onAccepted: (accepted) => server.addListener({ accepted: (ann) => accepted(ann.hash) }),
      registry: server.metrics.registry,
    },
    settings: config.replication,
    peers: config.peers,
    log,
    clock,
    system,
  });
  const peerInfo = (): PeerInfo => replication.peerInfo();
  let cjdns: ReturnType<typeof openCjdnsLink> | undefined;
  const readiness = (): Readiness => {
    const checks: Readiness['checks'] = { http: { ok: listening }, cluster: cluster.readiness() };
    if (store) checks.store = store.readiness();
    // not ready until the first sync from every configured peer settled (or failed / timed out)
    for (const [name, check] of Object.entries(replication.readiness().checks))
      checks[name] = check;
    if (config.cjdns.enabled) {
      // not ready until attached: without the link no cjdns node can reach us
      const state = cjdns?.link.state ?? 'detached';
      checks.cjdns = { ok: state === 'attached', detail: state };
    }
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };

  // the live network map at /ui/ (docs/ui.md)
  const ui = new UiHttp({
    nodes: server.nodes,
    route: (src, dst) => server.getRoute(src, dst),
    now: () => server.clock.now(),
    log,
    status: {
      counters: server.metrics,
      now: () => server.clock.now(),
      self: () => ({
        key: server.identity.key,
        ipv6: server.identity.ipv6,
        version: server.identity.version,
      }),
      readiness,
      nodes: () => server.nodes.size,
      links: () => server.linkCount(),
      peerInfo,
      cjdns: () => (cjdns ? { ...cjdns.link.status() } : null),
      cluster: () => {
        const c = cluster.status();
        const self = {
          origin: c.origin,
          self: true,
          lastSeen: server.clock.now(),
          entries: c.published,
        };
        const others = c.processes.map((p) => ({
          origin: p.origin,
          self: false,
          lastSeen: p.lastAcceptedAt,
          entries: p.entries,
        }));
        return {
          bus: c.bus,
          connected: c.connected,
          ready: c.ready,
          backlog: c.backlog,
          lagMs: c.lagMs,
          processes: [self, ...others],
        };
      },
    },
  });

  const http = createHttpServer({
    server,
    metrics: server.metrics,
    log,
    maxBodyBytes: config.http.maxBodyBytes,
    requestTimeoutMs: config.http.requestTimeoutMs,
    readiness,
    peerInfo,
    ui,
    clientAddress: new ClientAddress(config.http.trustedProxies),
    heavy: new HeavyRequests(config.http.heavy, server.metrics.registry),
    onUpgrade: (req, socket, head, client) => replication.handleUpgrade(req, socket, head, client),
    // with the cjdns link on, `/` also shows its state (the original's keys come first, unchanged)
    rootExtras: () => (cjdns ? { cjdns: cjdns.link.status() } : {}),
  });
  // operator endpoints on their own listener (docs/security.md)
  const admin = config.admin.enabled
    ? createAdminHttpServer({
        server,
        metrics: server.metrics,
        log,
        requestTimeoutMs: config.http.requestTimeoutMs,
        ...(config.admin.token !== undefined ? { token: config.admin.token } : {}),
        readiness,
        status: () => {
          const self = server.identity; // the cjdns node's once the link attached
          return {
            self: { key: self.key, ipv6: self.ipv6, version: self.version },
            nodes: server.nodes.size,
            ...(cjdns ? { cjdns: cjdns.link.status() } : {}),
            cluster: cluster.status(),
            ...(store ? { store: store.status() } : {}),
          };
        },
      })
    : undefined;

  const timers: NodeJS.Timeout[] = [];
  // one info line a minute: announcements by result, queries, lookups, nodes, links (docs/logs.md)
  const stopSummary = await startActivitySummary(
    {
      metrics: server.metrics,
      nodes: () => server.nodes.size,
      links: () => server.linkCount(),
      now: () => Date.now(),
    },
    log,
    opts.activitySummaryMs,
  );
  if (opts.expiryTimer ?? true) {
    const t = setInterval(() => {
      const n = server.expire();
      if (n > 0)
        log.info({ event: 'snode:table:expired', announcements: n }, 'expired silent nodes');
    }, TABLE_CLEAN_CYCLE_MS);
    t.unref();
    timers.push(t);
  }

  // An edge process (cluster.forwardSubnodeUrl) hands the frames' queries to the pool behind
  // HAProxy instead of answering them itself.
  const forwarder = config.cluster.forwardSubnodeUrl
    ? createSubnodeForwarder({ url: config.cluster.forwardSubnodeUrl, log })
    : undefined;
  const linkServer = forwarder
    ? {
        setIdentity: (self: SelfIdentity) => server.setIdentity(self),
        handleSubnodeQueryResult: async (dict: BDict, sender: Sender): Promise<SubnodeResult> => ({
          kind: subnodeKindOf(dict),
          reply: await forwarder.forward(dict, sender),
        }),
      }
    : server;
  // identity.publicKey names the cjdns node we answer for (so does the pool behind an edge):
  // the link refuses a cjdroute with another key rather than adopt it (the pool would answer
  // every announcement wrong_snode)
  if (config.cjdns.enabled) {
    cjdns = openCjdnsLink(config.cjdns, {
      server: linkServer,
      log,
      registry: server.metrics.registry,
      expectedKey: config.identity.publicKey,
    });
  }

  // http.host `auto`: loopback, plus the cjdns node's own address while the link is attached
  const auto = config.http.host === HTTP_HOST_AUTO;
  let tun: TunListener | undefined;
  try {
    await listen(http, auto ? LOOPBACK_HOST : config.http.host, config.http.port);
    if (admin) await listen(admin, config.admin.host, config.admin.port);
  } catch (e) {
    if (http.listening) await closeServer(http);
    stopSummary();
    for (const t of timers) clearInterval(t);
    await cjdns?.close();
    await replication.close();
    await cluster.close();
    forwarder?.close();
    await server.close();
    await store?.close();
    system.shutdown();
    throw e;
  }
  listening = true;
  replication.start();
  // once the initial sync settled, the main thread gets its core back for queries
  // (routing.syncVerifyWorkers, docs/performance.md)
  if (server.routing && config.peers.length > 0) {
    const pulling = setInterval(() => {
      if (!replication.readiness().ok) return;
      server.routing?.setInitialSync(false);
      clearInterval(pulling);
    }, SYNC_WORKERS_CHECK_MS);
    pulling.unref();
    timers.push(pulling);
  }
  const addr = http.address() as AddressInfo;
  log.info(
    {
      event: 'http:server:listening',
      host: addr.address,
      port: addr.port,
      key: identity.key,
      ipv6: identity.ipv6,
      signatures: signatureBackend,
    },
    'route server listening',
  );
  if (signatureBackend === 'openssl')
    log.warn(
      { event: 'signatures:openssl' },
      "sodium-native's addon did not load: signatures are verified with OpenSSL (the same verdicts, ~0.6× the rate per core)",
    );
  if (auto && cjdns) {
    const t = new TunListener(http, addr.port, log);
    tun = t;
    cjdns.link.addListener((e) => {
      if (e.type === 'attached') t.follow(e.identity.ipv6);
    });
  }
  const adminAddr = admin ? (admin.address() as AddressInfo) : undefined;
  if (adminAddr) {
    log.info(
      {
        event: 'http:admin:listening',
        host: adminAddr.address,
        port: adminAddr.port,
        token: config.admin.token !== undefined,
      },
      'admin listener',
    );
    if (!isLoopbackHost(adminAddr.address) && config.admin.token === undefined) {
      log.warn(
        { event: 'http:admin:exposed', host: adminAddr.address, port: adminAddr.port },
        'the admin listener is reachable beyond loopback without admin.token: firewall it or set a token (docs/security.md)',
      );
    }
  }

  let closing: Promise<void> | undefined;
  return {
    server,
    http,
    admin,
    identity,
    replication,
    cjdns: cjdns?.link,
    address: () => ({ host: addr.address, port: addr.port }),
    adminAddress: () => (adminAddr ? { host: adminAddr.address, port: adminAddr.port } : undefined),
    tunAddress: () => tun?.address,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        listening = false;
        for (const t of timers) clearInterval(t);
        ui.close();
        stopSummary();
        void replication.close();
        const cjdnsClosed = cjdns ? cjdns.close() : Promise.resolve();
        forwarder?.close();
        void tun?.close();
        if (admin) void closeServer(admin);
        http.close(
          () =>
            void cjdnsClosed
              .then(() => cluster.close())
              .then(() => server.close())
              .then(() => store?.close())
              .then(() => system.shutdown())
              .then(() => resolve()),
        );
        http.closeIdleConnections();
        setTimeout(() => http.closeAllConnections(), 5000).unref();
      })),
  };
}
