/**
 * The state the cluster actor owns (src/cluster/cluster-actor.ts), shared by its two halves: the
 * publisher (this process's accepted announcements → the record) and the follower (the record →
 * this process's route server). Only the actor's handlers touch it.
 */
import type { ReplyTo } from '../actors/actor-system.ts';
import { STREAM_ID_ZERO, compareStreamIds } from '../protocol/cluster-envelope.ts';
import type { WriteErrorReason } from './write-errors.ts';

/** exact duplicate detection window per origin (re-published entries come back soon) */
const SEQ_WINDOW = 4096;
const MAX_ORIGINS_TRACKED = 256;
export const LAG_SAMPLES = 2048;

export type PublishResult =
  | { readonly durable: true; readonly id: string }
  | {
      readonly durable: false;
      /** bus_unavailable: Redis is away, queued in the backlog; write_failed: Redis refused or
       *  lost the write (`error` says why), queued in the backlog; backlog_full: the node will be
       *  re-published as a snapshot when the bus returns; unencodable: too large for the
       *  envelope, not published. In every case: NOT durable, so never acknowledged. */
      readonly reason: 'bus_unavailable' | 'write_failed' | 'backlog_full' | 'unencodable';
      readonly backlog: number;
      readonly error?: WriteErrorReason;
    };

/** The last write the bus refused (what /readyz and /status say while writes fail). */
export interface WriteFailure {
  readonly reason: WriteErrorReason;
  readonly message: string;
  readonly at: number;
}

export type Reply = <R>(to: ReplyTo<R>, value: R) => void;

export interface BacklogEntry {
  readonly seq: number;
  readonly nodeIp: string;
  readonly envelope: Uint8Array;
}

/** an append throttled by maxInFlight; its caller waits for the durable reply */
export interface WaitingAppend {
  readonly entry: BacklogEntry;
  readonly snapshot: Uint8Array | undefined;
  readonly replyTo: ReplyTo<PublishResult>;
}

/** What the actor shows its facade (status, the per-announcement fast path); actor-written only. */
export interface ClusterView {
  caughtUp: boolean;
  failed: boolean;
  /** node → id of the newest record entry (or snapshot) reflected in this process's state (the
   *  actor writes it; the facade compares it with the node's newest entry in Redis) */
  readonly watermark: Map<string, string>;
  backlog: number;
  dirty: number;
  /** a write failed and the backlog is not yet re-published: nothing can be acknowledged */
  holding: boolean;
  /** the newest write failure (kept after recovery, for /status) */
  lastWriteFailure: WriteFailure | undefined;
  lastAppliedId: string;
  published: number;
  appliedRemote: number;
  gapsRepaired: number;
  resyncs: number;
  readonly lags: number[];
  lagNext: number;
  /** the other processes seen on the bus, least recently active first (at most MAX_ORIGINS_TRACKED) */
  readonly origins: Map<string, OriginSeen>;
}

/** What this process saw of another process through its record entries. */
export interface OriginSeen {
  /** the newest acceptance time among its entries (ms, that process's clock) */
  lastAcceptedAt: number;
  /** its record entries read here (live, repaired or replayed) */
  entries: number;
}

/** The sequence numbers of one origin seen lately: a set, and a ring of the newest SEQ_WINDOW. */
interface OriginSeqs {
  readonly seen: Set<number>;
  readonly ring: Float64Array;
  next: number;
}

/** Exact duplicate detection per origin over a sliding window of sequence numbers. */
export class SeqWindow {
  private readonly byOrigin = new Map<string, OriginSeqs>();

  /** true if (origin, seq) was seen recently; records it otherwise */
  seenBefore(origin: string, seq: number): boolean {
    let w = this.byOrigin.get(origin);
    if (!w) {
      if (this.byOrigin.size >= MAX_ORIGINS_TRACKED)
        this.byOrigin.delete(this.byOrigin.keys().next().value!);
      w = { seen: new Set(), ring: new Float64Array(SEQ_WINDOW), next: 0 };
      this.byOrigin.set(origin, w);
    }
    if (w.seen.has(seq)) return true;
    // the ring's slot holds the oldest of the window once it is full (0 is never a seq)
    const slot = w.next % SEQ_WINDOW;
    if (w.next >= SEQ_WINDOW) w.seen.delete(w.ring[slot]!);
    w.ring[slot] = seq;
    w.next++;
    w.seen.add(seq);
    return false;
  }
}

