/**
 * Hand-made announcements for the graph tests. They are Announcement objects built directly
 * (no signature): the graph core only reads the parsed fields, `binary` and `hash`. Every
 * announcement gets unique bytes, so hashes differ as they would on the wire.
 */
import { createHash } from 'node:crypto';
import type { Announcement } from '../../../src/protocol/announcement-types.ts';
import type { EncodingScheme } from '../../../src/protocol/encoding-scheme-types.ts';
import { SCHEMES, serializeScheme } from '../../../src/protocol/encoding-scheme.ts';
import type {
  EncodingSchemeEntity,
  Entity,
  LinkStateEntity,
  PeerEntity,
  VersionEntity,
} from '../../../src/protocol/entity-types.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { formatLabel } from '../../../src/protocol/routing-label.ts';

export const SNODE_IP = 'fc00:0000:0000:0000:0000:0000:0000:5555';
export const T0 = 1_700_000_000_000;

/** A test node IPv6: fc00::<n>, in the 39-character form. */
export function ipOf(n: number): string {
  return 'fc00:0000:0000:0000:0000:0000:0000:' + n.toString(16).padStart(4, '0');
}

/** A 32-bit announced label as the JS string form. */
export function labelOf(n: number | bigint): string {
  return formatLabel(BigInt(n));
}

export function peer(
  ipv6: string,
  label: number | string,
  peerNum: number,
  encodingFormNum = 0,
  extra: { mtu?: number; flags?: number } = {},
): PeerEntity {
  return {
    type: 'Peer',
    ipv6,
    label: typeof label === 'string' ? label : labelOf(label),
    mtu: extra.mtu ?? 0,
    peerNum,
    unused: 0xffffffff,
    encodingFormNum,
    flags: extra.flags ?? 0,
  };
}

export function withdraw(ipv6: string, peerNum: number): PeerEntity {
  return peer(ipv6, '0000.0000.0000.0000', peerNum);
}

export function version(v: number): VersionEntity {
  return { type: 'Version', version: v };
}

export function encodingScheme(scheme: EncodingScheme = SCHEMES.v358): EncodingSchemeEntity {
  return { type: 'EncodingScheme', hex: bytesToHex(serializeScheme(scheme)), scheme };
}

/** A LinkState entity with `samples` ([lag, drops, kbRecv], oldest first) from `startingPoint`. */
export function linkState(
  nodeId: number,
  startingPoint: number,
  samples: [number, number, number][],
): LinkStateEntity {
  const lagSlots: (number | null)[] = new Array<number | null>(18).fill(null);
  const dropSlots = [...lagSlots];
  const kbRecvSlots = [...lagSlots];
  samples.forEach(([lag, drops, kb], k) => {
    const i = (startingPoint + k) % 18;
    lagSlots[i] = lag;
    dropSlots[i] = drops;
    kbRecvSlots[i] = kb;
  });
  return { type: 'LinkState', nodeId, startingPoint, lagSlots, dropSlots, kbRecvSlots };
}

export interface AnnSpec {
  readonly nodeIp: string;
  readonly timestamp: number;
  readonly isReset?: boolean;
  readonly snodeIp?: string;
  readonly entities?: readonly Entity[];
}

let serial = 0;

export function mkAnn(spec: AnnSpec): Announcement {
  const entities = spec.entities ?? [];
  const body = JSON.stringify({ serial: serial++, ...spec, entities });
  const binary = new Uint8Array(Buffer.from(body, 'utf8'));
  const keyBytes = new Uint8Array(createHash('sha256').update(spec.nodeIp).digest());
  return {
    binary,
    hash: new Uint8Array(createHash('sha512').update(binary).digest()),
    signature: new Uint8Array(64),
    pubSigningKey: keyBytes,
    snodeIp: spec.snodeIp ?? SNODE_IP,
    nodePubKey: `key-of-${spec.nodeIp}.k`,
    nodeKey: keyBytes,
    nodeIp: spec.nodeIp,
    ver: 1,
    isReset: spec.isReset ?? false,
    timestamp: spec.timestamp,
    timestampHex: spec.timestamp.toString(16).padStart(16, '0'),
    entities,
  };
}

/** A reset carrying Version 22 and v358 first, then `entities`. */
export function mkReset(
  nodeIp: string,
  timestamp: number,
  entities: readonly Entity[] = [],
  scheme?: EncodingScheme,
): Announcement {
  return mkAnn({
    nodeIp,
    timestamp,
    isReset: true,
    entities: [version(22), encodingScheme(scheme), ...entities],
  });
}

export const hex = (hs: readonly Uint8Array[]): string[] => hs.map(bytesToHex);
