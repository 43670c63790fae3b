/**
 * The cluster actor's write side: this process's accepted announcements → the durable record.
 *
 *  - Bus up, nothing older waiting: the append goes out at once, pipelined (at most maxInFlight
 *    on the one command connection, so Redis stores them in order); the caller's reply is sent
 *    when Redis answered — `durable: true` — or, if the append failed, when it went to the backlog.
 *  - Bus away (or an append failed and the backlog is not yet flushed): into the bounded backlog
 *    in sequence order, and the caller hears `durable: false` at once. Past the bound, the node is
 *    marked dirty and re-published whole (a SNAPSHOT entry) when the bus returns.
 *  - Flush: the backlog in order, pipelined by chunks, each node's snapshot with its last entry;
 *    then the dirty nodes as SNAPSHOT entries. Each snapshot replaces the node's key only while
 *    the key names nothing newer than what this process reflects of the node (`reflected`).
 *
 * Runs inside the actor's handlers only; completions come back as actor messages (`settled`).
 */
import type { Logger } from '../log.ts';
import { encodeClusterEnvelope } from '../protocol/cluster-envelope.ts';
import type { ReplyTo } from '../actors/actor-system.ts';
import type { ClusterBus } from './bus.ts';
import type { EnvelopeSeal } from './envelope-auth.ts';
import {
  errText,
  notePublished,
  raiseWatermark,
  type BacklogEntry,
  type ClusterState,
  type PublishResult,
  type Reply,
  type WaitingAppend,
} from './cluster-state.ts';
import type { ClusterMetrics } from './metrics.ts';
import type { ClusterNodeSnapshot, ClusterSink } from './sink.ts';
import { writeErrorReason, type WriteErrorReason } from './write-errors.ts';

export interface PublishRequest {
  readonly ann: Uint8Array;
  readonly nodeIp: string;
  /** the record delta computed from the announcement: a DELTA envelope instead of ANN */
  readonly delta?: Uint8Array;
  readonly snapshot: ClusterNodeSnapshot | undefined;
  readonly acceptedAtMs: number;
  readonly replyTo: ReplyTo<PublishResult>;
}

/** How an append ended; the actor feeds it back through its mailbox. */
export type AppendOutcome =
  | {
      readonly ok: true;
      readonly entry: BacklogEntry;
      readonly id: string;
      readonly replyTo: ReplyTo<PublishResult>;
    }
  | {
      readonly ok: false;
      readonly entry: BacklogEntry;
      readonly error: string;
      readonly replyTo: ReplyTo<PublishResult>;
    };

export interface RecordPublisherDeps {
  readonly bus: ClusterBus;
  readonly sink: ClusterSink;
  readonly origin: string;
  /** seals every envelope written (the cluster key's HMAC tag; envelope-auth.ts) */
  readonly seal: EnvelopeSeal;
  readonly log: Logger;
  readonly metrics: ClusterMetrics;
  readonly now: () => number;
  readonly backlogLimit: number;
  readonly maxInFlight: number;
  /** hand an append's outcome back to the actor (its mailbox) */
  readonly settled: (outcome: AppendOutcome) => void;
}

export class RecordPublisher {
  private lastFailureLog = 0;

  constructor(private readonly d: RecordPublisherDeps) {}

  publish(state: ClusterState, req: PublishRequest, reply: Reply): void {
    const seq = ++state.seq;
    let envelope: Uint8Array;
    try {
      const head = {
        origin: this.d.origin,
        seq,
        acceptedAtMs: req.acceptedAtMs,
        nodeIp: req.nodeIp,
        ann: req.ann,
      };
      envelope = this.d.seal.seal(
        encodeClusterEnvelope(
          req.delta ? { kind: 'delta', ...head, delta: req.delta } : { kind: 'ann', ...head },
        ),
      );
    } catch (e) {
      // Not an announcement the envelope can carry (size limits). Answer the caller instead of
      // crashing the actor: a crash would drop the reply (the caller waits its whole timeout) and
      // a burst of such messages would spend the restart budget and stop the bus for good.
      state.seq--;
      this.d.log.error(
        { event: 'cluster:publish:unencodable', node: req.nodeIp, err: errText(e) },
        'cannot publish announcement',
      );
      this.d.metrics.published.inc({ result: 'failed' });
      reply(req.replyTo, { durable: false, reason: 'unencodable', backlog: state.backlog.length });
      return;
    }
    state.own.add(req.nodeIp);
    const entry: BacklogEntry = { seq, nodeIp: req.nodeIp, envelope };
    if (!this.canAppendDirectly(state)) {
      this.deferToBacklog(
        state,
        entry,
        req.replyTo,
        reply,
        state.holding ? state.view.lastWriteFailure?.reason : undefined,
      );
      return;
    }
    const snapshot = req.snapshot
      ? this.snapshotEnvelope(req.nodeIp, seq, req.acceptedAtMs, req.snapshot)
      : undefined;
    const item: WaitingAppend = { entry, snapshot, replyTo: req.replyTo };
    // throttled, not failed: the caller still gets its durable reply, later
    if (state.waiting.length > 0) {
      // behind others: sendWaiting keeps seq order per node and lets other nodes go
      state.waiting.push(item);
      this.sendWaiting(state, reply);
    } else if (state.inFlight >= this.d.maxInFlight || state.inFlightNodes.has(req.nodeIp)) {
      state.waiting.push(item);
    } else {
      this.send(state, item);
    }
  }