export interface ClusterState {
  /** per-origin sequence number of our last envelope */
  seq: number;
  catchingUp: boolean;
  /** the last record entry processed (applied, skipped or our own) */
  lastAppliedId: string;
  /** node → id of the newest record entry (or snapshot) reflected in this process's state (the view's) */
  readonly watermark: Map<string, string>;
  /** nodes whose last published change is ours (re-published after a Redis data loss) */
  readonly own: Set<string>;
  /** our newest durable entry (and its node): after a reconnect, Redis must still hold it */
  lastPublished: { readonly id: string; readonly nodeIp: string } | undefined;
  readonly seqs: SeqWindow;
  backlog: BacklogEntry[];
  /** nodes to re-publish as SNAPSHOT entries (backlog overflow, Redis data loss) */
  readonly dirty: Set<string>;
  /** the dirty nodes whose entries Redis lost: their snapshot is written whatever the node's key
   *  holds (the others only while it names nothing newer than the watermark: flush) */
  readonly lost: Set<string>;
  inFlight: number;
  /** nodes with an append in flight: a node's next append waits for it, so a failed append can
   *  never be overtaken by a later one of the same node that succeeds (per-node record order) */
  readonly inFlightNodes: Set<string>;
  /** appends throttled by maxInFlight or by their node's append in flight, in seq order */
  waiting: WaitingAppend[];
  /** an append failed: hold new appends (backlog them) until the backlog was flushed */
  holding: boolean;
  drainWaiters: ReplyTo<void>[];
  readonly view: ClusterView;
}

export function newClusterView(): ClusterView {
  return {
    caughtUp: false,
    failed: false,
    watermark: new Map(),
    backlog: 0,
    dirty: 0,
    holding: false,
    lastWriteFailure: undefined,
    lastAppliedId: STREAM_ID_ZERO,
    published: 0,
    appliedRemote: 0,
    gapsRepaired: 0,
    resyncs: 0,
    lags: [],
    lagNext: 0,
    origins: new Map(),
  };
}

export function newClusterState(view: ClusterView): ClusterState {
  return {
    seq: 0,
    catchingUp: false,
    lastAppliedId: STREAM_ID_ZERO,
    watermark: view.watermark,
    own: new Set(),
    lastPublished: undefined,
    seqs: new SeqWindow(),
    backlog: [],
    dirty: new Set(),
    lost: new Set(),
    inFlight: 0,
    inFlightNodes: new Set(),
    waiting: [],
    holding: false,
    drainWaiters: [],
    view,
  };
}

/** A durable entry of ours: remember the newest (Redis must still hold it after a reconnect). */
export function notePublished(state: ClusterState, nodeIp: string, id: string): void {
  if (state.lastPublished === undefined || compareStreamIds(id, state.lastPublished.id) > 0)
    state.lastPublished = { id, nodeIp };
}

/** The node's state now reflects record entry `id` (never moves backwards). */
export function raiseWatermark(state: ClusterState, nodeIp: string, id: string): void {
  const wm = state.watermark.get(nodeIp);
  if (wm === undefined || compareStreamIds(id, wm) > 0) state.watermark.set(nodeIp, id);
}

export function setPosition(state: ClusterState, id: string): void {
  state.lastAppliedId = id;
  state.view.lastAppliedId = id;
}

/** p99 and the newest of the lag samples, ms. */
export function lagFigures(view: ClusterView): {
  last: number | undefined;
  p99: number | undefined;
} {
  const n = Math.min(view.lags.length, LAG_SAMPLES);
  if (n === 0) return { last: undefined, p99: undefined };
  const sorted = view.lags.slice(0, n).sort((a, b) => a - b);
  return {
    last: view.lags[(view.lagNext - 1 + n) % n],
    p99: sorted[Math.min(n - 1, Math.ceil(0.99 * n) - 1)],
  };
}

export function addLagSample(view: ClusterView, lagMs: number): void {
  if (view.lags.length < LAG_SAMPLES) view.lags.push(lagMs);
  else view.lags[view.lagNext % LAG_SAMPLES] = lagMs;
  view.lagNext = (view.lagNext + 1) % LAG_SAMPLES;
}

/** Note a record entry of another process (moves it to the most recently active end). */
export function noteOrigin(view: ClusterView, origin: string, acceptedAtMs: number): void {
  const seen = view.origins.get(origin);
  if (seen) {
    view.origins.delete(origin);
    seen.lastAcceptedAt = Math.max(seen.lastAcceptedAt, acceptedAtMs);
    seen.entries++;
    view.origins.set(origin, seen);
    return;
  }
  if (view.origins.size >= MAX_ORIGINS_TRACKED)
    view.origins.delete(view.origins.keys().next().value!);
  view.origins.set(origin, { lastAcceptedAt: Math.max(0, acceptedAtMs), entries: 1 });
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
