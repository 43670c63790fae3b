/**
 * The in-memory cluster bus: the embedded default (one process, nothing else to run) and a
 * stand-in for Redis in tests. A MemoryClusterHub plays Redis — the record, the snapshot keys and
 * the channel — and any number of MemoryClusterBus instances attach to it, one per simulated
 * process. The hub can be taken down, lose frames and trim its record, so every recovery path of
 * the cluster actor can be tested without a server.
 */
import { RsError } from '../errors.ts';
import {
  STREAM_ID_ZERO,
  compareStreamIds,
  type ClusterFrame,
} from '../protocol/cluster-envelope.ts';
import type {
  ClusterAppend,
  ClusterBus,
  ClusterBusEvents,
  ClusterRecordEntry,
  ClusterRecordInfo,
  ClusterSnapshotEntry,
} from './bus.ts';

export class MemoryClusterHub {
  private readonly entries: ClusterRecordEntry[] = [];
  private readonly snapshotsByNode = new Map<string, ClusterSnapshotEntry>();
  private readonly members = new Set<MemoryClusterBus>();
  private counter = 0;
  private lastId = STREAM_ID_ZERO;
  private everTrimmed = false;
  private dropBudget = 0;
  private up = true;
  private refusal: string | undefined;

  constructor(private readonly maxLen = Number.MAX_SAFE_INTEGER) {}

  get available(): boolean {
    return this.up;
  }

  /** Simulate Redis going away (true → false) or coming back (false → true). */
  setAvailable(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    for (const m of this.members) m.hubChanged(up);
  }

  /** The next `n` frames are not delivered to anybody (pub/sub is at-most-once). */
  dropNextFrames(n: number): void {
    this.dropBudget += n;
  }

  /** Refuse every append with this error message (like Redis at maxmemory: `OOM …`), or accept again (undefined). */
  refuseWrites(message: string | undefined): void {
    this.refusal = message;
  }

  /** Keep only the newest `keep` entries. */
  trim(keep: number): void {
    if (this.entries.length > keep) {
      this.entries.splice(0, this.entries.length - keep);
      this.everTrimmed = true;
    }
  }

  /** A copy of the record and the snapshots as they are now (what a lagging replica holds). */
  checkpoint(): {
    readonly entries: ClusterRecordEntry[];
    readonly snapshots: Map<string, ClusterSnapshotEntry>;
    readonly lastId: string;
    readonly trimmed: boolean;
  } {
    return {
      entries: [...this.entries],
      snapshots: new Map(this.snapshotsByNode),
      lastId: this.lastId,
      trimmed: this.everTrimmed,
    };
  }

  /** Go back to a checkpoint (a replica promoted without the newest writes); ids keep growing. */
  restore(c: ReturnType<MemoryClusterHub['checkpoint']>): void {
    this.entries.splice(0, this.entries.length, ...c.entries);
    this.snapshotsByNode.clear();
    for (const [k, v] of c.snapshots) this.snapshotsByNode.set(k, v);
    this.lastId = c.lastId;
    this.everTrimmed = c.trimmed;
  }

  /** Forget everything (a Redis restarted without persistence). */
  wipe(): void {
    this.entries.length = 0;
    this.snapshotsByNode.clear();
    this.lastId = STREAM_ID_ZERO;
    this.everTrimmed = false;
  }

  get length(): number {
    return this.entries.length;
  }

  /** @internal */
  attach(m: MemoryClusterBus): void {
    this.members.add(m);
  }
  /** @internal */
  detach(m: MemoryClusterBus): void {
    this.members.delete(m);
  }

  /** @internal */
  append(input: ClusterAppend): string {
    this.assertUp();
    if (this.refusal !== undefined) throw new Error(this.refusal);
    // ids grow like Redis' `*` ids; the counter keeps them unique and ordered
    const id = `${++this.counter}-0`;
    const frame: ClusterFrame = { id, prevId: this.lastId, envelope: input.envelope };
    this.lastId = id;
    this.entries.push(frame);
    if (this.entries.length > this.maxLen) this.trim(this.maxLen);
    const held = this.snapshotsByNode.get(input.nodeIp)?.id;
    const allowed =
      !input.snapshotIf ||
      held === undefined ||
      compareStreamIds(held, input.snapshotIf.upTo ?? STREAM_ID_ZERO) <= 0;
    if (input.snapshot && allowed)
      this.snapshotsByNode.set(input.nodeIp, {
        nodeIp: input.nodeIp,
        id,
        envelope: input.snapshot,
      });
    if (this.dropBudget > 0) {
      this.dropBudget--;
    } else {
      for (const m of this.members) m.deliver(frame);
    }
    return id;
  }

