import { expect } from 'chai';
import { ReplicationStore } from '../../../src/graph/replication-store.ts';
import { hex } from './fixtures.ts';

const h = (n: number): Uint8Array => new Uint8Array(64).fill(n);
const b = (n: number): Uint8Array => new Uint8Array([n, n, n]);

describe('replication-store', () => {
  describe('ReplicationStore', () => {
    it('lists hashes in insertion order and maps them to bytes', () => {
      const s = new ReplicationStore();
      s.add(h(1), b(1));
      s.add(h(2), b(2));
      s.add(h(3), b(3));
      expect(hex([...s.hashes()])).to.deep.equal(hex([h(1), h(2), h(3)]));
      expect(s.get(h(2))).to.deep.equal(b(2));
      expect(s.has(h(3))).to.equal(true);
      expect(s.size).to.equal(3);
      expect(s.sizes()).to.deep.equal({ announcements: 3, annByHashLen: 3 });
    });

    it('keeps the position (and bytes) when an existing hash is added again', () => {
      const s = new ReplicationStore();
      s.add(h(1), b(1));
      s.add(h(2), b(2));
      expect(s.add(h(1), b(9))).to.equal(false);
      expect(hex([...s.hashes()])).to.deep.equal(hex([h(1), h(2)]));
      expect(s.get(h(1))).to.deep.equal(b(1));
    });

    it('deletes, ignores unknown hashes, and appends a re-added hash at the end', () => {
      const s = new ReplicationStore();
      s.add(h(1), b(1));
      s.add(h(2), b(2));
      expect(s.delete(h(1))).to.equal(true);
      expect(s.delete(h(1))).to.equal(false);
      expect(s.get(h(1))).to.equal(undefined);
      s.add(h(1), b(1));
      expect(hex([...s.hashes()])).to.deep.equal(hex([h(2), h(1)]));
      expect([...s.entries()].map((e) => e.binary)).to.deep.equal([b(2), b(1)]);
    });
  });
});
