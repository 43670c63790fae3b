/**
 * Seeder test data: public keys whose cjdns address is in fc00::/8 (found deterministically by
 * hashing a name with a counter), credentials for them, and a graph of node → announced peers.
 */
import { createHash } from 'node:crypto';
import { ip6FromPublicKey, ip6ToString } from '../../../src/protocol/keys.ts';
import {
  encodeCredentialRecord,
  type PeeringCredential,
} from '../../../src/protocol/peering-credentials.ts';
import { seederGraphOf, type SeederGraph } from '../../../src/seeder/seeder-graph.ts';
import { seederSchema, type SeederSettings } from '../../../src/seeder/seeder-settings.ts';

export interface TestNode {
  readonly key: Uint8Array;
  readonly ip: string;
}

const cache = new Map<string, TestNode>();

/** A key whose address starts with fc (or, with `fc: false`, one whose address does not). */
export function testNode(name: string, opts: { fc?: boolean } = {}): TestNode {
  const want = opts.fc ?? true;
  const id = `${name}/${want}`;
  const hit = cache.get(id);
  if (hit) return hit;
  for (let i = 0; ; i++) {
    const key = new Uint8Array(createHash('sha256').update(`${id}/${i}`).digest());
    const ip6 = ip6FromPublicKey(key);
    if ((ip6[0] === 0xfc) === want) {
      const node = { key, ip: ip6ToString(ip6) };
      cache.set(id, node);
      return node;
    }
  }
}

/** A credential of `node` at 10.0.0.n (IPv4) or 2001:db8::n (IPv6), port 11234 + n. */
export function credOf(node: TestNode, n: number, family: 4 | 6 = 4): PeeringCredential {
  const ip =
    family === 4
      ? Uint8Array.of(10, 0, (n >> 8) & 0xff, n & 0xff)
      : Uint8Array.of(
          0x20,
          0x01,
          0x0d,
          0xb8,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          (n >> 8) & 0xff,
          n & 0xff,
        );
  return {
    address: { ip, port: 11234 + n },
    login: 1000 + n,
    password: new Uint8Array(8).fill(n & 0xff),
    publicKey: node.key,
    version: 22,
  };
}

export const PUB = (s = 'test'): Uint8Array => new TextEncoder().encode(`PUB_${s}`);

export function recordOf(
  peerId: Uint8Array | undefined,
  ...peers: PeeringCredential[]
): Uint8Array {
  return encodeCredentialRecord({ peerId, peers });
}

/** A graph: node IPv6 → the IPv6s it announced as peers. Nodes not in it are unknown. */
export function graphOf(peers: Map<string, string[]>): SeederGraph {
  return seederGraphOf({
    get: (ip) => {
      const list = peers.get(ip);
      return list ? { inwardLinksByIp: new Map(list.map((p) => [p, [] as unknown[]])) } : undefined;
    },
  });
}

export function settingsOf(overrides: Partial<SeederSettings> = {}): SeederSettings {
  return { ...seederSchema.parse({}), ...overrides };
}
