import type { EncodingScheme } from './encoding-scheme-types.ts';

/** Entity type numbers on the wire (docs/protocol.md §1.6). */
export const ENTITY_TYPE = { EncodingScheme: 0, Peer: 1, Version: 2, LinkState: 3 } as const;

export interface EncodingSchemeEntity {
  readonly type: 'EncodingScheme';
  /** the serialized scheme bytes as lowercase hex (JS `hex`) */
  readonly hex: string;
  readonly scheme: EncodingScheme;
}

export interface PeerEntity {
  readonly type: 'Peer';
  /** peer IPv6, 39-char normalised form */
  readonly ipv6: string;
  /** JS form "0000.0000.xxxx.xxxx"; "0000.0000.0000.0000" = withdrawal */
  readonly label: string;
  readonly mtu: number;
  readonly peerNum: number;
  readonly unused: number;
  readonly encodingFormNum: number;
  readonly flags: number;
}

export interface VersionEntity {
  readonly type: 'Version';
  readonly version: number;
}

/** 18-slot ring; `null` = slot not sent. Values are doubles as in JS (precision lost > 2^53). */
export interface LinkStateEntity {
  readonly type: 'LinkState';
  readonly nodeId: number;
  readonly startingPoint: number;
  readonly lagSlots: ReadonlyArray<number | null>;
  readonly dropSlots: ReadonlyArray<number | null>;
  readonly kbRecvSlots: ReadonlyArray<number | null>;
}

/** Unknown entity types are skipped by the parser and never appear here (they are ephemeral). */
export type Entity = EncodingSchemeEntity | PeerEntity | VersionEntity | LinkStateEntity;
