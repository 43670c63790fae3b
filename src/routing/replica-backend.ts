/**
 * Where a tree replica keeps its graph and builds snapshots: in this thread (tests, small
 * graphs), or in its own worker thread (production: a full rebuild of a 100k-node graph never
 * blocks the event loop). Same ReplicaModel either way; the tree-replica actor only sees this
 * interface.
 */
import type { Worker } from 'node:worker_threads';
import { RsError } from '../errors.ts';
import { packedOf, updatesOf, type UpdateBatch } from './node-update.ts';
import { ReplicaModel, type ReplicaModelOptions } from './replica-model.ts';
import type { SnapshotData } from './snapshot-data.ts';
import { spawnWorker } from '../lib/spawn-worker.ts';

export interface ReplicaBackend {
  apply(updates: UpdateBatch): void;
  build(): Promise<SnapshotData>;
  /** forget everything (before a full reload) */
  clear(): void;
  /** make the next build recompute every row (benchmarks, and after a reload) */
  requestFullRebuild(): void;
  close(): Promise<void>;
  /** instrumentation: true while a build has started and not finished */
  readonly building: boolean;
  /** V8 heap of the thread holding the graph (diagnostics) */
  heapUsed(): Promise<number>;
}

export type ReplicaBackendKind = 'thread' | 'worker';

/** Instrumentation hooks (tests): a gate every build waits for, and a build-started signal. */
export interface ReplicaInstrumentation {
  /** model tuning (tests force the incremental path with fullRebuildFraction: 1) */
  model?: ReplicaModelOptions;
  /** resolves when the build may proceed (in-thread backend) */
  gate?: () => Promise<void>;
  /** called when a build starts (in the worker: when the worker reports it) */
  onBuildStarted?: () => void;
}

export class InThreadReplica implements ReplicaBackend {
  private readonly model: ReplicaModel;
  building = false;

  constructor(private readonly instr: ReplicaInstrumentation = {}) {
    this.model = new ReplicaModel(instr.model);
  }

  apply(updates: UpdateBatch): void {
    // a worker gets its own copy of every update; so does an in-thread model (it sorts the
    // link triples of its entries in place)
    for (const u of updatesOf(updates)) this.model.apply({ ...u, links: u.links.slice() });
  }

  async build(): Promise<SnapshotData> {
    this.building = true;
    try {
      this.instr.onBuildStarted?.();
      if (this.instr.gate) await this.instr.gate();
      return this.model.build(() => performance.now());
    } finally {
      this.building = false;
    }
  }

  clear(): void {
    this.model.clear();
  }

  requestFullRebuild(): void {
    this.model.requestFullRebuild();
  }

  async close(): Promise<void> {}

  async heapUsed(): Promise<number> {
    return 0; // shares the main thread's heap
  }
}

export class WorkerReplica implements ReplicaBackend {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (s: SnapshotData) => void; reject: (e: Error) => void }
  >();
  private failed: Error | undefined;
  private readonly heapWaiters: ((n: number) => void)[] = [];
  building = false;

  constructor(
    name: string,
    private readonly instr: ReplicaInstrumentation = {},
    /** the worker thread's nice value (routing.replicaNice; 0 = the main thread's priority) */
    nice = 0,
  ) {
    this.worker = spawnWorker(
      new URL('./replica-worker.ts', import.meta.url),
      { model: instr.model ?? {}, nice },
      name,
    );
    this.worker.unref();
    this.worker.on(
      'message',
      (m: {
        op: string;
        id: number;
        snapshot?: SnapshotData;
        message?: string;
        heap?: { used_heap_size: number };
      }) => {
        if (m.op === 'heap') {
          for (const w of this.heapWaiters.splice(0)) w(m.heap!.used_heap_size);
          return;
        }
        if (m.op === 'building') {
          this.instr.onBuildStarted?.();
          return;
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) this.worker.unref();
        this.building = this.pending.size > 0;
        if (m.op === 'built') p.resolve(m.snapshot!);
        else p.reject(new RsError('RS_ERR_WORKER_FAILED', `replica build failed: ${m.message}`));
      },
    );
    const fail = (e: Error): void => {
      this.failed = new RsError(
        'RS_ERR_WORKER_FAILED',
        `replica worker ${name} died: ${e.message}`,
        { cause: e },
      );
      for (const p of this.pending.values()) p.reject(this.failed);
      this.pending.clear();
      this.building = false;
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (!this.failed) fail(new Error(`exit ${code}`));
    });
  }

  apply(updates: UpdateBatch): void {
    if (this.failed) throw this.failed;
    const packed = packedOf(updates);
    this.worker.postMessage({ op: 'apply', packed }, [
      packed.meta.buffer as ArrayBuffer,
      packed.links.buffer as ArrayBuffer,
    ]);
  }

  build(): Promise<SnapshotData> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    this.building = true;
    this.worker.ref(); // keep the process alive until the snapshot is back
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ op: 'build', id });
    });
  }

  /** Instrumentation: the next build waits in the worker until `release()` is called. */
  hold(): { release(): void } {
    const gate = new Int32Array(new SharedArrayBuffer(4));
    this.worker.postMessage({ op: 'hold', gate });
    return {
      release: () => {
        Atomics.store(gate, 0, 1);
        Atomics.notify(gate, 0);
      },
    };
  }

  clear(): void {
    if (this.failed) throw this.failed;
    this.worker.postMessage({ op: 'clear' });
  }

  requestFullRebuild(): void {
    if (this.failed) throw this.failed;
    this.worker.postMessage({ op: 'full' });
  }

  async close(): Promise<void> {
    this.failed ??= new RsError('RS_ERR_WORKER_FAILED', 'replica worker closed');
    await this.worker.terminate();
  }

  heapUsed(): Promise<number> {
    if (this.failed) return Promise.resolve(0);
    return new Promise((resolve) => {
      this.heapWaiters.push(resolve);
      this.worker.postMessage({ op: 'heap' });
    });
  }

  /** Instrumentation: make the worker die (tests of supervision). */
  async crashForTest(): Promise<void> {
    await this.worker.terminate();
  }
}
