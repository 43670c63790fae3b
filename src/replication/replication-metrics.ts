/**
 * Replication metrics, registered into the route server's own registry (served on /metrics).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ReplicationGaugeSources {
  peers: () => { inbound: number; outbound: number };
  inflight: () => number;
  wanted: () => number;
}

export class ReplicationMetrics {
  readonly disconnects: Counter<'reason'>;
  readonly connections: Counter<'direction'>;
  readonly framesReceived: Counter<'type'>;
  readonly framesSent: Counter<'type'>;
  readonly unknownFrames: Counter;
  readonly ignoredFrames: Counter<'type'>;
  readonly requests: Counter<'result'>;
  readonly gossip: Counter<'result'>;
  readonly throttled: Counter<'cause'>;
  readonly invDiscarded: Counter;
  readonly dials: Counter<'result'>;
  readonly reconnectsScheduled: Counter<'cause'>;
  readonly refused: Counter<'reason'>;
  readonly syncProgress: Gauge<'peer'>;

  constructor(registry: Registry, sources: ReplicationGaugeSources) {
    const registers = [registry];
    this.disconnects = new Counter({
      name: 'snode_peer_disconnects_total',
      help: 'Replication peers disconnected, by DisconnectReason',
      labelNames: ['reason'],
      registers,
    });
    this.connections = new Counter({
      name: 'snode_peer_connections_total',
      help: 'Replication sessions opened, by direction',
      labelNames: ['direction'],
      registers,
    });
    this.framesReceived = new Counter({
      name: 'snode_peer_frames_received_total',
      help: 'Peer frames received, by type',
      labelNames: ['type'],
      registers,
    });
    this.framesSent = new Counter({
      name: 'snode_peer_frames_sent_total',
      help: 'Peer frames queued for sending, by type',
      labelNames: ['type'],
      registers,
    });
    this.unknownFrames = new Counter({
      name: 'snode_peer_unknown_frames_total',
      help: 'Peer frames of an unknown type (ignored, as the original)',
      registers,
    });
    this.ignoredFrames = new Counter({
      name: 'snode_peer_ignored_frames_total',
      help: 'Peer frames ignored by role (INV/DATA on an incoming connection), by type',
      labelNames: ['type'],
      registers,
    });
    this.requests = new Counter({
      name: 'snode_peer_requests_total',
      help: 'GET_DATA requests we sent, by result (data, nil, timeout, late, wrong)',
      labelNames: ['result'],
      registers,
    });
    this.gossip = new Counter({
      name: 'snode_peer_gossip_total',
      help: 'Replicated announcements applied, by reply error',
      labelNames: ['result'],
      registers,
    });
    this.throttled = new Counter({
      name: 'snode_peer_throttled_total',
      help: 'Times a peer socket was paused, by cause (mailbox, send_queue, want_list, inv_rate)',
      labelNames: ['cause'],
      registers,
    });
    this.invDiscarded = new Counter({
      name: 'snode_peer_inv_discarded_total',
      help: 'Advertised hashes deferred at the want-list hard cap (read again by a Resync)',
      registers,
    });
    this.dials = new Counter({
      name: 'snode_peer_dials_total',
      help: 'Outgoing connection attempts, by result (open, failed)',
      labelNames: ['result'],
      registers,
    });
    this.reconnectsScheduled = new Counter({
      name: 'snode_peer_reconnects_scheduled_total',
      help: 'Reconnect timers armed, by cause (closed, error)',
      labelNames: ['cause'],
      registers,
    });
    this.refused = new Counter({
      name: 'snode_peer_refused_total',
      help: 'Incoming websocket upgrades refused, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.syncProgress = new Gauge({
      name: 'snode_peer_initial_sync_progress',
      help: 'Initial sync progress of each configured peer (0..1)',
      labelNames: ['peer'],
      registers,
    });
    new Gauge({
      name: 'snode_peers',
      help: 'Replication peers connected, by direction',
      labelNames: ['direction'],
      registers,
      collect() {
        const p = sources.peers();
        this.set({ direction: 'inbound' }, p.inbound);
        this.set({ direction: 'outbound' }, p.outbound);
      },
    });
    new Gauge({
      name: 'snode_peer_requests_inflight',
      help: 'GET_DATA requests in flight (all peers)',
      registers,
      collect() {
        this.set(sources.inflight());
      },
    });
    new Gauge({
      name: 'snode_peer_wanted',
      help: 'Missing announcements tracked (wanted or in flight)',
      registers,
      collect() {
        this.set(sources.wanted());
      },
    });
  }
}
