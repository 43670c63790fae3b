/**
 * An announcement held in the announcement arena (ann-arena.ts), seen as an `Announcement`: a
 * short-lived view made when someone asks for one (`/ni/<ip>`, a listener told about an accepted
 * announcement, a crash rebuild). Only the arena id is state; every field is read from the bytes
 * when asked — the entities are parsed again each time (they parsed when the announcement was
 * accepted, so they parse to the same entities).
 *
 * The node's identity (its `.k` key, curve25519 key and IPv6) comes from its record when the
 * view is made for a record; otherwise it is derived from the signing key (cached per key).
 */
import type { Announcement } from '../protocol/announcement-types.ts';
import {
  ANNOUNCEMENT_HEADER_SIZE,
  checkAnnouncementHeader,
  parseTimestampField,
} from '../protocol/announcement.ts';
import { parseEntities } from '../protocol/entity.ts';
import type { Entity } from '../protocol/entity-types.ts';
import { ip6ToString } from '../protocol/keys.ts';
import type { AnnArena } from './ann-arena.ts';

/** A node's identity as its record holds it. */
export interface NodeIdentity {
  readonly key: string;
  readonly keyBytes: Uint8Array;
  readonly ipv6: string;
}

export class ArenaAnnouncement implements Announcement {
  readonly binary: Uint8Array;
  readonly hash: Uint8Array;
  private readonly given: Announcement | undefined;

  constructor(
    readonly arena: AnnArena,
    readonly id: number,
    private readonly owner?: NodeIdentity,
  ) {
    this.binary = arena.bytes(id);
    this.hash = arena.hash(id);
    this.given = arena.givenOf(id);
  }

  get entities(): readonly Entity[] {
    return this.given ? this.given.entities : parseEntities(this.binary, ANNOUNCEMENT_HEADER_SIZE);
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

  get ver(): number {
    return this.given ? this.given.ver : this.binary[119]! & 7;
  }

  get isReset(): boolean {
    return this.given ? this.given.isReset : (this.binary[119]! & 8) !== 0;
  }

  get timestamp(): number {
    return this.given ? this.given.timestamp : parseTimestampField(this.binary, 112).timestamp;
  }

  get timestampHex(): string {
    return this.given
      ? this.given.timestampHex
      : parseTimestampField(this.binary, 112).timestampHex;
  }

  get nodePubKey(): string {
    return this.given ? this.given.nodePubKey : (this.owner?.key ?? this.derived().nodePubKey);
  }

  get nodeKey(): Uint8Array {
    return this.given ? this.given.nodeKey : (this.owner?.keyBytes ?? this.derived().nodeKey);
  }

  get nodeIp(): string {
    return this.given ? this.given.nodeIp : (this.owner?.ipv6 ?? this.derived().nodeIp);
  }

  private derived(): { nodePubKey: string; nodeKey: Uint8Array; nodeIp: string } {
    return checkAnnouncementHeader(this.binary, false);
  }
}

/** True if `a` is a view of an announcement held in `arena`. */
export function isArenaAnnouncement(a: Announcement, arena: AnnArena): a is ArenaAnnouncement {
  return a instanceof ArenaAnnouncement && a.arena === arena;
}

/**
 * True if `ann` is what its bytes say (parsed from them): its signature and key are views of its
 * bytes. An announcement built as an object in a test is not, and the arena keeps it as given.
 */
export function parsedFromBytes(ann: Announcement): boolean {
  if (ann instanceof ArenaAnnouncement) return ann.arena.givenOf(ann.id) === undefined;
  const b = ann.binary;
  return (
    ann.signature.buffer === b.buffer &&
    ann.signature.byteOffset === b.byteOffset &&
    ann.pubSigningKey.buffer === b.buffer &&
    ann.pubSigningKey.byteOffset === b.byteOffset + 64
  );
}
