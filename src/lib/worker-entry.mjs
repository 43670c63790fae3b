// Entry point of every worker thread: the sources are TypeScript, loaded through tsx's ESM
// loader (as bin/snode.js does for the main thread), then the module named in workerData runs.
// Plain JavaScript on purpose: it must load before any TypeScript can.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
