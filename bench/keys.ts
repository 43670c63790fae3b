/**
 * cjdns identities for the benchmarks: private keys whose address starts with `fc`, made
 * deterministically from a seed and cached on disk (`bench/.cache/`, gitignored).
 *
 * Only 1 key in 256 gives an fc address, so 100k nodes need ~25M candidates. Instead of a full
 * scalar multiplication per candidate, a chunk walks a = a0, a0 + 8, a0 + 16, … (every value
 * stays a clamped curve25519 scalar: multiple of 8, bit 254 set) and the points A = a·B by one
 * point addition of 8B each, in extended coordinates; the curve25519 key u = (Z+Y)/(Z−Y) of a
 * batch shares one inversion (Montgomery's trick); address = sha512²(u)[0..16]. About 7 µs per
 * candidate; chunks run in worker threads.
 *
 * A key is stored as: private scalar (32 bytes LE; cjdns' curve25519 private key, already
 * clamped), ed25519 signing key A (32), IPv6 (16).
 */
import { hash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Point } from '@noble/ed25519';
import { edToCurve, ip6FromPublicKey } from '../src/protocol/keys.ts';

export interface BenchKey {
  /** curve25519 private key = the clamped ed25519 scalar, 32 bytes little endian */
  readonly priv: Uint8Array;
  /** ed25519 public signing key (announcement bytes 64..96) */
  readonly edPub: Uint8Array;
  /** 16-byte cjdns address */
  readonly ip: Uint8Array;
}

const KEY_RECORD_BYTES = 80;
export const KEYS_PER_CHUNK = 1024;
const here = dirname(fileURLToPath(import.meta.url));
export const CACHE_DIR = join(here, '.cache');

// ---- field and curve arithmetic (bigint; bench-only, not constant time) ----------------------

const P = 2n ** 255n - 19n;
const mod = (a: bigint): bigint => {
  const r = a % P;
  return r < 0n ? r + P : r;
};
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}
const inv = (a: bigint): bigint => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
const D2 = (2n * D) % P;

type Ext = readonly [bigint, bigint, bigint, bigint];

function recoverX(y: bigint): bigint {
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  let x = pow((u * inv(v)) % P, (P + 3n) / 8n);
  if (mod(x * x * v - u) !== 0n) x = (x * pow(2n, (P - 1n) / 4n)) % P;
  if (x & 1n) x = P - x;
  return x;
}

const BY = (4n * inv(5n)) % P;
const BX = recoverX(BY);
const BASE: Ext = [BX, BY, 1n, (BX * BY) % P];

function add(p: Ext, q: Ext): Ext {
  const [X1, Y1, Z1, T1] = p;
  const [X2, Y2, Z2, T2] = q;
  const A = mod((Y1 - X1) * (Y2 - X2));
  const B = mod((Y1 + X1) * (Y2 + X2));
  const C = (((T1 * D2) % P) * T2) % P;
  const DD = (2n * Z1 * Z2) % P;
  const E = mod(B - A);
  const F = mod(DD - C);
  const G = (DD + C) % P;
  const H = (B + A) % P;
  return [(E * F) % P, (G * H) % P, (F * G) % P, (E * H) % P];
}

function mul(k: bigint, pt: Ext): Ext {
  let r: Ext = [0n, 1n, 1n, 0n];
  let a = pt;
  while (k > 0n) {
    if (k & 1n) r = add(r, a);
    a = add(a, a);
    k >>= 1n;
  }
  return r;
}

function toLe32(n: bigint): Uint8Array {
  const hex = n.toString(16).padStart(64, '0');
  return new Uint8Array(Buffer.from(hex, 'hex').reverse());
}

function leToBig(b: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(b).reverse().toString('hex'));
}

/** Encode an extended point (ed25519 compressed form). */
function encode(p: Ext): Uint8Array {
  const zi = inv(p[2]);
  const x = (p[0] * zi) % P;
  const y = (p[1] * zi) % P;
  const out = toLe32(y);
  if (x & 1n) out[31] = out[31]! | 0x80;
  return out;
}

