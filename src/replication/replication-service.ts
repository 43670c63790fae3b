/**
 * Replication between route servers (docs/protocol.md §7): the websocket endpoint for inbound peers, one
 * dialer per configured URL, the peer actors, the fetch scheduler they share, the initial-sync
 * trackers behind readiness, and the route-server listener that advertises every newly accepted
 * announcement to inbound peers. The composition root (app.ts) owns one instance.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { ActorSystem } from '../actors/actor-system.ts';
import { PeerDialer, type DialerStats } from './peer-dialer.ts';
import {
  PeerActor,
  type PeerClosed,
  type PeerRole,
  type PeerStats,
  type PeerStore,
} from './peer-actor.ts';
import type { Logger } from '../log.ts';
import type { Clock } from '../lib/clock.ts';
import type { Registry } from 'prom-client';
import { PeerWsServer } from './peer-ws-server.ts';
import { AllowList } from './allow-list.ts';
import { addressKey } from '../lib/address-slots.ts';
import { FetchScheduler, wantKeyOf } from './fetch-scheduler.ts';
import { InitialSync, type InitialSyncSnapshot } from './initial-sync.ts';
import type { PeerInfo, PeerInfoEntry } from './peer-info.ts';
import { ReplicationMetrics } from './replication-metrics.ts';
import type { ReplicationSettings } from './replication-settings.ts';

/** What replication needs of the route server of its process (app.ts wires it). */
export interface ReplicationHost {
  /** the replication store: what peers are offered and served */
  readonly store: PeerStore & { sizes(): { announcements: number; annByHashLen: number } };
  /** the gossip way in; resolves to the reply error (`none`: accepted, or nothing to change) */
  submitGossip(bytes: Uint8Array): Promise<string>;
  /** calls `accepted` with the hash of every announcement the store took in, whatever way it
   *  came in; returns the unsubscribe function */
  onAccepted(accepted: (hash: Uint8Array) => void): () => void;
  /** where the snode_peer_* metrics go */
  readonly registry: Registry;
}

export interface ReplicationServiceDeps {
  readonly host: ReplicationHost;
  readonly settings: ReplicationSettings;
  /** URLs to pull from (config `peers`) */
  readonly peers: readonly string[];
  readonly log: Logger;
  /** sequence numbers and peer timers (the app's clock) */
  readonly clock: Clock;
  readonly random?: () => number;
  /** an actor system to spawn peers in (default: an own one, shut down by close) */
  readonly system?: ActorSystem;
}

export interface ReplicationReadiness {
  readonly ok: boolean;
  /** one check per configured peer URL */
  readonly checks: Record<string, { ok: boolean; detail: string }>;
}

export interface ReplicationStats {
  readonly peers: readonly PeerStats[];
  readonly scheduler: {
    readonly tracked: number;
    readonly inflight: number;
    readonly discarded: number;
    readonly reassigned: number;
  };
  readonly dialers: readonly DialerStats[];
  readonly syncs: readonly InitialSyncSnapshot[];
}

export class ReplicationService {
  readonly metrics: ReplicationMetrics;
  readonly scheduler: FetchScheduler;
  private readonly system: ActorSystem;
  private readonly ownsSystem: boolean;
  private readonly handles = new Map<number, PeerActor>();
  /** inbound peer id → its address group (per-address limit) */
  private readonly inboundKeys = new Map<number, string>();
  private readonly dialers = new Map<string, PeerDialer>();
  private readonly syncs = new Map<string, InitialSync>();
  private readonly wss: PeerWsServer;
  private readonly allow: AllowList;
  private readonly removeListener: () => void;
  private nextId = 1;
  private pendingAdvert: Uint8Array[] = [];
  private advertScheduled = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private started = false;
  private closing = false;

