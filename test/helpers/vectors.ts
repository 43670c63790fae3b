import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Locate ../shared (beside the repo) or $SNODE_SHARED_DIR. Fails loudly: vectors are mandatory. */
export function sharedDir(): string {
  const candidates = [
    process.env.SNODE_SHARED_DIR,
    resolve(here, '../../../shared'),
    resolve(here, '../../shared'),
  ].filter((x): x is string => typeof x === 'string');
  for (const c of candidates) if (existsSync(join(c, 'vectors'))) return c;
  throw new Error(`shared vectors not found (looked in ${candidates.join(', ')}); set SNODE_SHARED_DIR`);
}

export interface VectorFile<V> {
  kind: string;
  description: string;
  vectors: V[];
  [k: string]: unknown;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadVectors<V = any>(name: string): VectorFile<V> {
  return JSON.parse(readFileSync(join(sharedDir(), 'vectors', name), 'utf8')) as VectorFile<V>;
}

/** Vectors of one `op`; throws if there are none (a filter that matches nothing is a bug). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function vectorsOf<V = any>(file: string, op: string): V[] {
  const all = loadVectors<V & { op?: string }>(file).vectors.filter((v) => v.op === op);
  if (all.length === 0) throw new Error(`no vectors with op ${op} in ${file}`);
  return all as V[];
}

export function captureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(sharedDir(), 'captures', name)));
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
