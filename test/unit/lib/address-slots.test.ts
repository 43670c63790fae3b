import { expect } from 'chai';
import { AddressSlots, addressKey } from '../../../src/lib/address-slots.ts';

describe('lib/address-slots', () => {
  describe('#addressKey()', () => {
    it('is the address for IPv4, also when IPv4-mapped', () => {
      expect(addressKey('10.1.2.3')).to.equal('10.1.2.3');
      expect(addressKey('::ffff:10.1.2.3')).to.equal('10.1.2.3');
    });
    it('groups IPv6 by /64, whatever the spelling', () => {
      expect(addressKey('2001:db8:1:2::1')).to.equal(addressKey('2001:0db8:0001:0002:ffff:0:0:9'));
      expect(addressKey('2001:db8:1:2::1')).to.not.equal(addressKey('2001:db8:1:3::1'));
      expect(addressKey('fc00::1%eth0')).to.equal(addressKey('fc00::2'));
    });
    it('keeps an unparsable address as its own group', () => {
      expect(addressKey('not-an-ip')).to.equal('not-an-ip');
      expect(addressKey(undefined)).to.equal('?');
    });
  });

  describe('AddressSlots', () => {
    it('refuses past perAddress for one group, and past total for everyone', () => {
      const slots = new AddressSlots({ perAddress: 2, total: 3 });
      const a1 = slots.tryAcquire('10.0.0.1');
      const a2 = slots.tryAcquire('::ffff:10.0.0.1');
      expect(typeof a1).to.equal('function');
      expect(typeof a2).to.equal('function');
      expect(slots.tryAcquire('10.0.0.1')).to.equal('address');
      expect(typeof slots.tryAcquire('10.0.0.2')).to.equal('function');
      expect(slots.tryAcquire('10.0.0.3')).to.equal('total');
      expect(slots.active).to.equal(3);
      expect(slots.heldBy('10.0.0.1')).to.equal(2);
    });
    it('gives a slot back once, however often it is released', () => {
      const slots = new AddressSlots({ perAddress: 1, total: 10 });
      const release = slots.tryAcquire('10.0.0.1') as () => void;
      release();
      release();
      expect(slots.active).to.equal(0);
      expect(slots.heldBy('10.0.0.1')).to.equal(0);
      const again = slots.tryAcquire('10.0.0.1');
      expect(typeof again).to.equal('function');
      expect(slots.tryAcquire('10.0.0.1')).to.equal('address');
    });
  });
});
