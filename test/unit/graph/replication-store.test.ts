import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { AnnArena } from '../../../src/graph/ann-arena.ts';
import { ReplicationStore } from '../../../src/graph/replication-store.ts';
import { ArenaAnnouncement } from '../../../src/graph/stored-announcement.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
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

  describe('on the announcement arena', () => {
    const bin = (n: number): Uint8Array => new Uint8Array(Buffer.from(`announcement ${n}`));
    const hashOf = (n: number): Uint8Array =>
      new Uint8Array(createHash('sha512').update(bin(n)).digest());

    it('follows a Map through adds, re-adds and deletes, compactions and rehashes included (model)', () => {
      const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 }));
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 6000, size: 'max' }), (ops) => {
          const s = new ReplicationStore();
          const model = new Map<string, number>();
          for (const [add, n] of ops) {
            const key = bytesToHex(hashOf(n));
            if (add) {
              expect(s.add(hashOf(n), bin(n))).to.equal(!model.has(key));
              if (!model.has(key)) model.set(key, n);
            } else {
              expect(s.delete(hashOf(n))).to.equal(model.delete(key));
            }
          }
          expect([...s.hashes()].map(bytesToHex)).to.deep.equal([...model.keys()]);
          for (const [key, n] of model)
            expect(Buffer.from(s.get(hashOf(n))!).toString()).to.equal(`announcement ${n}`, key);
          expect(s.size).to.equal(model.size);
          expect(s.arena.size).to.equal(model.size);
        }),
        { numRuns: 20 },
      );
    });

    it('finds every entry and no deleted one when many hashes share a table slot (probe chains, freed slots)', () => {
      // the table is indexed by the hash's first bytes: give 3001 hashes only 5 distinct ones
      const crowded = (n: number): Uint8Array => {
        const h = hashOf(n);
        h.set([n % 5, 0, 0, 0], 0);
        return h;
      };
      const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 }));
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 3000, size: 'max' }), (ops) => {
          const s = new ReplicationStore();
          const model = new Set<number>();
          for (const [add, n] of ops) {
            if (add) {
              expect(s.add(crowded(n), bin(n))).to.equal(!model.has(n));
              model.add(n);
            } else expect(s.delete(crowded(n))).to.equal(model.delete(n));
          }
          for (const [, n] of ops) {
            expect(s.has(crowded(n)), `${n}`).to.equal(model.has(n));
            if (model.has(n))
              expect(Buffer.from(s.get(crowded(n))!).toString()).to.equal(`announcement ${n}`);
          }
          expect(s.size).to.equal(model.size);
        }),
        { numRuns: 30 },
      );
    });

    it('iterates like a Map while entries come and go, through a compaction of the order', () => {
      const s = new ReplicationStore();
      const m = new Map<number, true>();
      for (let n = 0; n < 3000; n++) {
        s.add(hashOf(n), bin(n));
        m.set(n, true);
      }
      const seen: string[] = [];
      const want: string[] = [];
      const it = s.hashes();
      const mit = m.keys();
      for (let step = 0; ; step++) {
        const a = it.next();
        const b = mit.next();
        if (a.done || b.done) {
          expect(a.done).to.equal(b.done);
          break;
        }
        seen.push(bytesToHex(a.value));
        want.push(bytesToHex(hashOf(b.value)));
        // at step 100: delete most entries ahead and behind (the order is compacted), add new ones
        if (step === 100) {
          for (let n = 0; n < 3000; n++)
            if (n % 7 !== 0 && n !== b.value) {
              s.delete(hashOf(n));
              m.delete(n);
            }
          for (let n = 5000; n < 5010; n++) {
            s.add(hashOf(n), bin(n));
            m.set(n, true);
          }
        }
      }
      expect(seen).to.deep.equal(want);
      expect(seen.length).to.be.above(400);
    });

    it('references an announcement held in its own arena instead of copying it', () => {
      const arena = new AnnArena();
      const s = new ReplicationStore(arena);
      const id = arena.add(hashOf(1), bin(1));
      arena.ref(id); // a record keeps it
      expect(s.add(new ArenaAnnouncement(arena, id))).to.equal(true);
      expect(arena.size).to.equal(1);
      arena.unref(id); // the record drops it: the store still holds it
      expect(Buffer.from(s.get(hashOf(1))!).toString()).to.equal('announcement 1');
      expect(s.delete(hashOf(1))).to.equal(true);
      expect(arena.size).to.equal(0);
      // a view of another arena's announcement is copied in
      const other = new AnnArena();
      const oid = other.add(hashOf(2), bin(2));
      s.add(new ArenaAnnouncement(other, oid));
      expect(arena.size).to.equal(1);
    });
  });
});
