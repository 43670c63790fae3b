/**
 * Record-delta fixtures (docs/cluster.md, "Deltas"): six nodes, an announcer that turns
 * operations (reset, peer, withdraw, link state) into their signed announcements, and a "home"
 * process that accepts nodes' own announcements and keeps what it would publish on the bus
 * (bytes, node, record delta).
 */
import { buildAnnouncement } from '../../src/protocol/announcement.ts';
import { SCHEMES } from '../../src/protocol/encoding-scheme.ts';
import {
  serializeEncodingSchemeEntity,
  serializeLinkState,
  serializePeer,
  serializeVersion,
} from '../../src/protocol/entity.ts';
import { bytesToHex, concatBytes } from '../../src/protocol/hex.ts';
import type { ManualClock } from '../../src/lib/clock.ts';
import type { RouteServer } from '../../src/server/route-server.ts';
import { fcIdentities } from './cluster-fixtures.ts';
import { TEST_SELF, fastServer } from './fast-server.ts';

/** six nodes, the same in every test that uses these fixtures */
export const NODES = fcIdentities(6, 4711);

export type Op =
  | { kind: 'reset'; node: number; peers: number[] }
  | { kind: 'peer'; node: number; peer: number; slot: number; mtu: number }
  | { kind: 'withdraw'; node: number; peer: number; slot: number }
  | { kind: 'linkState'; node: number; slot: number; samples: Array<[number, number, number]> };

/** one-hop v358 labels, one per slot */
const labelOf = (slot: number): number => 0x13 + 2 * slot;

/** Signs each operation as its node's next announcement (timestamps strictly increasing per node). */
export class Announcer {
  private readonly ts = new Map<number, number>();
  constructor(private readonly now: () => number) {}

  private stamp(node: number): number {
    const t = Math.max(this.now(), (this.ts.get(node) ?? 0) + 1);
    this.ts.set(node, t);
    return t;
  }

  build(op: Op): Uint8Array {
    const n = NODES[op.node]!;
    const peerEntity = (peer: number, slot: number, label: number, mtu = 1280): Uint8Array =>
      serializePeer({ ipv6: NODES[peer]!.ipv6, label, peerNum: slot + 1, mtu, encodingFormNum: 0 });
    let entities: Uint8Array;
    switch (op.kind) {
      case 'reset':
        entities = concatBytes(
          serializeEncodingSchemeEntity(SCHEMES.v358),
          serializeVersion(22),
          ...op.peers
            .filter((p) => p !== op.node)
            .map((p, k) => peerEntity(p, k % 4, labelOf(k % 4))),
        );
        break;
      case 'peer':
        entities = peerEntity(op.peer, op.slot, labelOf(op.slot), op.mtu * 8);
        break;
      case 'withdraw':
        entities = peerEntity(op.peer, op.slot, 0);
        break;
      case 'linkState':
        entities = serializeLinkState({
          nodeId: op.slot + 1,
          startingPoint: 0,
          samples: op.samples.map(([lag, drops, kbRecv]) => ({ lag, drops, kbRecv })),
        });
        break;
    }
    return buildAnnouncement({
      privateKey: n.privateKey,
      snodeIp: TEST_SELF.ipv6,
      timestamp: this.stamp(op.node),
      isReset: op.kind === 'reset',
      entities,
    });
  }
}

export interface Published {
  readonly bytes: Uint8Array;
  readonly nodeIp: string;
  readonly delta: Uint8Array | undefined;
}

/** A process that accepts nodes' own announcements and keeps what it would publish. */
export function homeProcess(): {
  server: RouteServer;
  clock: ManualClock;
  published: Published[];
  advance: (ms: number) => void;
  now: () => number;
  /** each op as the node's own announcement, a second after the last */
  announce: (ann: Announcer, ops: readonly Op[]) => Promise<void>;
} {
  const { server, clock } = fastServer();
  const published: Published[] = [];
  server.setClusterHooks({
    beforeNodeAnnouncement: async () => undefined,
    afterNodeAccepted: async (bytes, nodeIp, delta) => {
      published.push({ bytes, nodeIp, delta });
    },
  });
  return {
    server,
    clock,
    published,
    advance: (ms) => clock.set(clock.now() + ms),
    now: () => clock.now(),
    announce: async (ann, ops) => {
      for (const op of ops) {
        clock.set(clock.now() + 1000);
        await server.submitAnnouncement(ann.build(op), 'node');
      }
    },
  };
}

/** Every node's record as plain values (kept hashes, stateHash, links with their values). */
export function state(server: RouteServer): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  for (const rec of server.nodes) {
    const links: Record<string, unknown> = {};
    for (const [ip, ls] of rec.inwardLinksByIp)
      links[ip] = ls.map((l) => [
        l.label,
        l.encodingFormNum,
        l.peerNum,
        l.mtu,
        l.flags,
        l.time,
        l.createTime,
        l.mostRecentLsSlot,
        l.value,
      ]);
    nodes[rec.ipv6] = {
      stateHash: bytesToHex(rec.stateHash),
      kept: rec.announcements.map((a) => bytesToHex(a.hash)),
      resetMsg: bytesToHex(rec.resetMsg.hash),
      timestamp: rec.timestampHex,
      version: rec.version,
      links,
    };
  }
  return nodes;
}
