import { expect } from 'chai';
import { RsError } from '../../../src/errors.ts';
import {
  AGREED_TIMEOUT_MS,
  GLOBAL_TIMEOUT_MS,
  MAX_CLOCK_SKEW_MS,
} from '../../../src/graph/constants.ts';
import { NodeTable, type AnnounceOptions } from '../../../src/graph/apply-announcement.ts';
import { stateHash } from '../../../src/graph/state-hash.ts';
import type { Announcement } from '../../../src/protocol/announcement-types.ts';
import { SCHEMES } from '../../../src/protocol/encoding-scheme.ts';
import {
  encodingScheme,
  hex,
  ipOf,
  linkState,
  mkAnn,
  mkReset,
  peer,
  SNODE_IP,
  T0,
  version,
  withdraw,
} from './fixtures.ts';

const A = ipOf(1);
const B = ipOf(2);
const C = ipOf(3);
const ZERO = new Uint8Array(64);

const fromNode = (now: number): AnnounceOptions => ({ fromNode: true, now, selfIp: SNODE_IP });
const gossip = (now: number, selfIp: string | undefined): AnnounceOptions => ({
  fromNode: false,
  now,
  selfIp,
});

function announce(
  t: NodeTable,
  ann: Announcement,
  opts: AnnounceOptions = fromNode(ann.timestamp),
) {
  return t.handleAnnounce({ ann }, opts);
}

/** links of a node as [peerIp, label, peerNum, formNum][] in map/array order */
function linksOf(t: NodeTable, ip: string): [string, string, number, number][] {
  const out: [string, string, number, number][] = [];
  for (const [pip, links] of t.get(ip)!.inwardLinksByIp) {
    for (const l of links) out.push([pip, l.label.slice(10), l.peerNum, l.encodingFormNum]);
  }
  return out;
}