  constructor(private readonly d: ReplicationServiceDeps) {
    const { host, settings } = d;
    this.system =
      d.system ??
      new ActorSystem(
        `snode-replication-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
        () => d.clock.now(),
      );
    this.ownsSystem = d.system === undefined;
    this.allow = new AllowList(settings.allowList);
    this.scheduler = new FetchScheduler({
      maxInflight: settings.maxOutstandingGlobal,
      maxWantedPerPeer: settings.maxWantedPerPeer,
    });
    this.metrics = new ReplicationMetrics(host.registry, {
      peers: () => ({ inbound: this.count('inbound'), outbound: this.count('outbound') }),
      inflight: () => this.scheduler.inflight,
      wanted: () => this.scheduler.size,
    });
    this.wss = new PeerWsServer({
      maxPayload: settings.maxFrameBytes,
      isAllowed: (addr) => this.allow.allows(addr),
      noRoom: (addr) =>
        this.closing || this.count('inbound') >= settings.maxInboundPeers
          ? 'TooManyPeers'
          : this.inboundFrom(addr) >= settings.maxInboundPeersPerAddress
            ? 'TooManyFromAddress'
            : undefined,
      onConnection: (ws, addr) => this.acceptInbound(ws, addr),
      onRefused: (addr, reason) => {
        this.metrics.refused.inc({ reason });
        this.metrics.disconnects.inc({ reason });
        // debug, not warn: a refused host reconnecting in a loop would flood the log; the
        // refusals are counted in snode_peer_refused_total{reason}
        d.log.debug(
          { event: 'peer:ws:refused', addr, reason },
          `refused a replication peer: ${reason}`,
        );
      },
    });
    for (const url of new Set(d.peers)) {
      this.syncs.set(url, new InitialSync(url));
      this.dialers.set(
        url,
        new PeerDialer(this.system, {
          url,
          settings,
          log: d.log,
          metrics: this.metrics,
          random: d.random,
          onOpen: (ws, addr) => this.openOutbound(ws, addr, url),
          onDialFailed: (detail) => {
            const sync = this.syncs.get(url);
            if (sync?.finish('failed', d.clock.now(), `dial failed: ${detail}`))
              this.logSyncEnd(sync);
          },
        }),
      );
    }
    this.removeListener = host.onAccepted((hash) => this.onAccepted(hash));
  }

  /** Dial the configured peers (after the HTTP server listens). */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    for (const dialer of this.dialers.values()) dialer.start();
    if (this.syncs.size > 0 && this.d.settings.syncTimeoutMs > 0) {
      this.syncTimer = setTimeout(() => {
        for (const sync of this.syncs.values()) {
          if (
            sync.finish(
              'timeout',
              this.d.clock.now(),
              `not settled within ${this.d.settings.syncTimeoutMs} ms`,
            )
          )
            this.logSyncEnd(sync);
        }
      }, this.d.settings.syncTimeoutMs);
      this.syncTimer.unref();
    }
  }

  /** HttpDeps.onUpgrade for /cjdnsnode_websocket (`client`: the resolved remote address). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, client?: string): void {
    this.wss.handleUpgrade(req, socket, head, client);
  }

  /** `/` and `/ni` peerInfo (docs/protocol.md §8). */
  peerInfo(): PeerInfo {
    const peers: PeerInfoEntry[] = [];
    for (const h of this.handles.values()) {
      const info: PeerInfoEntry = h.session.info();
      const url = h.session.stats().url;
      const sync = url !== undefined ? this.syncs.get(url) : undefined;
      if (h.role === 'outbound' && sync && sync.startedAt !== undefined)
        info.sync = sync.snapshot();
      peers.push(info);
    }
    return { peers, ...this.d.host.store.sizes() };
  }

  /**
   * Ready once every configured peer's initial sync is done (or given up by `syncTimeoutMs`,
   * when set). A failed sync is not settled: its check names the reason, and the next session
   * retries it.
   */
  readiness(): ReplicationReadiness {
    const checks: Record<string, { ok: boolean; detail: string }> = {};
    let ok = true;
    for (const [url, sync] of this.syncs) {
      const state = this.dialers.get(url)?.stats().state ?? 'idle';
      checks[`peer ${url}`] = {
        ok: sync.settled,
        detail: `${sync.describe()}; connection ${state}`,
      };
      ok &&= sync.settled;
    }
    return { ok, checks };
  }

  stats(): ReplicationStats {
    return {
      peers: [...this.handles.values()].map((h) => h.session.stats()),
      scheduler: {
        tracked: this.scheduler.size,
        inflight: this.scheduler.inflight,
        discarded: this.scheduler.discarded,
        reassigned: this.scheduler.reassigned,
      },
      dialers: [...this.dialers.values()].map((x) => x.stats()),
      syncs: [...this.syncs.values()].map((s) => s.snapshot()),
    };
  }

  /** Drop every peer, stop dialing, stop accepting. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.removeListener();
    for (const dialer of this.dialers.values()) dialer.stop();
    for (const h of [...this.handles.values()]) {
      h.drop('Shutdown', 'server closing');
    }
    this.handles.clear();
    this.wss.close();
    if (this.ownsSystem) this.system.shutdown();
  }

  private count(role: PeerRole): number {
    let n = 0;
    for (const h of this.handles.values()) if (h.role === role) n++;
    return n;
  }

  /** Inbound peers connected from the address group (lib/address-slots.ts) of `addr`. */
  private inboundFrom(addr: string): number {
    const key = addressKey(addr);
    let n = 0;
    for (const k of this.inboundKeys.values()) if (k === key) n++;
    return n;
  }

  private acceptInbound(ws: WebSocket, addr: string): void {
    if (this.closing) {
      ws.terminate();
      return;
    }
    this.spawn(ws, 'inbound', addr, undefined);
  }

  private openOutbound(ws: WebSocket, addr: string, url: string): void {
    if (this.closing) {
      ws.terminate();
      return;
    }
    const sync = this.syncs.get(url);
    // the first session, or the next one after a failed or interrupted attempt
    this.spawn(ws, 'outbound', addr, url, sync?.startable ? sync : undefined);
  }

  private spawn(
    ws: WebSocket,
    role: PeerRole,
    addr: string,
    url: string | undefined,
    sync?: InitialSync,
  ): void {
    const id = this.nextId++;
    const { host, settings, log, clock } = this.d;
    // only outbound peers fetch (data flows from the accepting side to the connecting side)
    if (role === 'outbound') {
      this.scheduler.addPeer(id, () => {
        this.handles.get(id)?.nudge({ type: 'FetchReady' });
      });
    }
    const handle = new PeerActor(this.system, ws, {
      id,
      role,
      addr,
      url,
      store: host.store,
      submit: (bytes) => host.submitGossip(bytes),
      scheduler: this.scheduler,
      settings,
      metrics: this.metrics,
      log,
      clock,
      sync,
      onClosed: (closed) => this.onPeerClosed(closed),
    });
    this.handles.set(id, handle);
    if (role === 'inbound') this.inboundKeys.set(id, addressKey(addr));
    this.metrics.connections.inc({ direction: role });
    if (role === 'inbound')
      log.info({ event: 'peer:ws:accepted', peer: id, addr }, 'replication peer connected');
  }

  private onPeerClosed(closed: PeerClosed): void {
    this.handles.delete(closed.id);
    this.inboundKeys.delete(closed.id);
    this.scheduler.removePeer(closed.id);
    if (closed.role === 'outbound' && closed.url !== undefined) {
      const sync = this.syncs.get(closed.url);
      if (sync && closed.syncFailed) this.logSyncEnd(sync);
      if (!this.closing) this.dialers.get(closed.url)?.sessionEnded();
    }
  }

  private logSyncEnd(sync: InitialSync): void {
    this.metrics.syncProgress.set({ peer: sync.url }, sync.progress);
    this.d.log.warn(
      { event: `peer:sync:${sync.state}`, ...sync.snapshot() },
      `initial sync from ${sync.url}: ${sync.describe()}`,
    );
  }

  /** An announcement entered the store (any way in): stop wanting it, advertise it to inbound peers. */
  private onAccepted(hash: Uint8Array): void {
    if (this.scheduler.size > 0) this.scheduler.resolved(wantKeyOf(hash));
    if (this.count('inbound') === 0) return;
    this.pendingAdvert.push(hash);
    if (this.advertScheduled) return;
    this.advertScheduled = true;
    // one Advertise per peer per event-loop turn, however many announcements the turn accepted
    setImmediate(() => {
      this.advertScheduled = false;
      const hashes = this.pendingAdvert;
      this.pendingAdvert = [];
      for (const h of [...this.handles.values()])
        if (h.role === 'inbound') h.tell({ type: 'Advertise', hashes });
    });
  }
}
