/**
 * Regenerate `test/fixtures/mesh/keys.bin`: the private scalars (32 bytes each) of the first
 * 10,240 fc keys bench/keys.ts makes for seed 42. The map page's browser test builds its 10k-node
 * mesh from them (bench/keys.ts `keysFromScalars`) instead of searching for fc keys on every run.
 * `node --import tsx scripts/mesh-keys-fixture.ts`, then update test/fixtures/SHA256SUMS.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadKeys, scalarsOf } from '../bench/keys.ts';

const COUNT = 10_240;
const out = new URL('../test/fixtures/mesh/keys.bin', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, scalarsOf(await loadKeys(COUNT, 42, console.log)));
console.log(`wrote ${COUNT} keys to ${out.pathname}`);
