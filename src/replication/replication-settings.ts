/**
 * The `replication` section of the configuration: limits and timers of the peer protocol
 * (docs/protocol.md §7). The zod schema holds every default; `src/config.ts` mounts it. The original
 * (cjdnsnode `peer.js`) has none of these limits: unbounded queues, no request timeouts, and
 * two reconnect timers after an error followed by a close.
 */
import { z } from 'zod';
import { isValidAllowEntry } from './allow-list.ts';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** docs/protocol.md §7.5: the original checks every 5 s, pings after 20 s of silence and drops after 60 s. */
export const PING_CYCLE_MS = 5000;
export const PING_AFTER_MS = 20_000;
export const DROP_AFTER_MS = 60_000;
/** docs/protocol.md §7.5: the original reconnects 1 s after a close and 10 s after an error. */
export const RECONNECT_AFTER_CLOSE_MS = 1000;
export const RECONNECT_AFTER_ERROR_MS = 10_000;
/** docs/protocol.md §7.3: INV batch size at connect. */
export const INV_BATCH_HASHES = 128;

export const replicationSchema = z
  .object({
    /** largest websocket message accepted (ws maxPayload); announcements are < 1 KiB, an INV of 128 hashes 8.5 KiB */
    maxFrameBytes: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
    /** hashes in one INV above which the peer is dropped (the originals send at most 128) */
    maxInvHashes: int(1, 1_000_000).default(1024),
    /** sustained INV hashes per second accepted from one peer; above it reading pauses until the budget refills (throttle) */
    invRatePerSec: int(1, 10_000_000).default(50_000),
    /** INV hashes one peer may send in a burst before throttling (a whole inventory of a large network) */
    invBurst: int(1, 10_000_000).default(262_144),
    /** GET_DATA requests in flight to one peer */
    maxOutstandingPerPeer: int(1, 100_000).default(1024),
    /** GET_DATA requests in flight to all peers together */
    maxOutstandingGlobal: int(1, 1_000_000).default(4096),
    /**
     * hashes waiting to be requested from one peer; twice this is a hard cap: further hashes are
     * deferred (counted) and read again by a new session once the rest is done (Resync). Reading
     * pauses here only while nothing asked of the peer is pending.
     */
    maxWantedPerPeer: int(16, 10_000_000).default(65_536),
    /**
     * answered requests handed to the gossip path whose outcomes are not back yet (submitted in
     * request order; the route server keeps each node's announcements in order; they count in
     * maxOutstandingPerPeer); 1 = one at a time, as the original
     */
    applyWindow: int(1, 100_000).default(512),
    /** a GET_DATA unanswered this long is given up (re-requested from another peer that advertised it) */
    requestTimeoutMs: int(10, 3_600_000).default(10_000),
    /** consecutive request timeouts after which the peer is dropped */
    maxConsecutiveTimeouts: int(1, 1_000_000).default(64),
    /** frames queued for one peer above which it is dropped (SendQueueFull) */
    sendQueueLimit: int(16, 10_000_000).default(4096),
    /** bytes queued for one peer above which it is dropped (SendQueueFull) */
    sendQueueMaxBytes: int(64 * 1024, 1024 * 1024 * 1024).default(16 * 1024 * 1024),
    /** socket bufferedAmount above which we stop handing frames to the socket */
    sendHighWaterBytes: int(1024, 1024 * 1024 * 1024).default(1024 * 1024),
    /** a peer whose socket accepts nothing for this long while we have data for it is dropped (SendStalled) */
    sendStallTimeoutMs: int(10, 3_600_000).default(30_000),
    /** messages (received frames included) waiting for a peer actor before it refuses more (the peer is dropped: MailboxFull) */
    mailboxLimit: int(16, 1_000_000).default(4096),
    /** frames received and not yet handled by the peer actor at which reading pauses (until its next turn) */
    readPauseMailbox: int(1, 1_000_000).default(256),
    /** reconnect delay after a session ended (doubles per unstable session, see stableSessionMs) */
    reconnectBaseMs: int(1, 3_600_000).default(RECONNECT_AFTER_CLOSE_MS),
    /** reconnect delay after a failed dial (doubles per consecutive failure) */
    reconnectErrorBaseMs: int(1, 3_600_000).default(RECONNECT_AFTER_ERROR_MS),
    /** upper bound of every reconnect delay */
    reconnectMaxMs: int(1, 24 * 3_600_000).default(300_000),
    /** random spread of each delay: ±this fraction */
    reconnectJitter: z.coerce.number().min(0).max(1).default(0.2),
    /** a session that lasted this long resets the backoff */
    stableSessionMs: int(0, 24 * 3_600_000).default(30_000),
    /** websocket opening handshake timeout of outgoing connections */
    handshakeTimeoutMs: int(10, 600_000).default(10_000),
    /** docs/protocol.md §7.5 ping cycle */
    pingCycleMs: int(10, 3_600_000).default(PING_CYCLE_MS),
    /** docs/protocol.md §7.5 ping a peer silent for this long */
    pingAfterMs: int(10, 3_600_000).default(PING_AFTER_MS),
    /** docs/protocol.md §7.5 drop a peer silent for this long (Idle) */
    dropAfterMs: int(10, 3_600_000).default(DROP_AFTER_MS),
    /** per-peer housekeeping timer: request timeouts, throttling, sync progress */
    tickMs: int(5, 60_000).default(500),
    /** inbound peers allowed: exact addresses or CIDR blocks (IPv4/IPv6); empty = everyone (as the original) */
    allowList: z
      .array(z.string().refine(isValidAllowEntry, 'must be an IP address or a CIDR block'))
      .default([]),
    /** inbound connections accepted at once */
    maxInboundPeers: int(0, 100_000).default(64),
    /** inbound connections one client (an IPv4 address, an IPv6 /64) may hold at once */
    maxInboundPeersPerAddress: int(1, 100_000).default(4),
    /** initial sync of a configured peer is settled once nothing is pending and no INV came for this long */
    syncQuietMs: int(0, 3_600_000).default(3000),
    /** readiness gives up waiting for an initial sync after this long (it turns ready without it); 0 = waits until every sync is done */
    syncTimeoutMs: int(0, 24 * 3_600_000).default(0),
    /** how often a sync progress line is logged (also at every 10 %) */
    progressLogIntervalMs: int(100, 3_600_000).default(5000),
  })
  .strict()
  .prefault({});

export type ReplicationSettings = z.infer<typeof replicationSchema>;

/** All defaults (unit tests, benchmarks). */
export function defaultReplicationSettings(
  overrides: Partial<ReplicationSettings> = {},
): ReplicationSettings {
  return replicationSchema.parse(overrides);
}