describe('node-table', () => {
  describe('NodeTable#handleAnnounce()', () => {
    it('creates a record from a reset and replies with its stateHash', () => {
      const t = new NodeTable();
      const reset = mkReset(A, T0, [peer(B, 0x13, 1)]);
      const out = announce(t, reset);
      expect(out.error).to.equal('none');
      expect(out.stateHash).to.deep.equal(stateHash(t.get(A)));
      expect(hex(out.added)).to.deep.equal(hex([reset.hash]));
      expect(out.deleted).to.deep.equal([]);
      const rec = t.get(A)!;
      expect(rec.version).to.equal(22);
      expect(rec.resetMsg).to.equal(reset);
      expect(rec.stateHash).to.deep.equal(out.stateHash);
      expect(linksOf(t, A)).to.deep.equal([[B, '0000.0013', 1, 0]]);
    });

    it('replies with a zero hash after a parse failure, even for a known node', () => {
      const t = new NodeTable();
      announce(t, mkReset(A, T0));
      const out = t.handleAnnounce(
        { parseError: new RsError('RS_ERR_ANN_RUNT', 'runt') },
        fromNode(T0),
      );
      expect(out).to.deep.include({
        error: 'failed_parse_or_validate',
        node: undefined,
        added: [],
        deleted: [],
      });
      expect(out.stateHash).to.deep.equal(ZERO);
    });

    it('refuses an older message from the node with old_message and the current hash', () => {
      const t = new NodeTable();
      announce(t, mkReset(A, T0 + 10));
      const out = announce(t, mkAnn({ nodeIp: A, timestamp: T0 + 9 }), fromNode(T0 + 10));
      expect(out.error).to.equal('old_message');
      expect(out.stateHash).to.deep.equal(stateHash(t.get(A)));
    });

    it('accepts a message with the same timestamp as the newest', () => {
      const t = new NodeTable();
      announce(t, mkReset(A, T0));
      expect(announce(t, mkAnn({ nodeIp: A, timestamp: T0 })).error).to.equal('none');
    });

    it('refuses a message from the node addressed to another snode, or when our IP is unknown', () => {
      const t = new NodeTable();
      const ann = mkReset(A, T0);
      expect(
        t.handleAnnounce({ ann }, { fromNode: true, now: T0, selfIp: ipOf(99) }).error,
      ).to.equal('wrong_snode');
      expect(
        t.handleAnnounce({ ann }, { fromNode: true, now: T0, selfIp: undefined }).error,
      ).to.equal('wrong_snode');
      expect(t.size).to.equal(0);
    });

    it('accepts a clock skew of exactly 10 s and refuses more, for messages from the node only', () => {
      const t = new NodeTable();
      expect(announce(t, mkReset(A, T0), fromNode(T0 + MAX_CLOCK_SKEW_MS)).error).to.equal('none');
      expect(announce(t, mkReset(B, T0), fromNode(T0 - MAX_CLOCK_SKEW_MS - 1)).error).to.equal(
        'excessive_clock_skew',
      );
      expect(announce(t, mkReset(B, T0), gossip(T0 + 5 * 3600 * 1000, ipOf(99))).error).to.equal(
        'none',
      );
    });

    it('refuses gossip addressed to us (wrong_snode), but not when our IP is unknown', () => {
      const t = new NodeTable();
      expect(announce(t, mkReset(A, T0), gossip(T0, SNODE_IP)).error).to.equal('wrong_snode');
      expect(announce(t, mkReset(A, T0), gossip(T0, undefined)).error).to.equal('none');
    });

    it('checks the encoding scheme before the version, and both before unknown_node', () => {
      const t = new NodeTable();
      const bare = mkAnn({ nodeIp: A, timestamp: T0, entities: [peer(B, 0x13, 1)] });
      expect(announce(t, bare).error).to.equal('no_encodingScheme');
      const noVersion = mkAnn({ nodeIp: A, timestamp: T0, entities: [encodingScheme()] });
      expect(announce(t, noVersion).error).to.equal('no_version');
      const versionZero = mkAnn({
        nodeIp: A,
        timestamp: T0,
        isReset: true,
        entities: [version(0), version(5), encodingScheme()],
      });
      expect(announce(t, versionZero).error).to.equal('no_version');
      const full = mkAnn({ nodeIp: A, timestamp: T0, entities: [version(22), encodingScheme()] });
      const out = announce(t, full);
      expect(out.error).to.equal('unknown_node');
      expect(out.stateHash).to.deep.equal(ZERO);
      expect(t.size).to.equal(0);
    });

    it('accepts an empty encoding scheme as a scheme', () => {
      const t = new NodeTable();
      const out = announce(t, mkReset(A, T0, [], []));
      expect(out.error).to.equal('none');
      expect(t.get(A)!.encodingScheme).to.deep.equal([]);
    });

    it('ignores older gossip: no error, no change', () => {
      const t = new NodeTable();
      announce(t, mkReset(A, T0 + 1000));
      const before = t.get(A)!;
      const out = announce(t, mkReset(A, T0), gossip(T0, ipOf(99)));
      expect(out).to.deep.include({ error: 'none', added: [], deleted: [] });
      expect(t.get(A)).to.equal(before);
    });

    it('replaces the record on a reset in place, discarding links and deleting old announcements', () => {
      const t = new NodeTable();
      announce(t, mkReset(A, T0));
      const r1 = mkReset(B, T0, [peer(A, 0x13, 1)]);
      announce(t, r1);
      announce(t, mkReset(C, T0));
      const u1 = mkAnn({ nodeIp: B, timestamp: T0 + 1, entities: [peer(C, 0x15, 2)] });
      announce(t, u1);
      const r2 = mkAnn({
        nodeIp: B,
        timestamp: T0 + 2,
        isReset: true,
        entities: [peer(C, 0x17, 3)],
      });
      const out = announce(t, r2);
      expect(hex(out.deleted)).to.deep.equal(hex([u1.hash, r1.hash, r1.hash]));
      expect([...t.nodesByIp.keys()]).to.deep.equal([A, B, C]);
      expect(linksOf(t, B)).to.deep.equal([[C, '0000.0017', 3, 0]]);
      // Version and EncodingScheme inherited from the replaced record
      expect(t.get(B)!.version).to.equal(22);
      expect(t.get(B)!.encodingScheme).to.equal(SCHEMES.v358);
    });

    it('keeps the version of the reset when a later message carries another Version', () => {
      const t = new NodeTable();
      announce(t, mkReset(A, T0));
      announce(t, mkAnn({ nodeIp: A, timestamp: T0 + 1, entities: [version(23)] }));
      expect(t.get(A)!.version).to.equal(22);
    });

    it('deletes dropped announcements from the store, but never the resetMsg', () => {
      const t = new NodeTable();
      const reset = mkReset(A, T0, [peer(B, 0x13, 1)]);
      announce(t, reset);
      const full = mkAnn({
        nodeIp: A,
        timestamp: T0 + 1,
        entities: [version(22), encodingScheme(), peer(B, 0x13, 1)],
      });
      const out = announce(t, full);
      expect(out.deleted).to.deep.equal([]);
      expect(t.get(A)!.announcements).to.deep.equal([full]);
      expect(t.get(A)!.resetMsg).to.equal(reset);
      const late = mkAnn({ nodeIp: A, timestamp: T0 + AGREED_TIMEOUT_MS + 2 });
      expect(hex(announce(t, late, fromNode(late.timestamp)).deleted)).to.deep.equal(
        hex([full.hash]),
      );
    });

    describe('Peer entities', () => {
      it('appends a link with a new peerNum and replaces one with a new label in place', () => {
        const t = new NodeTable();
        announce(t, mkReset(A, T0, [peer(B, 0x13, 1), peer(B, 0x15, 2)]));
        announce(
          t,
          mkAnn({ nodeIp: A, timestamp: T0 + 1, entities: [peer(B, 0x17, 1), peer(B, 0x19, 3)] }),
        );
        expect(linksOf(t, A)).to.deep.equal([
          [B, '0000.0017', 1, 0],
          [B, '0000.0015', 2, 0],
          [B, '0000.0019', 3, 0],
        ]);
      });

      it('refreshes mtu, flags and time in place when label and form are unchanged, keeping value and link state', () => {
        const t = new NodeTable();
        announce(
          t,
          mkReset(A, T0, [
            peer(B, 0x13, 1),
            linkState(1, 0, [
              [1, 0, 1],
              [1, 0, 4],
            ]),
          ]),
        );
        const link = t.get(A)!.inwardLinksByIp.get(B)![0]!;
        expect(link.value).to.equal(4);
        announce(
          t,
          mkAnn({
            nodeIp: A,
            timestamp: T0 + 20000,
            entities: [peer(B, 0x13, 1, 0, { mtu: 1280, flags: 1 })],
          }),
        );
        const same = t.get(A)!.inwardLinksByIp.get(B)![0]!;
        expect(same).to.equal(link);
        expect(same).to.deep.include({
          mtu: 1280,
          flags: 1,
          time: T0 + 20000,
          createTime: T0,
          value: 4,
        });
        expect(same.linkState.size).to.equal(1);
      });

      it('replaces the link (value 0, no link state) when only the form number changes', () => {
        const t = new NodeTable();
        announce(
          t,
          mkReset(A, T0, [
            peer(B, 0x13, 1),
            linkState(1, 0, [
              [1, 0, 1],
              [1, 0, 4],
            ]),
          ]),
        );
        announce(t, mkAnn({ nodeIp: A, timestamp: T0 + 20000, entities: [peer(B, 0x13, 1, 2)] }));
        const link = t.get(A)!.inwardLinksByIp.get(B)![0]!;
        expect(link).to.deep.include({ encodingFormNum: 2, value: 0, createTime: T0 + 20000 });
        expect(link.linkState.size).to.equal(0);
      });

      it('matches only the first link with the peerNum', () => {
        const t = new NodeTable();
        announce(t, mkReset(A, T0, [peer(B, 0x13, 1), peer(B, 0x15, 1)]));
        // the second Peer entity of the reset replaced the first link (same peerNum)
        expect(linksOf(t, A)).to.deep.equal([[B, '0000.0015', 1, 0]]);
      });

      it('withdraws every link of the IP with the peerNum (label 0) and drops an emptied entry', () => {
        const t = new NodeTable();
        announce(t, mkReset(A, T0, [peer(B, 0x13, 1), peer(C, 0x15, 1), peer(C, 0x17, 2)]));
        announce(t, mkAnn({ nodeIp: A, timestamp: T0 + 1, entities: [withdraw(C, 1)] }));
        expect(linksOf(t, A)).to.deep.equal([
          [B, '0000.0013', 1, 0],
          [C, '0000.0017', 2, 0],
        ]);
        announce(t, mkAnn({ nodeIp: A, timestamp: T0 + 2, entities: [withdraw(B, 1)] }));
        expect([...t.get(A)!.inwardLinksByIp.keys()]).to.deep.equal([C]);
      });

      it('ignores a withdrawal for an unknown IP', () => {
        const t = new NodeTable();
        announce(t, mkReset(A, T0, [peer(B, 0x13, 1)]));
        const out = announce(
          t,
          mkAnn({ nodeIp: A, timestamp: T0 + 1, entities: [withdraw(C, 1)] }),
        );
        expect(out.error).to.equal('none');
        expect(linksOf(t, A)).to.deep.equal([[B, '0000.0013', 1, 0]]);
      });

      it('re-adds a withdrawn peer IP at the end of the map', () => {
        const t = new NodeTable();
        announce(t, mkReset(A, T0, [peer(B, 0x13, 1), peer(C, 0x15, 2)]));
        announce(
          t,
          mkAnn({ nodeIp: A, timestamp: T0 + 1, entities: [withdraw(B, 1), peer(B, 0x13, 1)] }),
        );
        expect([...t.get(A)!.inwardLinksByIp.keys()]).to.deep.equal([C, B]);
      });
    });

    it('applies link state after the peers of the same announcement', () => {
      const t = new NodeTable();
      announce(
        t,
        mkReset(A, T0, [
          linkState(1, 0, [
            [1, 0, 1],
            [1, 0, 9],
          ]),
          peer(B, 0x13, 1),
        ]),
      );
      expect(t.get(A)!.inwardLinksByIp.get(B)![0]!.value).to.equal(9);
    });

    it('never decays a value through announcements: older ones are refused before link state', () => {
      const t = new NodeTable();
      announce(t, mkReset(A, T0, [peer(B, 0x13, 1)]));
      announce(
        t,
        mkAnn({
          nodeIp: A,
          timestamp: T0 + 50000,
          entities: [
            linkState(1, 0, [
              [1, 0, 1],
              [1, 0, 9],
            ]),
          ],
        }),
      );
      const link = t.get(A)!.inwardLinksByIp.get(B)![0]!;
      const older = mkAnn({
        nodeIp: A,
        timestamp: T0 + 20000,
        entities: [
          linkState(1, 0, [
            [1, 0, 1],
            [1, 0, 9],
          ]),
        ],
      });
      expect(announce(t, older, gossip(T0 + 50000, ipOf(99))).error).to.equal('none');
      expect(announce(t, older, fromNode(T0 + 50000)).error).to.equal('old_message');
      expect(link.value).to.equal(9);
      expect(link.mostRecentLsSlot).to.equal(Math.floor((T0 + 50000) / 10000));
    });
  });

  describe('NodeTable#expire()', () => {
    it('forgets nodes older than the global timeout and returns their hashes, resetMsg last', () => {
      const t = new NodeTable();
      const ra = mkReset(A, T0, [peer(B, 0x13, 1)]);
      announce(t, ra);
      announce(t, mkReset(B, T0 + 5000, [peer(A, 0x15, 1)]));
      const ua = mkAnn({ nodeIp: A, timestamp: T0 + 1, entities: [peer(B, 0x13, 1)] });
      announce(t, ua);
      expect(t.expire(T0 + 1 + GLOBAL_TIMEOUT_MS)).to.deep.equal([]);
      const deleted = t.expire(T0 + 2 + GLOBAL_TIMEOUT_MS);
      expect(hex(deleted)).to.deep.equal(hex([ua.hash, ra.hash, ra.hash]));
      expect([...t.nodesByIp.keys()]).to.deep.equal([B]);
      // links to the forgotten node stay in B's record
      expect(t.get(B)!.inwardLinksByIp.has(A)).to.equal(true);
    });

    it('re-inserts a node created again after expiry at the end of the table', () => {
      const t = new NodeTable();
      announce(t, mkReset(A, T0));
      announce(t, mkReset(B, T0 + 10_000));
      t.expire(T0 + 1 + GLOBAL_TIMEOUT_MS);
      const now = T0 + 2 + GLOBAL_TIMEOUT_MS;
      announce(t, mkReset(A, now), fromNode(now));
      expect([...t.nodesByIp.keys()]).to.deep.equal([B, A]);
      expect([...t].map((r) => r.ipv6)).to.deep.equal([B, A]);
    });
  });
});
