import { expect } from 'chai';
import {
  announcementsStateHash,
  chainStateHash,
  stateHash,
  zeroStateHash,
} from '../../../src/graph/state-hash.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { vectorsOf } from '../../helpers/vectors.ts';
import { ipOf, mkAnn, T0 } from './fixtures.ts';

interface ChainVector {
  id: string;
  announcements_oldest_first: string[];
  expected: string;
}

describe('state-hash', () => {
  describe('#chainStateHash()', () => {
    for (const v of vectorsOf<ChainVector>('state_hash.json', 'chain')) {
      it(`folds ${v.id} as the original`, () => {
        expect(bytesToHex(chainStateHash(v.announcements_oldest_first.map(hexToBytes)))).to.equal(
          v.expected,
        );
      });
    }
  });

  describe('#announcementsStateHash()', () => {
    it('folds a newest-first list oldest first', () => {
      const a = mkAnn({ nodeIp: ipOf(1), timestamp: T0 });
      const b = mkAnn({ nodeIp: ipOf(1), timestamp: T0 + 1 });
      expect(announcementsStateHash([b, a])).to.deep.equal(chainStateHash([a.binary, b.binary]));
      expect(announcementsStateHash([a, b])).to.not.deep.equal(
        chainStateHash([a.binary, b.binary]),
      );
    });
  });

  describe('#stateHash()', () => {
    it('is 64 zero bytes for no record', () => {
      expect(stateHash(undefined)).to.deep.equal(new Uint8Array(64));
      expect(zeroStateHash()).to.have.length(64);
    });
  });
});
