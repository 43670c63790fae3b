/**
 * Worker thread of the verification pool: parses and verifies batches of announcements
 * (ed25519 through Node's native crypto, with this thread's own cache of imported keys — the
 * pool sends every key to the same worker, so each key is imported once).
 *
 * What comes back per message, in batch order, is the verdict: the parse error's code and exact
 * JS message, or "verified" with the identity derived from the signing key. The parsed object
 * graph itself does not cross back: copying it between threads (structured clone) cost about
 * four times what re-reading the verified bytes costs on the main thread (which then skips the
 * signature and the key conversion: see verify-pool.ts).
 *
 * In:  {id, buf: Uint8Array, ends: Int32Array, verify: boolean} — the batch's messages packed
 *      back to back (message i is buf[ends[i-1] .. ends[i]))
 * Out: {id, results: ({id: [nodeKey, nodePubKey, nodeIp]} | {code, message})[]}
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { isRsError } from '../errors.ts';
import { parseAnnouncement } from '../protocol/announcement.ts';

export interface VerifyBatch {
  readonly id: number;
  readonly buf: Uint8Array;
  readonly ends: Int32Array;
  readonly verify: boolean;
}

export type VerifyResult =
  | { readonly id: readonly [nodeKey: Uint8Array, nodePubKey: string, nodeIp: string] }
  | { readonly code: string; readonly message: string };

const port = parentPort;
if (port) {
  port.on('message', (batch: VerifyBatch | { op: 'heap' }) => {
    if ('op' in batch) {
      port.postMessage({ op: 'heap', heap: getHeapStatistics() });
      return;
    }
    const results: VerifyResult[] = new Array<VerifyResult>(batch.ends.length);
    let start = 0;
    for (let i = 0; i < batch.ends.length; i++) {
      const end = batch.ends[i]!;
      const bytes = batch.buf.subarray(start, end);
      start = end;
      try {
        const ann = parseAnnouncement(bytes, {
          verifySignature: batch.verify,
          packedLinkStates: true,
        });
        results[i] = { id: [ann.nodeKey, ann.nodePubKey, ann.nodeIp] };
      } catch (e) {
        if (!isRsError(e))
          results[i] = {
            code: 'RS_ERR_INTERNAL',
            message: e instanceof Error ? e.message : String(e),
          };
        else results[i] = { code: e.code, message: e.message };
      }
    }
    port.postMessage({ id: batch.id, results });
  });
}