  /** An append came back (through the mailbox). */
  settle(state: ClusterState, o: AppendOutcome, reply: Reply): void {
    state.inFlight--;
    state.inFlightNodes.delete(o.entry.nodeIp);
    if (o.ok) {
      state.view.published++;
      this.d.metrics.published.inc({ result: 'durable' });
      raiseWatermark(state, o.entry.nodeIp, o.id);
      notePublished(state, o.entry.nodeIp, o.id);
      reply(o.replyTo, { durable: true, id: o.id });
    } else {
      const reason = this.writeFailed(state, o.error, 'append');
      this.deferToBacklog(state, o.entry, o.replyTo, reply, reason);
    }
    this.sendWaiting(state, reply);
  }

  /**
   * A write failed: hold every later append (they go to the backlog, unacknowledged) until the
   * backlog was re-published, count and log why. Returns the reason label.
   */
  writeFailed(state: ClusterState, error: unknown, what: string): WriteErrorReason {
    const reason = writeErrorReason(error);
    const message = errText(error);
    this.setHolding(state, true);
    state.view.lastWriteFailure = { reason, message, at: this.d.now() };
    this.d.metrics.writeErrors.inc({ reason });
    // one line per failure would flood the log while Redis refuses everything: the first of a
    // run, then at most one every 5 s
    const now = Date.now();
    if (now - this.lastFailureLog >= 5000) {
      this.lastFailureLog = now;
      this.d.log.warn(
        {
          event: 'cluster:publish:failed',
          what,
          reason,
          err: message,
          backlog: state.backlog.length,
        },
        'the cluster bus refused a write: announcements are not acknowledged until the backlog is re-published',
      );
    }
    return reason;
  }

  private setHolding(state: ClusterState, holding: boolean): void {
    state.holding = holding;
    state.view.holding = holding;
  }

  /** Something is waiting to be re-published. */
  pending(state: ClusterState): boolean {
    return state.holding || state.backlog.length > 0 || state.dirty.size > 0;
  }

  /**
   * Re-publish the backlog in order (each node's snapshot with its last entry), then the dirty
   * nodes as SNAPSHOT entries. Stops at the first failure and keeps the rest.
   */
  async flush(state: ClusterState): Promise<void> {
    if (state.inFlight > 0 || !this.d.bus.connected()) return;
    const t0 = Date.now();
    const total = state.backlog.length;
    const lastIndex = new Map<string, number>();
    state.backlog.forEach((e, i) => lastIndex.set(e.nodeIp, i));
    // pipelined by chunks on the one command connection: Redis runs them in order; everything
    // from the first failure on stays in the backlog (one that ran anyway is a duplicate the
    // receivers drop). A chunk holds at most one entry per node: a node's later entry must never
    // be stored while its earlier one failed.
    let done = 0;
    try {
      while (done < state.backlog.length) {
        const chunk: BacklogEntry[] = [];
        const nodes = new Set<string>();
        for (let i = done; i < state.backlog.length && chunk.length < this.d.maxInFlight; i++) {
          const e = state.backlog[i]!;
          if (nodes.has(e.nodeIp)) break;
          nodes.add(e.nodeIp);
          chunk.push(e);
        }
        const results = await Promise.allSettled(
          chunk.map((e, k) => {
            let snapshot: Uint8Array | undefined;
            if (lastIndex.get(e.nodeIp) === done + k && !state.dirty.has(e.nodeIp)) {
              const s = this.d.sink.nodeSnapshot(e.nodeIp);
              if (s) snapshot = this.snapshotEnvelope(e.nodeIp, e.seq, this.d.now(), s);
            }
            return this.d.bus.append({
              envelope: e.envelope,
              nodeIp: e.nodeIp,
              snapshot,
              snapshotIf: this.reflected(state, e.nodeIp),
            });
          }),
        );
        for (let k = 0; k < results.length; k++) {
          const r = results[k]!;
          if (r.status === 'rejected') throw r.reason;
          // no raiseWatermark here: this entry was applied long ago and the node may have moved
          // on since — other processes' entries of it, stored before this one, that our follower
          // has not read yet would be skipped as `covered`. The follower raises the watermark
          // when it reads this entry, in record order, after those.
          notePublished(state, chunk[k]!.nodeIp, r.value);
          state.view.published++;
          done++;
        }
      }
      for (const ip of [...state.dirty]) {
        const s = this.d.sink.nodeSnapshot(ip);
        const env = s ? this.snapshotEnvelope(ip, ++state.seq, this.d.now(), s) : undefined;
        if (env) {
          const id = await this.d.bus.append({
            envelope: env,
            nodeIp: ip,
            snapshot: env,
            // Redis lost the node's entries: its key holds less than we do, write it whatever it names
            ...(state.lost.has(ip) ? {} : { snapshotIf: this.reflected(state, ip) }),
          });
          // the follower raises the watermark when it reads it (as for the backlog above)
          notePublished(state, ip, id);
        }
        state.dirty.delete(ip);
        state.lost.delete(ip);
        state.view.dirty = state.dirty.size;
      }
    } catch (e) {
      // still not durable: keep holding; the next tick (or reconnect) tries again
      this.writeFailed(state, e, 'flush');
      return;
    } finally {
      state.backlog = state.backlog.slice(done);
      state.view.backlog = state.backlog.length;
    }
    if (state.holding)
      this.d.log.info(
        { event: 'cluster:publish:recovered', entries: total },
        'the cluster bus takes writes again',
      );
    this.setHolding(state, false);
    if (total > 0)
      this.d.log.info(
        { event: 'cluster:backlog:flushed', entries: total, ms: Date.now() - t0 },
        're-published the backlog',
      );
  }

