/**
 * A large node table without signing thousands of announcements: records put straight into a
 * NodeTable (its directory operation), each with a few inward links to its neighbours and real
 * announcements (the same few signed ones, so `/dump` carries real bytes). For the read API's
 * tests, which serialise whatever the table holds: whole-table answers over many chunks, and
 * clients that stop reading a body of many megabytes.
 */
import type { NodeTable } from '../../src/graph/apply-announcement.ts';
import { LinkStateTable } from '../../src/graph/link-state-table.ts';
import type { Link, NodeRecord } from '../../src/graph/node-record.ts';
import type { Announcement } from '../../src/protocol/announcement-types.ts';
import { SCHEMES } from '../../src/protocol/encoding-scheme.ts';
import { parsed, signedAnn, signedNode } from './signed-nodes.ts';

const T0 = 1_700_000_000_000;

function ipOf(i: number): string {
  const hex = i.toString(16).padStart(8, '0');
  return `fc00:0000:0000:0000:0000:0000:${hex.slice(0, 4)}:${hex.slice(4)}`;
}

function link(peerNum: number, time: number): Link {
  return {
    label: `0000.0000.0000.${(0x13 + 2 * peerNum).toString(16).padStart(4, '0')}`,
    encodingFormNum: 0,
    peerNum,
    linkState: new LinkStateTable(),
    createTime: time,
    mostRecentLsSlot: Math.floor(time / 10_000),
    time,
    mtu: 1280,
    flags: 0,
    value: 0,
  };
}

let anns: Announcement[] | undefined;
/** A few real signed announcements of different lengths (alice's). */
function announcements(): Announcement[] {
  const alice = signedNode('alice');
  const snodeIp = 'fc00:0000:0000:0000:0000:0000:0000:0001';
  anns ??= [0, 2, 5].map((peers, k) =>
    parsed(
      signedAnn(alice, {
        timestamp: T0 + k,
        isReset: k === 0,
        snodeIp,
        entities: Array.from({ length: peers }, (_, p) => ({
          type: 'Peer' as const,
          ipv6: ipOf(p + 1),
          label: 0x13 + 2 * p,
          peerNum: p + 1,
          mtu: 1280,
          encodingFormNum: 0,
          flags: 0,
        })),
      }),
    ),
  );
  return anns;
}

/**
 * Put `count` records into `table` (node i has links from i−1, i+1 and i+7 when they exist, and
 * one from a node that has no record, which `/walk` leaves out); every 5th record no longer
 * keeps its reset (`rst` in `/ni`).
 */
export function fillSyntheticTable(table: NodeTable, count: number): void {
  const [reset, a1, a2] = announcements() as [Announcement, Announcement, Announcement];
  for (let i = 0; i < count; i++) {
    const time = T0 + i * 1000;
    const inward = new Map<string, Link[]>();
    for (const [k, peer] of [i - 1, i + 1, i + 7, count + 1].entries()) {
      if (peer >= 0 && (peer < count || peer === count + 1))
        inward.set(ipOf(peer), [link(k + 1, time - k)]);
    }
    const record: NodeRecord = {
      version: 22,
      key: `${i.toString(36).padStart(6, '0')}synthetic${'0'.repeat(37)}.k`,
      keyBytes: new Uint8Array(32),
      ipv6: ipOf(i),
      encodingScheme: SCHEMES.v358,
      inwardLinksByIp: inward,
      timestamp: time,
      timestampHex: time.toString(16).padStart(16, '0'),
      announcements: i % 5 === 4 ? [a2, a1] : i % 2 === 0 ? [a1, reset] : [reset],
      resetMsg: reset,
      stateHash: new Uint8Array(64),
    };
    table.put(record);
  }
}
