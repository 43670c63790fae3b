import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The repository's own copy of the cjdns test vectors and captured frames (test/fixtures, byte
 * for byte as produced by the cjdns implementations; provenance and checksums in
 * test/fixtures/README.md and SHA256SUMS). Fails loudly: the fixtures are mandatory.
 */
export function fixturesDir(): string {
  const dir = resolve(here, '../fixtures');
  if (!existsSync(join(dir, 'vectors'))) throw new Error(`test fixtures not found in ${dir}`);
  return dir;
}

export interface VectorFile<V> {
  kind: string;
  description: string;
  vectors: V[];
  [k: string]: unknown;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadVectors<V = any>(name: string): VectorFile<V> {
  return JSON.parse(readFileSync(join(fixturesDir(), 'vectors', name), 'utf8')) as VectorFile<V>;
}

/** Vectors of one `op`; throws if there are none (a filter that matches nothing is a bug). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function vectorsOf<V = any>(file: string, op: string): V[] {
  const all = loadVectors<V & { op?: string }>(file).vectors.filter((v) => v.op === op);
  if (all.length === 0) throw new Error(`no vectors with op ${op} in ${file}`);
  return all as V[];
}

export function captureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(fixturesDir(), 'captures', name)));
}

/** Turn `{hex: "..."}` objects (the vectors' notation for byte strings) into Uint8Arrays. */
export function fromVectorValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fromVectorValue);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'hex' && typeof o.hex === 'string') {
      return new Uint8Array(Buffer.from(o.hex, 'hex'));
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = fromVectorValue(o[k]);
    return out;
  }
  return v;
}
