import { expect } from 'chai';
import { DECAY_PER_TIMESLOT } from '../../../src/graph/constants.ts';
import {
  applyLinkState,
  applyLinkStates,
  findLinkForLinkState,
  lsValue,
} from '../../../src/graph/link-state.ts';
import { mkLink, newNodeRecord, type Link } from '../../../src/graph/node-record.ts';
import { SCHEMES } from '../../../src/protocol/encoding-scheme.ts';
import { vectorsOf } from '../../helpers/vectors.ts';
import { ipOf, linkState, mkAnn, peer, T0 } from './fixtures.ts';

interface LsValueVector {
  id: string;
  sample: { lag: number; drops: number; kbRecv: number };
  expected: number;
}

const TS = Math.floor(T0 / 10000);

function freshLink(timestamp = T0): Link {
  return mkLink(peer(ipOf(2), 0x13, 7), mkAnn({ nodeIp: ipOf(1), timestamp }));
}

describe('link-state', () => {
  describe('#lsValue()', () => {
    for (const v of vectorsOf<LsValueVector>('link_state.json', 'lsValue')) {
      it(`computes ${v.id} as the original`, () => {
        expect(lsValue(v.sample)).to.equal(v.expected);
      });
    }
  });

  describe('#applyLinkState()', () => {
    it('walks the ring backwards from the newest sample and never uses the oldest', () => {
      const link = freshLink();
      // slots 0,1,2 hold samples oldest first; slot 0 (startingPoint) is skipped
      applyLinkState(
        link,
        linkState(7, 0, [
          [30, 0, 10],
          [31, 0, 12],
          [29, 1, 40],
        ]),
        T0,
      );
      expect([...link.linkState.keys()]).to.deep.equal([TS, TS - 1]);
      expect(link.linkState.get(TS)).to.deep.equal({ drops: 1, lag: 29, kbRecv: 40 });
      expect(link.linkState.get(TS - 1)).to.deep.equal({ drops: 0, lag: 31, kbRecv: 12 });
      expect(link.value).to.equal(
        0 + 40 / (29 * 2) / (1 + 0 * DECAY_PER_TIMESLOT) + 12 / 31 / (1 + 1 * DECAY_PER_TIMESLOT),
      );
    });

    it('wraps around the end of the ring (startingPoint 17)', () => {
      const link = freshLink();
      applyLinkState(
        link,
        linkState(7, 17, [
          [1, 0, 1],
          [2, 0, 2],
          [3, 0, 3],
        ]),
        T0,
      );
      // samples in slots 17, 0, 1: newest (slot 1) is TS, slot 0 is TS-1, slot 17 unused
      expect([...link.linkState]).to.deep.equal([
        [TS, { drops: 0, lag: 3, kbRecv: 3 }],
        [TS - 1, { drops: 0, lag: 2, kbRecv: 2 }],
      ]);
    });

    it('skips empty slots without consuming a timeslot', () => {
      const link = freshLink();
      const e = linkState(7, 4, [
        [1, 0, 1],
        [2, 0, 2],
        [3, 0, 3],
        [4, 0, 4],
      ]);
      const lagSlots = [...e.lagSlots];
      lagSlots[6] = null; // the sample [3,0,3] lacks its lag
      applyLinkState(link, { ...e, lagSlots }, T0);
      expect([...link.linkState.keys()]).to.deep.equal([TS, TS - 1]);
      expect(link.linkState.get(TS - 1)!.lag).to.equal(2);
    });

    it('uses startingPoint modulo 18', () => {
      const a = freshLink();
      const b = freshLink();
      const e = linkState(7, 3, [
        [1, 0, 1],
        [2, 0, 2],
        [3, 0, 3],
      ]);
      applyLinkState(a, e, T0);
      applyLinkState(b, { ...e, startingPoint: 21 }, T0);
      expect([...b.linkState]).to.deep.equal([...a.linkState]);
      expect(b.value).to.equal(a.value);
    });

    it('overwrites a timeslot already present', () => {
      const link = freshLink();
      applyLinkState(
        link,
        linkState(7, 0, [
          [9, 0, 9],
          [5, 0, 5],
        ]),
        T0,
      );
      applyLinkState(
        link,
        linkState(7, 0, [
          [9, 0, 9],
          [6, 0, 6],
        ]),
        T0,
      );
      expect(link.linkState.get(TS)).to.deep.equal({ drops: 0, lag: 6, kbRecv: 6 });
      expect(link.value).to.equal(1 + 1);
    });

    it('forgets samples older than 120 timeslots', () => {
      const link = freshLink();
      applyLinkState(
        link,
        linkState(7, 0, [
          [9, 0, 9],
          [5, 0, 5],
        ]),
        T0,
      );
      applyLinkState(
        link,
        linkState(7, 0, [
          [9, 0, 9],
          [5, 0, 5],
        ]),
        T0 + 120 * 10000,
      );
      expect([...link.linkState.keys()]).to.deep.equal([TS, TS + 120]);
      applyLinkState(
        link,
        linkState(7, 0, [
          [9, 0, 9],
          [5, 0, 5],
        ]),
        T0 + 121 * 10000,
      );
      expect([...link.linkState.keys()]).to.deep.equal([TS + 120, TS + 121]);
    });

    it('decays the value when an older announcement is applied, and only then', () => {
      const link = freshLink();
      applyLinkState(
        link,
        linkState(7, 0, [
          [9, 0, 9],
          [2, 0, 20],
        ]),
        T0 + 50000,
      );
      expect(link.value).to.equal(10);
      expect(link.mostRecentLsSlot).to.equal(TS + 5);
      applyLinkState(
        link,
        linkState(7, 0, [
          [9, 0, 9],
          [1, 0, 0],
        ]),
        T0 + 20000,
      );
      // 3 timeslots older: value /= 1 + 3/18, then the (zero) sample is added
      expect(link.value).to.equal(10 / (1 + 3 * DECAY_PER_TIMESLOT));
      expect(link.mostRecentLsSlot).to.equal(TS + 2);
      const before = link.value;
      applyLinkState(
        link,
        linkState(7, 0, [
          [9, 0, 9],
          [1, 0, 0],
        ]),
        T0 + 90000,
      );
      expect(link.value).to.equal(before);
    });
  });

  describe('#applyLinkStates()', () => {
    it('applies each entity to the last link (map, then array order) with peerNum = nodeId', () => {
      const ann = mkAnn({ nodeIp: ipOf(1), timestamp: T0 });
      const rec = newNodeRecord(ann, SCHEMES.v358, 22, new Uint8Array(64));
      const first = mkLink(peer(ipOf(2), 0x13, 7), ann);
      const other = mkLink(peer(ipOf(2), 0x15, 8), ann);
      const last = mkLink(peer(ipOf(3), 0x17, 7), ann);
      rec.inwardLinksByIp.set(ipOf(2), [first, other]);
      rec.inwardLinksByIp.set(ipOf(3), [last]);
      expect(findLinkForLinkState(rec, 7)).to.equal(last);
      applyLinkStates(
        rec,
        mkAnn({
          nodeIp: ipOf(1),
          timestamp: T0,
          entities: [
            linkState(7, 0, [
              [1, 0, 1],
              [1, 0, 5],
            ]),
          ],
        }),
      );
      expect(last.value).to.equal(5);
      expect(first.value).to.equal(0);
    });

    it('ignores a LinkState entity for an unknown peerNum', () => {
      const ann = mkAnn({ nodeIp: ipOf(1), timestamp: T0 });
      const rec = newNodeRecord(ann, SCHEMES.v358, 22, new Uint8Array(64));
      const link = mkLink(peer(ipOf(2), 0x13, 7), ann);
      rec.inwardLinksByIp.set(ipOf(2), [link]);
      applyLinkStates(
        rec,
        mkAnn({
          nodeIp: ipOf(1),
          timestamp: T0 + 30000,
          entities: [
            linkState(9, 0, [
              [1, 0, 1],
              [1, 0, 5],
            ]),
          ],
        }),
      );
      expect(link.value).to.equal(0);
      expect(link.mostRecentLsSlot).to.equal(TS);
    });
  });
});
