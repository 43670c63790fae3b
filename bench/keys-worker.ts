/** Worker thread for bench/keys.ts: generates one chunk of fc keys. */
import { parentPort, workerData } from 'node:worker_threads';
import { generateChunk } from './keys.ts';

const { seed, chunk } = workerData as { seed: number; chunk: number };
parentPort!.postMessage(generateChunk(seed, chunk));
