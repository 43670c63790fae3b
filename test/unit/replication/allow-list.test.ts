import { expect } from 'chai';
import { AllowList, isValidAllowEntry } from '../../../src/replication/allow-list.ts';

describe('allow-list', () => {
  describe('#isValidAllowEntry()', () => {
    it('accepts addresses and CIDR blocks, rejects the rest', () => {
      for (const ok of ['127.0.0.1', '10.0.0.0/8', '::1', 'fc00::/8', '2001:db8::/32', '0.0.0.0/0'])
        expect(isValidAllowEntry(ok), ok).to.equal(true);
      for (const bad of ['', 'localhost', '10.0.0.0/33', 'fc00::/129', '10.0.0.0/x', '1.2.3'])
        expect(isValidAllowEntry(bad), bad).to.equal(false);
    });
  });

  describe('AllowList#allows()', () => {
    it('lets everyone in when empty (as the original)', () => {
      expect(new AllowList([]).allows('203.0.113.9')).to.equal(true);
    });

    it('matches exact addresses, IPv4 and IPv6 blocks, and IPv4-mapped IPv6 remotes', () => {
      const a = new AllowList(['192.0.2.7', '10.0.0.0/8', 'fc00::/8']);
      expect(a.allows('192.0.2.7')).to.equal(true);
      expect(a.allows('192.0.2.8')).to.equal(false);
      expect(a.allows('10.200.1.1')).to.equal(true);
      expect(a.allows('::ffff:10.200.1.1')).to.equal(true);
      expect(a.allows('::ffff:11.0.0.1')).to.equal(false);
      expect(a.allows('fc12:3456::1')).to.equal(true);
      expect(a.allows('fd00::1')).to.equal(false);
      expect(a.allows(undefined)).to.equal(false);
      expect(a.allows('garbage')).to.equal(false);
    });
  });
});
