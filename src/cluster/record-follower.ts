/**
 * The cluster actor's read side: the durable record → this process's route server.
 *
 *  - Entries are applied in record order (one total order, so in order per node), each once:
 *    our own entries are skipped, an entry a node's snapshot already covers is skipped (per-node
 *    watermark), and an exact re-publication is skipped (per-origin sequence window).
 *  - Live frames name the entry before them; a frame that does not continue our position means
 *    frames were missed (pub/sub is at-most-once): read the record from our position.
 *  - When the record no longer reaches our position (trimmed), or at startup after trimming,
 *    rebuild every node from its snapshot, then continue after the snapshots.
 *  - When Redis comes back with less than we had read (restarted without its data), re-publish
 *    the nodes this process changed last (the publisher sends them as SNAPSHOT entries).
 *
 * Runs inside the actor's handlers only.
 */
import type { Logger } from '../log.ts';
import {
  compareStreamIds,
  decodeClusterEnvelope,
  type ClusterEnvelope,
} from '../protocol/cluster-envelope.ts';
import { bytesEqual } from '../protocol/hex.ts';
import type { ClusterBus, ClusterRecordEntry } from './bus.ts';
import type { EnvelopeSeal } from './envelope-auth.ts';
import { isRsError } from '../errors.ts';
import {
  addLagSample,
  errText,
  noteOrigin,
  raiseWatermark,
  setPosition,
  type ClusterState,
} from './cluster-state.ts';
import type { ClusterMetrics } from './metrics.ts';
import type { ClusterSink, DeltaResult } from './sink.ts';

export interface RecordFollowerDeps {
  readonly bus: ClusterBus;
  readonly sink: ClusterSink;
  readonly origin: string;
  /** opens every envelope read: one without the cluster key's tag is refused (envelope-auth.ts) */
  readonly seal: EnvelopeSeal;
  readonly log: Logger;
  readonly metrics: ClusterMetrics;
  readonly now: () => number;
  /** record entries per read */
  readonly readBatch: number;
  /** startup replays a record this short (and untrimmed); longer ones start from snapshots */
  readonly fullReplayMaxEntries: number;
}

const noop = (): void => undefined;

/** at most one log line per this many ms about unauthenticated entries (each one is counted) */
const UNAUTHENTICATED_LOG_EVERY_MS = 10_000;

export class RecordFollower {
  private unauthenticatedSinceLog = 0;
  private lastUnauthenticatedLog = -Infinity;

  constructor(private readonly d: RecordFollowerDeps) {}

  /**
   * Open (check the cluster key's tag) and decode an envelope read from the bus; undefined when
   * it is refused — counted (`unauthenticated`, `malformed`) and logged (unauthenticated ones at
   * most once per UNAUTHENTICATED_LOG_EVERY_MS, with how many since the last line).
   */
  private openEnvelope(
    sealed: Uint8Array,
    where: { id?: string; node?: string },
  ): ClusterEnvelope | undefined {
    let bytes: Uint8Array;
    try {
      bytes = this.d.seal.open(sealed);
    } catch (e) {
      if (!isRsError(e) || e.code !== 'RS_ERR_CLUSTER_UNAUTHENTICATED') throw e;
      this.d.metrics.applied.inc({ result: 'unauthenticated' });
      this.unauthenticatedSinceLog++;
      const now = Date.now();
      if (now - this.lastUnauthenticatedLog >= UNAUTHENTICATED_LOG_EVERY_MS) {
        this.d.log.warn(
          {
            event: 'cluster:entry:unauthenticated',
            ...where,
            count: this.unauthenticatedSinceLog,
            err: errText(e),
          },
          'refused cluster bus entries not sealed with the cluster key (someone without the key writes to Redis)',
        );
        this.lastUnauthenticatedLog = now;
        this.unauthenticatedSinceLog = 0;
      }
      return undefined;
    }
    try {
      return decodeClusterEnvelope(bytes);
    } catch (e) {
      this.d.metrics.applied.inc({ result: 'malformed' });
      this.d.log.warn(
        { event: 'cluster:entry:malformed', ...where, err: errText(e) },
        'ignored a malformed record entry',
      );
      return undefined;
    }
  }

  /** Startup: replay the record (short and untrimmed) or rebuild from snapshots, then read to the end. */
  async initialCatchUp(state: ClusterState): Promise<void> {
    if (state.catchingUp) return;
    state.catchingUp = true;
    const t0 = Date.now();
    try {
      const info = await this.d.bus.info();
      const fromSnapshots = info.trimmed || info.length > this.d.fullReplayMaxEntries;
      if (fromSnapshots) await this.resyncFromSnapshots(state, 'startup');
      await this.readToEnd(state, 'startup');
      state.view.caughtUp = true;
      this.d.log.info(
        {
          event: 'cluster:catch_up:done',
          ms: Date.now() - t0,
          position: state.lastAppliedId,
          from: fromSnapshots ? 'snapshots' : 'record',
        },
        'caught up with the cluster',
      );
    } finally {
      state.catchingUp = false;
    }
  }

