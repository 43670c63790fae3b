/**
 * A kept announcement in compact form (fast routing mode). A node record keeps its recent
 * announcements for the keep rules, the stateHash, `/dump`, `/ni` and replication; the parsed
 * entities — Peer objects, 18-slot link-state arrays — were several kilobytes per announcement
 * and only `/ni` reads them back. This keeps the raw bytes, the hash, the header fields and the
 * keys the keep rules compare (docs/protocol.md §4.3), and re-parses the entities from the bytes when asked
 * (the bytes parsed before, so they parse again to the same entities).
 *
 * While the announcement is being applied, the parsed entities are still attached (the state
 * machine reads them); `release()` drops them once the record is updated.
 */
import type { Announcement } from '../protocol/announcement-types.ts';
import { ANNOUNCEMENT_HEADER_SIZE, parseTimestampField } from '../protocol/announcement.ts';
import { parseEntities } from '../protocol/entity.ts';
import type { Entity } from '../protocol/entity-types.ts';
import { ip6ToString } from '../protocol/keys.ts';

/** Keep-rule key of a non-ephemeral entity: a Peer's peerNum (≥ 0), or one of these. */
export const KEEP_KEY_VERSION = -1;
export const KEEP_KEY_ENCODING_SCHEME = -2;

export class KeptAnnouncement implements Announcement {
  readonly binary: Uint8Array;
  readonly hash: Uint8Array;
  readonly nodePubKey: string;
  readonly nodeKey: Uint8Array;
  readonly nodeIp: string;
  readonly ver: number;
  readonly isReset: boolean;
  readonly timestamp: number;
  /** the non-ephemeral entities' keep-rule keys, in entity order */
  readonly keepKeys: readonly number[];
  private parsed: readonly Entity[] | undefined;
  /**
   * the announcement did not come from `parseAnnouncement` on its bytes (test fixtures): keep
   * every field as given instead of re-reading it from the bytes
   */
  private readonly given: Announcement | undefined;

  /**
   * `same`: strings and keys of the node to share (its record's), instead of this
   * announcement's own copies.
   */
  constructor(
    ann: Announcement,
    same?: { readonly key: string; readonly keyBytes: Uint8Array; readonly ipv6: string },
  ) {
    const b = ann.binary;
    // a view into a larger buffer would keep all of it alive as long as the record keeps this
    this.binary = b.buffer.byteLength > b.byteLength * 2 ? b.slice() : b;
    this.hash = ann.hash;
    const reuse = same !== undefined && same.ipv6 === ann.nodeIp;
    this.nodePubKey = reuse ? same.key : ann.nodePubKey;
    this.nodeKey = reuse ? same.keyBytes : ann.nodeKey;
    this.nodeIp = reuse ? same.ipv6 : ann.nodeIp;
    this.ver = ann.ver;
    this.isReset = ann.isReset;
    this.timestamp = ann.timestamp;
    this.parsed = ann.entities;
    const fromBytes =
      ann.signature.buffer === b.buffer &&
      ann.signature.byteOffset === b.byteOffset &&
      ann.pubSigningKey.buffer === b.buffer &&
      ann.pubSigningKey.byteOffset === b.byteOffset + 64;
    this.given = fromBytes ? undefined : ann;
    const keys: number[] = [];
    for (const e of ann.entities) {
      if (e.type === 'Version') keys.push(KEEP_KEY_VERSION);
      else if (e.type === 'EncodingScheme') keys.push(KEEP_KEY_ENCODING_SCHEME);
      else if (e.type === 'Peer') keys.push(e.peerNum);
    }
    this.keepKeys = keys;
  }

  /** Drop the parsed entities (they are re-read from the bytes when asked for). */
  release(): void {
    if (!this.given) this.parsed = undefined;
  }

  get entities(): readonly Entity[] {
    return this.parsed ?? parseEntities(this.binary, ANNOUNCEMENT_HEADER_SIZE);
  }

  get signature(): Uint8Array {
    return this.given ? this.given.signature : this.binary.subarray(0, 64);
  }

  get pubSigningKey(): Uint8Array {
    return this.given ? this.given.pubSigningKey : this.binary.subarray(64, 96);
  }

  get snodeIp(): string {
    return this.given ? this.given.snodeIp : ip6ToString(this.binary.subarray(96, 112));
  }

  get timestampHex(): string {
    return this.given
      ? this.given.timestampHex
      : parseTimestampField(this.binary, 112).timestampHex;
  }
}

/** The keep-rule keys of any announcement (compact ones carry them). */
export function keepKeysOf(ann: Announcement): readonly number[] {
  if (ann instanceof KeptAnnouncement) return ann.keepKeys;
  const keys: number[] = [];
  for (const e of ann.entities) {
    if (e.type === 'Version') keys.push(KEEP_KEY_VERSION);
    else if (e.type === 'EncodingScheme') keys.push(KEEP_KEY_ENCODING_SCHEME);
    else if (e.type === 'Peer') keys.push(e.peerNum);
  }
  return keys;
}
