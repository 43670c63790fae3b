/**
 * Real cjdns identities (the fixture vectors' alice, bob, … with their private keys) and
 * properly signed announcements from them, for tests that need the bytes to parse and verify
 * (the verification pool, crash recovery from the replication store).
 */
import { buildAnnouncement, parseAnnouncement } from '../../src/protocol/announcement.ts';
import type { Announcement } from '../../src/protocol/announcement-types.ts';
import type { EntityInput } from '../../src/protocol/entity.ts';
import { SCHEMES } from '../../src/protocol/encoding-scheme.ts';
import { hexToBytes } from '../../src/protocol/hex.ts';
import { loadVectors } from './vectors.ts';

export interface SignedNode {
  readonly name: string;
  readonly ipv6: string;
  readonly privateKey: Uint8Array;
}

interface Identity {
  name: string;
  ipv6: string;
  private_hex: string;
}
const ids = (loadVectors('route_server.json') as unknown as { identities: Identity[] }).identities;

/** The identities except the snode's own, by name. */
export const SIGNED_NODES: ReadonlyMap<string, SignedNode> = new Map(
  ids
    .filter((i) => i.name !== 'snode')
    .map((i) => [i.name, { name: i.name, ipv6: i.ipv6, privateKey: hexToBytes(i.private_hex) }]),
);

export function signedNode(name: string): SignedNode {
  const n = SIGNED_NODES.get(name);
  if (!n) throw new Error(`no identity ${name}`);
  return n;
}

/** A signed announcement; a reset carries Version 22 and v358 first. */
export function signedAnn(
  node: SignedNode,
  opts: {
    timestamp: number;
    isReset?: boolean;
    snodeIp: string;
    entities?: readonly EntityInput[];
  },
): Uint8Array {
  const entities: EntityInput[] = opts.isReset
    ? [
        { type: 'Version', version: 22 },
        { type: 'EncodingScheme', scheme: SCHEMES.v358 },
        ...(opts.entities ?? []),
      ]
    : [...(opts.entities ?? [])];
  return buildAnnouncement({
    privateKey: node.privateKey,
    snodeIp: opts.snodeIp,
    timestamp: opts.timestamp,
    isReset: opts.isReset ?? false,
    entities,
  });
}

export function parsed(bytes: Uint8Array): Announcement {
  return parseAnnouncement(bytes);
}