  async onFrame(state: ClusterState, frame: ClusterRecordEntry): Promise<void> {
    if (!state.view.caughtUp) return; // the catch-up reads the record, this frame included
    if (compareStreamIds(frame.id, state.lastAppliedId) <= 0) return; // already read
    if (frame.prevId === state.lastAppliedId) {
      await this.applyEntry(state, frame);
      return;
    }
    state.view.gapsRepaired++;
    this.d.metrics.gaps.inc({ cause: 'chain' });
    this.d.log.info(
      {
        event: 'cluster:gap:detected',
        position: state.lastAppliedId,
        prevId: frame.prevId,
        id: frame.id,
      },
      'missed cluster frames; repairing from the record',
    );
    await this.repair(state, 'gap');
    // the frame may already be trimmed from the record; it is in our hands: apply it
    if (compareStreamIds(frame.id, state.lastAppliedId) > 0) await this.applyEntry(state, frame);
  }

  /** Read the record from our position to its end (a gap, a reconnect, a failover catch-up). */
  async repair(state: ClusterState, cause: string): Promise<void> {
    if (!state.view.caughtUp) return;
    await this.readToEnd(state, cause);
  }

  /** Redis came back with less than we had read: go back to its end, re-publish our nodes. */
  onRewind(state: ClusterState, lastId: string): void {
    this.d.log.warn(
      {
        event: 'cluster:record:rewound',
        position: state.lastAppliedId,
        redisLast: lastId,
        ownNodes: state.own.size,
      },
      'Redis lost record entries; re-publishing the nodes this process changed last',
    );
    state.view.resyncs++;
    this.d.metrics.resyncs.inc({ cause: 'rewind' });
    setPosition(state, lastId);
    state.lastPublished = undefined;
    for (const ip of state.own) {
      state.dirty.add(ip);
      state.lost.add(ip);
    }
    state.view.dirty = state.dirty.size;
  }

  /**
   * After a reconnect: Redis must still hold our newest durable entry. It may not — a Redis that
   * came back from an older copy (a promoted replica that lagged, an AOF cut short by a machine
   * crash) — while its newest id is already past our position, because new entries got later
   * ids. Then re-publish the nodes this process changed last, as on a rewind (their snapshots
   * carry what Redis lost; the other processes re-publish theirs).
   */
  async checkOwnTail(state: ClusterState): Promise<void> {
    const mine = state.lastPublished;
    if (!mine) return;
    const sid = await this.d.bus.snapshotId(mine.nodeIp);
    if (sid !== undefined && compareStreamIds(sid, mine.id) >= 0) return;
    this.d.log.warn(
      {
        event: 'cluster:record:lost_own',
        lastPublished: mine.id,
        node: mine.nodeIp,
        snapshot: sid,
        ownNodes: state.own.size,
      },
      'Redis lost entries this process had made durable; re-publishing the nodes it changed last',
    );
    state.view.resyncs++;
    this.d.metrics.resyncs.inc({ cause: 'lost_own' });
    for (const ip of state.own) {
      state.dirty.add(ip);
      state.lost.add(ip);
    }
    state.view.dirty = state.dirty.size;
    state.lastPublished = undefined;
  }

  private async readToEnd(state: ClusterState, cause: string): Promise<void> {
    for (;;) {
      const entries = await this.d.bus.readAfter(state.lastAppliedId, this.d.readBatch);
      if (entries.length === 0) return;
      const first = entries[0]!;
      if (first.prevId !== state.lastAppliedId) {
        if (compareStreamIds(first.prevId, state.lastAppliedId) > 0) {
          this.d.log.warn(
            {
              event: 'cluster:record:trimmed_past_us',
              position: state.lastAppliedId,
              oldest: first.prevId,
              cause,
            },
            'the record no longer reaches our position; rebuilding from snapshots',
          );
          await this.resyncFromSnapshots(state, 'trimmed');
          continue;
        }
        this.onRewind(state, first.prevId); // the chain goes backwards
      }
      for (const e of entries) {
        const pending = this.applyEntry(state, e);
        if (pending) await pending;
      }
      if (entries.length < this.d.readBatch) return;
    }
  }

  /** Rebuild every node from its snapshot, then continue reading after the snapshots. */
  private async resyncFromSnapshots(state: ClusterState, cause: string): Promise<void> {
    const t0 = Date.now();
    const info = await this.d.bus.info();
    let nodes = 0;
    for await (const batch of this.d.bus.snapshots(this.d.readBatch)) {
      for (const s of batch) {
        const env = this.openEnvelope(s.envelope, { node: s.nodeIp });
        if (!env) continue;
        if (env.kind !== 'snapshot' || env.nodeIp !== s.nodeIp) continue;
        if (await this.applySnapshot(state, env, s.id)) nodes++;
      }
    }
    // every entry up to info.lastId is in the snapshot of its node (written in the same script)
    if (compareStreamIds(info.lastId, state.lastAppliedId) > 0) setPosition(state, info.lastId);
    state.view.resyncs++;
    this.d.metrics.resyncs.inc({ cause });
    this.d.log.info(
      {
        event: 'cluster:redis:resynced',
        cause,
        nodes,
        ms: Date.now() - t0,
        position: state.lastAppliedId,
      },
      'rebuilt nodes from their snapshots',
    );
  }

