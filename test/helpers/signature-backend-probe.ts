/** A worker module (test/unit/lib/spawn-worker.test.ts): says which library verifies in its thread. */
import { parentPort } from 'node:worker_threads';
import { signatureBackend, verifyWithLibsodium } from '../../src/protocol/signature.ts';

// a call through the addon from this thread: 64 zero bytes never verify, but the call must return
parentPort?.postMessage({
  backend: signatureBackend,
  called: verifyWithLibsodium(new Uint8Array(1), new Uint8Array(64), new Uint8Array(32).fill(9)),
});
