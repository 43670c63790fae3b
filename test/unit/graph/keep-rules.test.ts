import { expect } from 'chai';
import { AGREED_TIMEOUT_MS } from '../../../src/graph/constants.ts';
import { applyKeepRules } from '../../../src/graph/keep-rules.ts';
import { encodingScheme, ipOf, linkState, mkAnn, mkReset, peer, T0, version } from './fixtures.ts';

const N = ipOf(1);

describe('keep-rules', () => {
  describe('#applyKeepRules()', () => {
    it('keeps an older announcement while one of its non-ephemeral entities is not replaced', () => {
      const reset = mkReset(N, T0, [peer(ipOf(2), 0x13, 1), peer(ipOf(3), 0x15, 2)]);
      const upd = mkAnn({ nodeIp: N, timestamp: T0 + 1000, entities: [peer(ipOf(2), 0x13, 1)] });
      const r = applyKeepRules([reset], upd);
      expect(r.kept).to.deep.equal([upd, reset]);
      expect(r.dropped).to.deep.equal([]);
    });

    it('drops an announcement once every entity it carries is replaced', () => {
      const reset = mkReset(N, T0, [peer(ipOf(2), 0x13, 1)]);
      const upd = mkAnn({
        nodeIp: N,
        timestamp: T0 + 1000,
        entities: [version(22), encodingScheme(), peer(ipOf(2), 0x13, 1)],
      });
      const r = applyKeepRules([reset], upd);
      expect(r.kept).to.deep.equal([upd]);
      expect(r.dropped).to.deep.equal([reset]);
    });

    it('replaces Peers by peerNum only (IPv6 and label are not compared)', () => {
      const old = mkAnn({ nodeIp: N, timestamp: T0, entities: [peer(ipOf(2), 0x13, 5)] });
      const upd = mkAnn({ nodeIp: N, timestamp: T0 + 1, entities: [peer(ipOf(9), 0x99, 5)] });
      expect(applyKeepRules([old], upd).dropped).to.deep.equal([old]);
      const other = mkAnn({ nodeIp: N, timestamp: T0 + 1, entities: [peer(ipOf(2), 0x13, 6)] });
      expect(applyKeepRules([old], other).dropped).to.deep.equal([]);
    });

    it('replaces any Version by any Version and any EncodingScheme by any EncodingScheme', () => {
      const old = mkAnn({ nodeIp: N, timestamp: T0, entities: [version(20), encodingScheme()] });
      const upd = mkAnn({
        nodeIp: N,
        timestamp: T0 + 1,
        entities: [encodingScheme([]), version(21)],
      });
      expect(applyKeepRules([old], upd).dropped).to.deep.equal([old]);
    });

    it('treats LinkState as ephemeral: a link-state-only announcement goes once a newer one arrives', () => {
      const ls = mkAnn({
        nodeIp: N,
        timestamp: T0,
        entities: [
          linkState(1, 0, [
            [1, 0, 1],
            [1, 0, 1],
          ]),
        ],
      });
      const upd = mkAnn({ nodeIp: N, timestamp: T0 + 1 });
      expect(applyKeepRules([ls], upd)).to.deep.equal({ kept: [upd], dropped: [ls] });
    });

    it('always keeps the newest announcement, even an empty one', () => {
      const reset = mkReset(N, T0, [peer(ipOf(2), 0x13, 1)]);
      const empty = mkAnn({ nodeIp: N, timestamp: T0 + 1000 });
      expect(applyKeepRules([reset], empty).kept).to.deep.equal([empty, reset]);
    });

    it('drops announcements older than 20 minutes whatever they carry, exactly 20 minutes is kept', () => {
      const reset = mkReset(N, T0, [peer(ipOf(2), 0x13, 1)]);
      const atLimit = mkAnn({ nodeIp: N, timestamp: T0 + AGREED_TIMEOUT_MS });
      expect(applyKeepRules([reset], atLimit).kept).to.deep.equal([atLimit, reset]);
      const past = mkAnn({ nodeIp: N, timestamp: T0 + AGREED_TIMEOUT_MS + 1 });
      expect(applyKeepRules([reset], past)).to.deep.equal({ kept: [past], dropped: [reset] });
    });

    it('drops by age an announcement whose entities were never replaced', () => {
      const mid = mkAnn({ nodeIp: N, timestamp: T0 + 1, entities: [peer(ipOf(2), 0x13, 1)] });
      const upd = mkAnn({ nodeIp: N, timestamp: T0 + AGREED_TIMEOUT_MS + 2 });
      expect(applyKeepRules([mid], upd).dropped).to.deep.equal([mid]);
    });

    it('tells the new announcement apart by identity, not by bytes', () => {
      const a = mkAnn({ nodeIp: N, timestamp: T0 });
      const again = { ...a };
      expect(applyKeepRules([a], again)).to.deep.equal({ kept: [again], dropped: [a] });
    });

    it('returns dropped announcements newest first', () => {
      const a = mkAnn({ nodeIp: N, timestamp: T0 });
      const b = mkAnn({ nodeIp: N, timestamp: T0 + 1 });
      const c = mkAnn({ nodeIp: N, timestamp: T0 + 2 });
      const d = mkAnn({ nodeIp: N, timestamp: T0 + 3, entities: [] });
      // b and a are empty: only the newest empty one is kept
      expect(applyKeepRules([c, b, a], d).dropped).to.deep.equal([c, b, a]);
    });
  });
});
