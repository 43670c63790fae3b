/**
 * Announcement messages (docs/protocol.md §1): a 120-byte signed header followed by entities.
 *
 * ```
 *  0                 64               96            112            120
 * +------------------+----------------+-------------+--------------+------------
 * | signature (R‖S)  | pubSigningKey  | snodeIp     | timestamp,   | entities …
 * | ed25519, 64      | ed25519, 32    | cjdns IPv6  | reset, ver   | (entity.ts)
 * +------------------+----------------+-------------+--------------+------------
 * ```
 * The signature covers bytes 64..end. Bytes 112..119 are one u64 BE `w`:
 * `timestamp = w >> 4` (ms), `isReset = (w >> 3) & 1`, `version = w & 7`.
 * The announcer's curve25519 key is derived from `pubSigningKey`, its address from that key.
 *
 * Parse order and error strings are those of JS `cjdnsann.parse`: `runt`,
 * `signature verification failed`, `node starting with non fc addr`,
 * `snode starting with non fc addr`, then the entity errors.
 */
import { hash } from 'node:crypto';
import { RsError } from '../errors.ts';
import { ByteSlab } from '../lib/byte-slab.ts';
import type { Announcement } from './announcement-types.ts';
import { entityToJson, serializeEntities, type EntityInput, type EntityJson } from './entity.ts';
import { parseEntities } from './entity.ts';
import {
  edToCurve,
  edToCurveBatch,
  ip6FromPublicKey,
  ip6FromString,
  ip6ToString,
  publicKeyToString,
  signingKeyFromPrivate,
} from './keys.ts';
import { signCjdns, verify } from './signature.ts';
import { bytesToHex } from './hex.ts';

export const ANNOUNCEMENT_HEADER_SIZE = 120;
const SIG_END = 64;
const KEY_END = 96;
const SNODE_END = 112;

/** Header version cjdns writes (`Announce_Header_CURRENT_VERSION`); nobody checks it. */
export const ANNOUNCEMENT_CURRENT_VERSION = 1;

/**
 * Derived identities cached per pubSigningKey (one entry per announcing node; cleared whole at
 * the bound, ~400 bytes an entry, so ~50 MB at most). Sized above the largest networks: a
 * verification worker sends a key's identity to the main thread once, so a main-thread cache
 * cleared while the worker's is not makes the main thread convert those keys itself again.
 */
const DERIVED_CACHE_MAX_ENTRIES = 1 << 17;

type DerivedNode = DerivedNodeIdentity;
const derivedCache = new Map<string, DerivedNode | RsError>();
/** the cached identities' keys, without an ArrayBuffer each */
const keys = new ByteSlab();

/**
 * pubSigningKey → curve25519 key, `.k` string, IPv6 string (conversion failures cached too).
 * `verified`: the signature verified, so the key is known to decode (skips a slow check).
 */
function deriveNode(pubSigningKey: Uint8Array, verified: boolean): DerivedNode {
  const id = bytesToHex(pubSigningKey);
  let d = derivedCache.get(id);
  if (d === undefined) {
    try {
      d = identityOf(edToCurve(pubSigningKey, { skipPointCheck: verified }));
    } catch (e) {
      if (!(e instanceof RsError)) throw e;
      d = e;
    }
    if (derivedCache.size >= DERIVED_CACHE_MAX_ENTRIES) derivedCache.clear();
    derivedCache.set(id, d);
  }
  if (d instanceof RsError) throw new RsError(d.code, d.message);
  return d;
}

/** The identity of a node from its curve25519 key: the key itself, its `.k` string, its IPv6. */
function identityOf(nodeKey: Uint8Array): DerivedNode {
  return {
    nodeKey: keys.copy(nodeKey),
    nodePubKey: publicKeyToString(nodeKey),
    nodeIp: ip6ToString(ip6FromPublicKey(nodeKey)),
  };
}

/**
 * Tell this thread's cache what another thread derived for a signing key (the verification
 * workers send it with each verified announcement, so re-reading the bytes here with
 * `verifySignature: false` costs no key conversion).
 */