  /**
   * The condition of a re-published entry's snapshot: this process's state of the node is that of
   * a past moment, and another process may have stored newer (acknowledged) entries of the node
   * since. Its snapshot may replace the node's key only while the key names no entry newer than
   * the one this state reflects (the watermark; none: only while there is no key) — otherwise a
   * process starting from snapshots would rebuild the node without those entries. Receivers of
   * the record drop the entry itself when they hold newer announcements of the node.
   */
  private reflected(state: ClusterState, nodeIp: string): { readonly upTo: string | undefined } {
    return { upTo: state.watermark.get(nodeIp) };
  }

  /** The bus is up and nothing older is waiting to be re-published. */
  private canAppendDirectly(state: ClusterState): boolean {
    return this.d.bus.connected() && !this.pending(state);
  }

  private send(state: ClusterState, item: WaitingAppend): void {
    state.inFlight++;
    state.inFlightNodes.add(item.entry.nodeIp);
    const { entry, replyTo } = item;
    this.d.bus
      .append({ envelope: entry.envelope, nodeIp: entry.nodeIp, snapshot: item.snapshot })
      .then(
        (id) => this.d.settled({ ok: true, entry, id, replyTo }),
        (e: unknown) => this.d.settled({ ok: false, entry, error: errText(e), replyTo }),
      );
  }

  private sendWaiting(state: ClusterState, reply: Reply): void {
    if (!this.canAppendDirectly(state)) {
      for (const w of state.waiting)
        this.deferToBacklog(state, w.entry, w.replyTo, reply, state.view.lastWriteFailure?.reason);
      state.waiting = [];
      return;
    }
    if (state.waiting.length === 0) return;
    // in seq order, skipping (for now) a node whose earlier append is in flight or waiting
    const blocked = new Set<string>();
    const rest: WaitingAppend[] = [];
    for (const w of state.waiting) {
      const ip = w.entry.nodeIp;
      if (state.inFlight >= this.d.maxInFlight || state.inFlightNodes.has(ip) || blocked.has(ip)) {
        blocked.add(ip);
        rest.push(w);
      } else {
        this.send(state, w);
      }
    }
    state.waiting = rest;
  }

  private deferToBacklog(
    state: ClusterState,
    entry: BacklogEntry,
    replyTo: ReplyTo<PublishResult>,
    reply: Reply,
    error?: WriteErrorReason,
  ): void {
    const why =
      error !== undefined
        ? { reason: 'write_failed' as const, error }
        : { reason: 'bus_unavailable' as const };
    if (state.backlog.length >= this.d.backlogLimit) {
      state.dirty.add(entry.nodeIp);
      state.view.dirty = state.dirty.size;
      this.d.metrics.published.inc({ result: 'backlog_full' });
      reply(replyTo, {
        durable: false,
        reason: 'backlog_full',
        backlog: state.backlog.length,
        ...(error !== undefined ? { error } : {}),
      });
      return;
    }
    const b = state.backlog;
    b.push(entry);
    // completions of pipelined appends can arrive after newer entries were queued: keep seq order
    if (b.length > 1 && b[b.length - 2]!.seq > entry.seq) b.sort((x, y) => x.seq - y.seq);
    state.view.backlog = b.length;
    this.d.metrics.published.inc({ result: 'backlog' });
    reply(replyTo, { durable: false, backlog: b.length, ...why });
  }

  private snapshotEnvelope(
    nodeIp: string,
    seq: number,
    acceptedAtMs: number,
    s: ClusterNodeSnapshot,
  ): Uint8Array | undefined {
    try {
      return this.d.seal.seal(
        encodeClusterEnvelope({
          kind: 'snapshot',
          origin: this.d.origin,
          seq,
          acceptedAtMs,
          nodeIp,
          resetMsg: s.resetMsg,
          keptOldestFirst: s.keptOldestFirst,
        }),
      );
    } catch (e) {
      this.d.log.warn(
        { event: 'cluster:snapshot:unencodable', node: nodeIp, err: errText(e) },
        'node snapshot not written',
      );
      return undefined;
    }
  }
}
