/**
 * The cluster bus is authenticated with a shared cluster key (docs/cluster.md, "Authenticated
 * bus"; docs/security.md): every envelope a process writes to Redis — the record entry, the node
 * snapshot and the live frame carry the same bytes — ends with an HMAC-SHA256 tag over a context
 * string and the envelope, keyed with `cluster.key`. A process applies nothing whose tag does not
 * verify: whoever can write to Redis but does not hold the key cannot inject announcements or
 * deltas (the delta of a node's tree is computed by the accepting process and covered by no
 * announcement signature, so it could not be checked any other way).
 *
 * ```
 *  sealed = envelope ‖ tag    tag = HMAC-SHA256(key, "snode-cluster-envelope-v1\0" ‖ envelope), 32 bytes
 * ```
 *
 * The tag is RFC 2104's HMAC made of two one-shot SHA-256 passes over buffers this object keeps,
 * `H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ context ‖ envelope))` — every entry read is opened, and a
 * `createHmac` object per entry (its key import, two updates, the digest) cost more than the
 * hashing; the same bytes as `createHmac('sha256', key)` (tested), which larger envelopes (node
 * snapshots) still use.
 */
import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { RsError } from '../errors.ts';

export const CLUSTER_KEY_BYTES = 32;
export const ENVELOPE_TAG_BYTES = 32;
const CONTEXT = Buffer.from('snode-cluster-envelope-v1\0', 'latin1');
const SHA256_BLOCK = 64;
const INNER_PREFIX = SHA256_BLOCK + CONTEXT.length;
/** larger envelopes (node snapshots) are tagged by createHmac, not copied into the scratch */
const MAX_SCRATCH_ENVELOPE = 64 * 1024;

/** A cluster key: 64 hex digits (32 random bytes; `snode keygen --cluster`). */
export const CLUSTER_KEY_RE = /^[0-9a-fA-F]{64}$/;

/** The key as bytes; RS_ERR_CONFIG_INVALID unless it is 64 hex digits. */
export function parseClusterKey(hex: string): Uint8Array {
  if (!CLUSTER_KEY_RE.test(hex))
    throw new RsError(
      'RS_ERR_CONFIG_INVALID',
      'cluster.key must be 64 hex digits (32 random bytes: snode keygen --cluster)',
    );
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** A new random cluster key, as 64 hex digits. */
export function generateClusterKey(): string {
  return randomBytes(CLUSTER_KEY_BYTES).toString('hex');
}

/** How a process seals what it writes to the bus and opens what it reads. */
export interface EnvelopeSeal {
  /** true: envelopes carry a tag that is checked */
  readonly authenticated: boolean;
  seal(envelope: Uint8Array): Uint8Array;
  /** RS_ERR_CLUSTER_UNAUTHENTICATED when `sealed` was not sealed with this process's key */
  open(sealed: Uint8Array): Uint8Array;
}

/** The embedded bus of a single process: nobody else writes it, nothing to authenticate. */
export const UNSEALED: EnvelopeSeal = {
  authenticated: false,
  seal: (envelope) => envelope,
  open: (sealed) => sealed,
};

export class EnvelopeAuth implements EnvelopeSeal {
  readonly authenticated = true;

  private readonly key: Buffer;
  /** (K ⊕ ipad) ‖ context, then the envelope being tagged */
  private inner: Buffer;
  /** (K ⊕ opad), then the inner digest */
  private readonly outer = Buffer.alloc(SHA256_BLOCK + 32);

  constructor(key: Uint8Array) {
    if (key.length !== CLUSTER_KEY_BYTES)
      throw new RsError(
        'RS_ERR_CONFIG_INVALID',
        `a cluster key is ${CLUSTER_KEY_BYTES} bytes, not ${key.length}`,
      );
    this.key = Buffer.from(key);
    this.inner = Buffer.alloc(INNER_PREFIX + 1024);
    for (let i = 0; i < SHA256_BLOCK; i++) {
      const k = i < key.length ? key[i]! : 0;
      this.inner[i] = k ^ 0x36;
      this.outer[i] = k ^ 0x5c;
    }
    CONTEXT.copy(this.inner, SHA256_BLOCK);
  }

  private tag(envelope: Uint8Array): Buffer {
    if (envelope.length > MAX_SCRATCH_ENVELOPE)
      return createHmac('sha256', this.key).update(CONTEXT).update(envelope).digest();
    const end = INNER_PREFIX + envelope.length;
    if (end > this.inner.length) {
      const grown = Buffer.alloc(Math.max(end, 2 * this.inner.length));
      this.inner.copy(grown, 0, 0, INNER_PREFIX);
      this.inner = grown;
    }
    this.inner.set(envelope, INNER_PREFIX);
    this.outer.set(hash('sha256', this.inner.subarray(0, end), 'buffer'), SHA256_BLOCK);
    return hash('sha256', this.outer, 'buffer');
  }

  /** envelope ‖ tag */
  seal(envelope: Uint8Array): Uint8Array {
    const out = new Uint8Array(envelope.length + ENVELOPE_TAG_BYTES);
    out.set(envelope, 0);
    out.set(this.tag(envelope), envelope.length);
    return out;
  }

  /** The envelope of a sealed one; RS_ERR_CLUSTER_UNAUTHENTICATED when the tag does not verify. */
  open(sealed: Uint8Array): Uint8Array {
    if (sealed.length <= ENVELOPE_TAG_BYTES)
      throw new RsError(
        'RS_ERR_CLUSTER_UNAUTHENTICATED',
        'cluster envelope too short to carry its tag',
      );
    const envelope = sealed.subarray(0, sealed.length - ENVELOPE_TAG_BYTES);
    const tag = sealed.subarray(sealed.length - ENVELOPE_TAG_BYTES);
    if (!timingSafeEqual(this.tag(envelope), tag))
      throw new RsError(
        'RS_ERR_CLUSTER_UNAUTHENTICATED',
        'cluster envelope tag does not verify (written without the cluster key)',
      );
    return envelope;
  }
}
