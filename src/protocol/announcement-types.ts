import type { Entity } from './entity-types.ts';

/** A parsed, verified announcement. The raw bytes and sha512 hash travel with it (STYLE A2). */
export interface Announcement {
  /** the whole message, signature included */
  readonly binary: Uint8Array;
  /** sha512(binary), 64 bytes: the announcement's identity */
  readonly hash: Uint8Array;
  readonly signature: Uint8Array;
  /** ed25519 public key, 32 bytes */
  readonly pubSigningKey: Uint8Array;
  /** 39-char IPv6 of the route server the message is addressed to */
  readonly snodeIp: string;
  /** curve25519 key of the announcer as a `.k` string */
  readonly nodePubKey: string;
  /** curve25519 key of the announcer, 32 bytes */
  readonly nodeKey: Uint8Array;
  /** 39-char IPv6 of the announcer */
  readonly nodeIp: string;
  /** 3-bit header version */
  readonly ver: number;
  readonly isReset: boolean;
  /** ms since the epoch as a double (JS `Number('0x' + timestampHex)`) */
  readonly timestamp: number;
  /** 16 lowercase hex digits of the 60-bit timestamp, as cjdnsann prints it */
  readonly timestampHex: string;
  readonly entities: readonly Entity[];
}