  /**
   * Apply one record entry in order. Synchronous when its delta is installed at once (the common
   * case); otherwise the promise to await before the next entry.
   */
  private applyEntry(state: ClusterState, entry: ClusterRecordEntry): Promise<void> | undefined {
    if (compareStreamIds(entry.id, state.lastAppliedId) <= 0) return undefined;
    setPosition(state, entry.id);
    const env = this.openEnvelope(entry.envelope, { id: entry.id });
    if (!env) return undefined;
    if (env.origin === this.d.origin) {
      raiseWatermark(state, env.nodeIp, entry.id);
      this.d.metrics.applied.inc({ result: 'own' });
      return undefined;
    }
    noteOrigin(state.view, env.origin, env.acceptedAtMs);
    if (env.kind === 'snapshot') return this.applySnapshot(state, env, entry.id).then(noop);
    const wm = state.watermark.get(env.nodeIp);
    if (wm !== undefined && compareStreamIds(entry.id, wm) <= 0) {
      this.d.metrics.applied.inc({ result: 'covered' });
      return undefined;
    }
    if (state.seqs.seenBefore(env.origin, env.seq)) {
      // the same entry again (re-published after a write that reported failure but was stored):
      // we hold what it says, so we reflect this id too — the node's snapshot key may name it,
      // and a catch-up before the node's next announcement waits until we reflect that id
      raiseWatermark(state, env.nodeIp, entry.id);
      this.d.metrics.applied.inc({ result: 'duplicate' });
      return undefined;
    }
    const applied = (): void => this.noteRemote(state, env.nodeIp, entry.id, env.acceptedAtMs);
    if (env.kind === 'delta' && this.d.sink.applyDelta) {
      const pending = this.applyDelta(env.ann, env.delta, env.nodeIp);
      if (pending) return pending.then(applied);
      applied();
      return undefined;
    }
    return this.applyRemote(env.ann, env.nodeIp).then(applied);
  }

  /** Apply a node's resetMsg then its kept announcements, unless we already reflect `id`. */
  private async applySnapshot(
    state: ClusterState,
    env: Extract<ClusterEnvelope, { kind: 'snapshot' }>,
    id: string,
  ): Promise<boolean> {
    const wm = state.watermark.get(env.nodeIp);
    if (wm !== undefined && compareStreamIds(id, wm) <= 0) {
      this.d.metrics.applied.inc({ result: 'covered' });
      return false;
    }
    if (env.origin === this.d.origin) {
      raiseWatermark(state, env.nodeIp, id);
      return false;
    }
    await this.applyRemote(env.resetMsg, env.nodeIp);
    for (const a of env.keptOldestFirst)
      if (!bytesEqual(a, env.resetMsg)) await this.applyRemote(a, env.nodeIp);
    this.noteRemote(state, env.nodeIp, id, undefined);
    return true;
  }

  /** Through the sink; a promise only when the sink answers with one. */
  private applyDelta(
    bytes: Uint8Array,
    delta: Uint8Array,
    nodeIp: string,
  ): Promise<void> | undefined {
    let result: DeltaResult | Promise<DeltaResult>;
    try {
      result = this.d.sink.applyDelta!(bytes, delta, nodeIp);
    } catch (e) {
      this.deltaFailed(nodeIp, e);
      return undefined;
    }
    if (result instanceof Promise)
      return result.then(
        (r) => this.d.metrics.deltas.inc({ result: r }),
        (e: unknown) => this.deltaFailed(nodeIp, e),
      );
    this.d.metrics.deltas.inc({ result });
    return undefined;
  }

  private deltaFailed(nodeIp: string, e: unknown): void {
    this.d.metrics.applied.inc({ result: 'failed' });
    this.d.log.error(
      { event: 'cluster:apply:failed', node: nodeIp, err: e },
      'the route server refused a cluster delta',
    );
  }

  private async applyRemote(bytes: Uint8Array, nodeIp: string): Promise<void> {
    try {
      await this.d.sink.applyRemote(bytes);
    } catch (e) {
      this.d.metrics.applied.inc({ result: 'failed' });
      this.d.log.error(
        { event: 'cluster:apply:failed', node: nodeIp, err: e },
        'the route server refused a cluster announcement',
      );
    }
  }

  /** `acceptedAtMs` undefined: a snapshot (its age is not a replication lag). */
  private noteRemote(
    state: ClusterState,
    nodeIp: string,
    id: string,
    acceptedAtMs: number | undefined,
  ): void {
    raiseWatermark(state, nodeIp, id);
    state.own.delete(nodeIp);
    state.view.appliedRemote++;
    this.d.metrics.applied.inc({ result: 'applied' });
    if (acceptedAtMs === undefined) return;
    const lag = Math.max(0, this.d.now() - acceptedAtMs);
    this.d.metrics.lag.observe(lag / 1000);
    addLagSample(state.view, lag);
  }
}