export function rememberDerivedNode(pubSigningKey: Uint8Array, node: DerivedNode): void {
  const id = bytesToHex(pubSigningKey);
  if (derivedCache.has(id)) return;
  if (derivedCache.size >= DERIVED_CACHE_MAX_ENTRIES) derivedCache.clear();
  derivedCache.set(id, {
    nodeKey: keys.copy(node.nodeKey),
    nodePubKey: node.nodePubKey,
    nodeIp: node.nodeIp,
  });
}

/** The identity derived from an announcement's signing key (for `rememberDerivedNode`). */
export interface DerivedNodeIdentity {
  /** a view into a slab shared with other keys: copy it before sending it to another thread */
  readonly nodeKey: Uint8Array;
  readonly nodePubKey: string;
  readonly nodeIp: string;
}

// ---- timestamp / flags word -----------------------------------------------------------------

export interface TimestampField {
  /** ms since the epoch as a double (JS `Number('0x' + timestampHex)`) */
  readonly timestamp: number;
  /** `w >> 4` as 16 lowercase hex digits (cjdnsann's `timestamp`) */
  readonly timestampHex: string;
  readonly isReset: boolean;
  readonly version: number;
}

/** Decode the 8-byte word at `bytes[offset..offset+8)`. */
export function parseTimestampField(bytes: Uint8Array, offset = 0): TimestampField {
  const last = bytes[offset + 7]!;
  return {
    timestamp: timestampMsAt(bytes, offset),
    timestampHex: '0' + bytesToHex(bytes.subarray(offset, offset + 8)).slice(0, 15),
    isReset: ((last >> 3) & 1) === 1,
    version: last & 7,
  };
}