/** The fc keys of chunk `chunk` for `seed` (KEYS_PER_CHUNK of them). */
export function generateChunk(seed: number, chunk: number): Uint8Array {
  const h = hash('sha512', `snode-bench-keys/${seed}/${chunk}`, 'buffer');
  // clamped: multiple of 8, bit 254 set, below 2^255 with room for 2^40 steps of 8
  let a = (leToBig(h.subarray(0, 32)) & ((1n << 250n) - 8n)) | (1n << 254n);
  const B8 = mul(8n, BASE);
  const zi = inv(B8[2]);
  const qx = (B8[0] * zi) % P;
  const qy = (B8[1] * zi) % P;
  const Q: Ext = [qx, qy, 1n, (qx * qy) % P];
  let cur = mul(a, BASE);
  const out = new Uint8Array(KEYS_PER_CHUNK * KEY_RECORD_BYTES);
  let found = 0;
  const K = 512;
  const pts: Ext[] = new Array<Ext>(K);
  const den: bigint[] = new Array<bigint>(K);
  const pref: bigint[] = new Array<bigint>(K);
  while (found < KEYS_PER_CHUNK) {
    for (let i = 0; i < K; i++) {
      pts[i] = cur;
      cur = add(cur, Q);
    }
    let acc = 1n;
    for (let i = 0; i < K; i++) {
      den[i] = mod(pts[i]![2] - pts[i]![1]);
      pref[i] = acc;
      acc = (acc * den[i]!) % P;
    }
    let ia = inv(acc);
    const hits: number[] = [];
    const us: bigint[] = new Array<bigint>(K);
    for (let i = K - 1; i >= 0; i--) {
      const di = (ia * pref[i]!) % P;
      ia = (ia * den[i]!) % P;
      us[i] = (((pts[i]![2] + pts[i]![1]) % P) * di) % P;
    }
    for (let i = 0; i < K; i++) {
      const ipb = hash('sha512', hash('sha512', toLe32(us[i]!), 'buffer'), 'buffer');
      if (ipb[0] === 0xfc) hits.push(i);
    }
    for (const i of hits) {
      if (found >= KEYS_PER_CHUNK) break;
      const scalar = a + 8n * BigInt(i);
      const u = toLe32(us[i]!);
      const ip = hash('sha512', hash('sha512', u, 'buffer'), 'buffer').subarray(0, 16);
      const rec = out.subarray(found * KEY_RECORD_BYTES, (found + 1) * KEY_RECORD_BYTES);
      rec.set(toLe32(scalar), 0);
      rec.set(encode(pts[i]!), 32);
      rec.set(ip, 64);
      found++;
    }
    a += 8n * BigInt(K);
  }
  return out;
}

function decode(buf: Uint8Array, count: number): BenchKey[] {
  const keys: BenchKey[] = [];
  for (let i = 0; i < count; i++) {
    const r = buf.subarray(i * KEY_RECORD_BYTES, (i + 1) * KEY_RECORD_BYTES);
    keys.push({ priv: r.slice(0, 32), edPub: r.slice(32, 64), ip: r.slice(64, 80) });
  }
  return keys;
}

/** `count` keys for `seed`, from the cache, generating (in worker threads) what is missing. */
export async function loadKeys(
  count: number,
  seed: number,
  log: (s: string) => void = () => undefined,
): Promise<BenchKey[]> {
  const chunks = Math.ceil(count / KEYS_PER_CHUNK);
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = (c: number): string => join(CACHE_DIR, `keys-${seed}-${c}.bin`);
  const missing: number[] = [];
  for (let c = 0; c < chunks; c++) if (!existsSync(file(c))) missing.push(c);
  if (missing.length > 0) {
    const t0 = Date.now();
    log(`generating ${missing.length * KEYS_PER_CHUNK} fc keys (cached in bench/.cache, once)…`);
    const threads = Math.max(1, Math.min(cpus().length, missing.length));
    const queue = [...missing];
    await Promise.all(
      Array.from({ length: threads }, async () => {
        for (let c = queue.shift(); c !== undefined; c = queue.shift())
          writeFileSync(file(c), await chunkInWorker(seed, c));
      }),
    );
    log(`  … ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const all: BenchKey[] = [];
  for (let c = 0; c < chunks; c++)
    all.push(...decode(new Uint8Array(readFileSync(file(c))), KEYS_PER_CHUNK));
  return all.slice(0, count);
}

function chunkInWorker(seed: number, chunk: number): Promise<Uint8Array> {
  const entry = new URL('../src/lib/worker-entry.mjs', import.meta.url);
  const module = pathToFileURL(join(here, 'keys-worker.ts')).href;
  return new Promise((resolve, reject) => {
    const w = new Worker(entry, { workerData: { module, seed, chunk } });
    w.once('message', (buf: Uint8Array) => {
      resolve(buf);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

const ED_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

/** The keys' private scalars, 32 bytes each (what `keysFromScalars` reads back). */
export function scalarsOf(keys: readonly BenchKey[]): Uint8Array {
  const out = new Uint8Array(keys.length * 32);
  keys.forEach((k, i) => out.set(k.priv, i * 32));
  return out;
}

/**
 * Keys from their private scalars (32 bytes each): the signing key and the address are derived
 * (one scalar multiplication each, ~0.2 ms) instead of searched for — a stored list of fc keys
 * loads 10k nodes' identities in about two seconds (the search takes minutes on 2 cores).
 */
export function keysFromScalars(bytes: Uint8Array): BenchKey[] {
  if (bytes.length % 32 !== 0) throw new RangeError('scalars come in 32-byte records');
  const keys: BenchKey[] = [];
  for (let o = 0; o < bytes.length; o += 32) {
    const priv = bytes.slice(o, o + 32);
    const edPub = Point.BASE.multiply(leToBig(priv) % ED_ORDER).toBytes();
    const ip = ip6FromPublicKey(edToCurve(edPub));
    if (ip[0] !== 0xfc) throw new RangeError(`scalar ${o / 32} does not give an fc address`);
    keys.push({ priv, edPub, ip });
  }
  return keys;
}
