/**
 * Worker thread of the verification pool: checks batches of announcements up to their entities
 * — length, ed25519 signature (libsodium, protocol/signature.ts), key conversion (this thread's
 * own cache of derived identities: the pool sends every key to the same worker, so each key is
 * converted once), fc prefixes — in `parseAnnouncement`'s order and with its errors. The entities
 * are parsed once, by the main thread that applies the announcement (a parse error there comes
 * after every error checked here, as in the one-thread parse).
 *
 * What comes back per message, in batch order: the error's code and exact JS message; or
 * "verified" with the identity derived from the signing key the first time this worker verifies
 * that key (the main thread keeps it in its own cache), `null` after that. Parsed objects never
 * cross back: a structured clone of them cost about four times what re-reading the verified
 * bytes costs on the main thread.
 *
 * In:  {id, buf: Uint8Array, ends: Int32Array, verify: boolean, priority: {nice, idle}} — the
 *      batch's messages packed back to back (message i is buf[ends[i-1] .. ends[i])), and the
 *      priority this thread runs at (applied before the batch when it changed)
 * Out: {id, results: (null | {id: [nodeKey, nodePubKey, nodeIp]} | {code, message})[]}; and,
 *      once each: {op: 'tid', tid} at start (the pool's watchdog reads the thread's run-queue
 *      wait), {op: 'idle', outcome} when SCHED_IDLE was asked for
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { RsError } from '../errors.ts';
import {
  currentThreadId,
  lowerThreadPriority,
  useIdlePolicy,
  type ThreadPriority,
} from '../lib/thread-priority.ts';
import { checkAnnouncementHeaders, type DerivedNodeIdentity } from '../protocol/announcement.ts';

export interface VerifyBatch {
  readonly id: number;
  readonly buf: Uint8Array;
  readonly ends: Int32Array;
  readonly verify: boolean;
  /**
   * this thread's priority (routing.verifyWorkerNice, routing.verifyWorkerSchedIdle): queries
   * on the main thread first
   */
  readonly priority: ThreadPriority;
}

export type VerifyResult =
  | null
  | { readonly id: readonly [nodeKey: Uint8Array, nodePubKey: string, nodeIp: string] }
  | { readonly code: string; readonly message: string };

/**
 * Identities this worker has sent: the objects of the derived-identity cache (one per key,
 * stable while cached). Weak: an identity the cache drops leaves this set with it, and its key
 * is simply sent again the next time.
 */
const told = new WeakSet<DerivedNodeIdentity>();

const port = parentPort;
/** the nice value last asked for (applied, or refused: lowering it back needs a privilege) */
let nice = 0;
/** SCHED_IDLE was asked for (once: the policy cannot be left without a privilege) */
let idle = false;
if (port) {
  port.postMessage({ op: 'tid', tid: currentThreadId() });
  port.on('message', (batch: VerifyBatch | { op: 'heap' | 'hang' }) => {
    if ('op' in batch) {
      if (batch.op === 'hang') for (;;); // instrumentation (tests): hung until stopped
      port.postMessage({ op: 'heap', heap: getHeapStatistics() });
      return;
    }
    if (batch.priority.nice !== nice) {
      nice = batch.priority.nice;
      lowerThreadPriority(nice);
    }
    if (batch.priority.idle && !idle) {
      idle = true;
      // chrt runs beside the batch (a few ms); this thread verifies at its nice value meanwhile
      void useIdlePolicy().then((outcome) => port.postMessage({ op: 'idle', outcome }));
    }
    const messages: Uint8Array[] = new Array<Uint8Array>(batch.ends.length);
    let start = 0;
    for (let i = 0; i < batch.ends.length; i++) {
      const end = batch.ends[i]!;
      messages[i] = batch.buf.subarray(start, end);
      start = end;
    }
    // the batch's new keys are converted together (one field inversion for the batch)
    let checked: Array<DerivedNodeIdentity | RsError>;
    try {
      checked = checkAnnouncementHeaders(messages, batch.verify);
    } catch (e) {
      const internal = new RsError('RS_ERR_INTERNAL', e instanceof Error ? e.message : String(e));
      checked = messages.map(() => internal);
    }
    const results: VerifyResult[] = new Array<VerifyResult>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const node = checked[i]!;
      if (node instanceof RsError) {
        results[i] = { code: node.code, message: node.message };
      } else if (told.has(node)) {
        results[i] = null;
      } else {
        told.add(node);
        // the key is a view into a slab: send a copy of its 32 bytes, not the slab
        results[i] = { id: [node.nodeKey.slice(), node.nodePubKey, node.nodeIp] };
      }
    }
    port.postMessage({ id: batch.id, results });
  });
}