/** The word's timestamp alone (`parseTimestampField(bytes, offset).timestamp`, no hex string). */
export function timestampMsAt(bytes: Uint8Array, offset: number): number {
  if (bytes.length - offset < 8)
    throw new RsError('RS_ERR_INPUT_TRUNCATED', 'timestamp field needs 8 bytes');
  const b = bytes;
  const o = offset;
  const hi = ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  const lo = ((b[o + 4]! << 24) >>> 0) + ((b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!);
  return hi * 0x10000000 + Math.floor(lo / 16);
}

/** The word's reset flag alone (`parseTimestampField(bytes, offset).isReset`). */
export function isResetAt(bytes: Uint8Array, offset: number): boolean {
  if (bytes.length - offset < 8)
    throw new RsError('RS_ERR_INPUT_TRUNCATED', 'timestamp field needs 8 bytes');
  return ((bytes[offset + 7]! >> 3) & 1) === 1;
}

/** Encode `(timestamp << 4) | (isReset << 3) | version` big endian (timestamp < 2^60). */
export function buildTimestampField(
  timestamp: number | bigint,
  isReset: boolean,
  version: number,
): Uint8Array {
  const t = BigInt(timestamp);
  if (t < 0n || t >= 1n << 60n)
    throw new RsError('RS_ERR_INPUT_INVALID', `timestamp ${t} out of range`);
  if (!Number.isInteger(version) || version < 0 || version > 7) {
    throw new RsError('RS_ERR_INPUT_INVALID', `header version ${version} out of range 0..7`);
  }
  const w = (t << 4n) | (isReset ? 8n : 0n) | BigInt(version);
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(w);
  return new Uint8Array(out);
}

// ---- parse ----------------------------------------------------------------------------------

/** sha512 of the whole message, signature included: the announcement's identity. */
export function annHash(bytes: Uint8Array): Uint8Array {
  const d = hash('sha512', bytes, 'buffer');
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** True if the message is at least a header and its signature over bytes 64.. verifies. */
export function verifyAnnouncementSignature(bytes: Uint8Array): boolean {
  if (bytes.length < ANNOUNCEMENT_HEADER_SIZE) return false;
  return verify(
    bytes.subarray(SIG_END),
    bytes.subarray(0, SIG_END),
    bytes.subarray(SIG_END, KEY_END),
  );
}

export interface ParseAnnouncementOptions {
  /** check the ed25519 signature (default true; false = JS `noSigCheck`) */
  readonly verifySignature?: boolean;
  /** LinkState entities as PackedLinkState (packed-link-state.ts) — the route server's hot path */
  readonly packedLinkStates?: boolean;
}

/**
 * Everything `parseAnnouncement` checks before the entities, in its order and with its errors:
 * the length, the signature (when `verifySignature`), the key conversion, the two fc prefixes.
 * Returns the identity derived from the signing key. What a verification worker runs: the
 * entities are parsed once, by the thread that applies the announcement.
 */
export function checkAnnouncementHeader(
  bytes: Uint8Array,
  verifySignature: boolean,
  /** the signature was checked already (checkAnnouncementHeaders): the key decodes */
  verified = verifySignature,
): DerivedNodeIdentity {
  if (bytes.length < ANNOUNCEMENT_HEADER_SIZE) throw new RsError('RS_ERR_ANN_RUNT', 'runt');
  const pubSigningKey = bytes.subarray(SIG_END, KEY_END);
  if (
    verifySignature &&
    !verify(bytes.subarray(SIG_END), bytes.subarray(0, SIG_END), pubSigningKey)
  ) {
    throw new RsError('RS_ERR_ANN_BAD_SIGNATURE', 'signature verification failed');
  }
  const node = deriveNode(pubSigningKey, verified);
  if (!node.nodeIp.startsWith('fc'))
    throw new RsError('RS_ERR_ANN_NODE_NOT_FC', 'node starting with non fc addr');
  if (bytes[KEY_END] !== 0xfc)
    throw new RsError('RS_ERR_ANN_SNODE_NOT_FC', 'snode starting with non fc addr');
  return node;
}

/**
 * `checkAnnouncementHeader` for a batch (what a verification worker runs), with the same result
 * per message — the identity, or the RsError it would throw — but the keys that the batch
 * brings for the first time and that verified are converted together (`edToCurveBatch`: one
 * field inversion for the batch instead of one per key), which is most of an initial sync.
 */
export function checkAnnouncementHeaders(
  messages: readonly Uint8Array[],
  verifySignature: boolean,
): Array<DerivedNodeIdentity | RsError> {
  const out = new Array<DerivedNodeIdentity | RsError>(messages.length);
  const passed: boolean[] = new Array<boolean>(messages.length).fill(false);
  const fresh = new Map<string, Uint8Array>();
  messages.forEach((bytes, i) => {
    if (bytes.length < ANNOUNCEMENT_HEADER_SIZE) {
      out[i] = new RsError('RS_ERR_ANN_RUNT', 'runt');
      return;
    }
    const key = bytes.subarray(SIG_END, KEY_END);
    if (verifySignature && !verify(bytes.subarray(SIG_END), bytes.subarray(0, SIG_END), key)) {
      out[i] = new RsError('RS_ERR_ANN_BAD_SIGNATURE', 'signature verification failed');
      return;
    }
    passed[i] = true;
    if (!verifySignature) return;
    const id = bytesToHex(key);
    if (!derivedCache.has(id)) fresh.set(id, key);
  });
  if (fresh.size > 1) {
    // verified keys decode: what deriveNode(key, true) would cache, for all of them at once
    const ids = [...fresh.keys()];
    const converted = edToCurveBatch([...fresh.values()]);
    ids.forEach((id, k) => {
      const c = converted[k]!;
      if (derivedCache.size >= DERIVED_CACHE_MAX_ENTRIES) derivedCache.clear();
      derivedCache.set(id, c instanceof RsError ? c : identityOf(c));
    });
  }
  messages.forEach((bytes, i) => {
    if (!passed[i]) return;
    try {
      out[i] = checkAnnouncementHeader(bytes, false, verifySignature);
    } catch (e) {
      if (!(e instanceof RsError)) throw e;
      out[i] = e;
    }
  });
  return out;
}

/**
 * Parse (and by default verify) an announcement. Throws RsError with the JS message; codes
 * RS_ERR_ANN_RUNT, RS_ERR_ANN_BAD_SIGNATURE, RS_ERR_KEY_CONVERSION, RS_ERR_ANN_NODE_NOT_FC,
 * RS_ERR_ANN_SNODE_NOT_FC, then entity codes (entity.ts). The result keeps views into `bytes`
 * (no copies): do not mutate `bytes` afterwards.
 */
export function parseAnnouncement(
  bytes: Uint8Array,
  opts: ParseAnnouncementOptions = {},
): Announcement {
  const node = checkAnnouncementHeader(bytes, opts.verifySignature !== false);
  const signature = bytes.subarray(0, SIG_END);
  const pubSigningKey = bytes.subarray(SIG_END, KEY_END);
  const snodeIpBytes = bytes.subarray(KEY_END, SNODE_END);
  const ts = parseTimestampField(bytes, SNODE_END);
  const entities = parseEntities(bytes, ANNOUNCEMENT_HEADER_SIZE, {
    packedLinkStates: opts.packedLinkStates === true,
  });
  return {
    binary: bytes,
    hash: annHash(bytes),
    signature,
    pubSigningKey,
    snodeIp: ip6ToString(snodeIpBytes),
    nodePubKey: node.nodePubKey,
    nodeKey: node.nodeKey,
    nodeIp: node.nodeIp,
    ver: ts.version,
    isReset: ts.isReset,
    timestamp: ts.timestamp,
    timestampHex: ts.timestampHex,
    entities,
  };
}

// ---- build ----------------------------------------------------------------------------------

export interface BuildAnnouncementInput {
  /** the announcer's curve25519 private key, 32 bytes (cjdns signs with clamp(priv)) */
  readonly privateKey: Uint8Array;
  /** IPv6 of the route server addressed (any IPv6 text) */
  readonly snodeIp: string;
  /** ms since the epoch, < 2^60 */
  readonly timestamp: number | bigint;
  readonly isReset: boolean;
  /** 3-bit header version, default 1 */
  readonly version?: number;
  /** serialized entity bytes, or entities to serialize in order */
  readonly entities: Uint8Array | readonly EntityInput[];
}

/** Build and sign an announcement the way cjdns does (for tests, benches and tools). */
export function buildAnnouncement(input: BuildAnnouncementInput): Uint8Array {
  const entityBytes =
    input.entities instanceof Uint8Array ? input.entities : serializeEntities(input.entities);
  const out = new Uint8Array(ANNOUNCEMENT_HEADER_SIZE + entityBytes.length);
  out.set(signingKeyFromPrivate(input.privateKey), SIG_END);
  out.set(ip6FromString(input.snodeIp), KEY_END);
  out.set(
    buildTimestampField(
      input.timestamp,
      input.isReset,
      input.version ?? ANNOUNCEMENT_CURRENT_VERSION,
    ),
    SNODE_END,
  );
  out.set(entityBytes, ANNOUNCEMENT_HEADER_SIZE);
  out.set(signCjdns(input.privateKey, out.subarray(SIG_END)), 0);
  return out;
}

// ---- JSON -----------------------------------------------------------------------------------

export interface AnnouncementJson {
  signature: string;
  pubSigningKey: string;
  snodeIp: string;
  nodePubKey: string;
  nodeIp: string;
  ver: number;
  isReset: boolean;
  /** 16 hex digits, as cjdnsann prints it */
  timestamp: string;
  entities: EntityJson[];
  hash: string;
}

/** The JS `cjdnsann.parse` output shape (plus `hash`), keys in the same order. */
export function announcementToJson(ann: Announcement): AnnouncementJson {
  return {
    signature: bytesToHex(ann.signature),
    pubSigningKey: bytesToHex(ann.pubSigningKey),
    snodeIp: ann.snodeIp,
    nodePubKey: ann.nodePubKey,
    nodeIp: ann.nodeIp,
    ver: ann.ver,
    isReset: ann.isReset,
    timestamp: ann.timestampHex,
    entities: ann.entities.map(entityToJson),
    hash: bytesToHex(ann.hash),
  };
}
