/**
 * Worker thread holding one tree replica's graph (ReplicaModel). The main thread sends node
 * updates and build requests; a build — incremental, or a full rebuild of every row — runs
 * here, off the main thread, and the snapshot comes back in SharedArrayBuffers (no copy).
 *
 * Messages in:  {op: 'apply', packed: PackedUpdates (transferred)} | {op: 'build', id} | {op: 'clear'} | {op: 'full'} |
 *               {op: 'hold', gate: Int32Array}  (instrumentation: the next build waits until
 *               the main thread stores a non-zero value in gate[0] and notifies it)
 * Messages out: {op: 'built', id, snapshot} | {op: 'building', id} | {op: 'failed', id, message}
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { threadCpuMs } from '../lib/thread-cpu.ts';
import { lowerThreadPriority } from '../lib/thread-priority.ts';
import { unpackUpdates, type PackedUpdates } from './node-update.ts';
import { ReplicaModel, type ReplicaModelOptions } from './replica-model.ts';

export type ReplicaWorkerRequest =
  | { readonly op: 'apply'; readonly packed: PackedUpdates }
  | { readonly op: 'build'; readonly id: number }
  | { readonly op: 'clear' }
  | { readonly op: 'full' }
  | { readonly op: 'hold'; readonly gate: Int32Array }
  | { readonly op: 'heap' };

const port = parentPort;
if (port) {
  const data = workerData as { model?: ReplicaModelOptions; nice?: number } | null;
  // routing.replicaNice: a query on the main thread first when every core is busy
  lowerThreadPriority(data?.nice ?? 0);
  const model = new ReplicaModel(data?.model);
  let gate: Int32Array | undefined;
  port.on('message', (msg: ReplicaWorkerRequest) => {
    switch (msg.op) {
      case 'apply':
        model.applyAll(unpackUpdates(msg.packed));
        break;
      case 'clear':
        model.clear();
        break;
      case 'full':
        model.requestFullRebuild();
        break;
      case 'hold':
        gate = msg.gate;
        break;
      case 'heap':
        port.postMessage({ op: 'heap', heap: getHeapStatistics() });
        break;
      case 'build':
        try {
          port.postMessage({ op: 'building', id: msg.id });
          if (gate) {
            Atomics.wait(gate, 0, 0);
            gate = undefined;
          }
          const cpu0 = threadCpuMs();
          const built = model.build(() => performance.now());
          const cpu1 = threadCpuMs();
          const snapshot =
            cpu0 === undefined || cpu1 === undefined
              ? built
              : { ...built, stats: { ...built.stats, cpuMs: cpu1 - cpu0 } };
          port.postMessage({ op: 'built', id: msg.id, snapshot });
          model.tidy();
        } catch (e) {
          port.postMessage({
            op: 'failed',
            id: msg.id,
            message: e instanceof Error ? e.message : String(e),
          });
        }
        break;
    }
  });
}