  /** @internal */
  readAfter(afterId: string, count: number): ClusterRecordEntry[] {
    this.assertUp();
    const out: ClusterRecordEntry[] = [];
    for (const e of this.entries) {
      if (compareStreamIds(e.id, afterId) > 0) {
        out.push(e);
        if (out.length >= count) break;
      }
    }
    return out;
  }

  /** @internal */
  info(): ClusterRecordInfo {
    this.assertUp();
    return { lastId: this.lastId, length: this.entries.length, trimmed: this.everTrimmed };
  }

  /** @internal */
  snapshotId(nodeIp: string): string | undefined {
    this.assertUp();
    return this.snapshotsByNode.get(nodeIp)?.id;
  }

  /** @internal */
  snapshotList(): ClusterSnapshotEntry[] {
    this.assertUp();
    return [...this.snapshotsByNode.values()];
  }

  private assertUp(): void {
    if (!this.up) throw new Error('memory cluster hub is unavailable');
  }
}

/** One process's view of a MemoryClusterHub (by default a private hub: the embedded bus). */
export class MemoryClusterBus implements ClusterBus {
  readonly kind = 'memory' as const;
  private events: ClusterBusEvents | undefined;
  private closed = false;
  /** this process's own connection (the hub may be up while it is down) */
  private linkUp = true;

  constructor(readonly hub: MemoryClusterHub = new MemoryClusterHub()) {}

  async start(events: ClusterBusEvents): Promise<void> {
    this.events = events;
    this.hub.attach(this);
    if (this.hub.available) setImmediate(() => this.events?.up());
    else setImmediate(() => this.events?.down('memory hub unavailable'));
  }

  connected(): boolean {
    return !this.closed && this.linkUp && this.hub.available;
  }

  /** Simulate this process losing (false) or regaining (true) its connection while the hub stays up. */
  setLink(up: boolean): void {
    if (this.linkUp === up) return;
    this.linkUp = up;
    this.hubChanged(up && this.hub.available);
  }

  async append(input: ClusterAppend): Promise<string> {
    this.assertOpen();
    return this.hub.append(input);
  }

  async readAfter(afterId: string, count: number): Promise<ClusterRecordEntry[]> {
    this.assertOpen();
    return this.hub.readAfter(afterId, count);
  }

  async info(): Promise<ClusterRecordInfo> {
    this.assertOpen();
    return this.hub.info();
  }

  async snapshotId(nodeIp: string): Promise<string | undefined> {
    this.assertOpen();
    return this.hub.snapshotId(nodeIp);
  }

  async *snapshots(batchSize: number): AsyncIterable<ClusterSnapshotEntry[]> {
    this.assertOpen();
    const all = this.hub.snapshotList();
    for (let i = 0; i < all.length; i += batchSize) yield all.slice(i, i + batchSize);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.hub.detach(this);
    this.events = undefined;
  }

  /** @internal delivered asynchronously, as pub/sub is */
  deliver(frame: ClusterFrame): void {
    if (!this.linkUp) return; // a subscriber that is not connected misses it
    setImmediate(() => {
      if (!this.closed && this.linkUp && this.hub.available) this.events?.frame(frame);
    });
  }

  /** @internal */
  hubChanged(up: boolean): void {
    setImmediate(() => {
      if (this.closed || (up && !this.linkUp)) return;
      if (up) this.events?.up();
      else this.events?.down('memory hub unavailable');
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new RsError('RS_ERR_INTERNAL', 'the cluster bus is closed');
    if (!this.linkUp) throw new Error('connection to the memory cluster hub is down');
  }
}
