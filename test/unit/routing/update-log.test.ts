import { expect } from 'chai';
import { unpackUpdates, type NodeUpdate } from '../../../src/routing/node-update.ts';
import { UpdateLog } from '../../../src/routing/update-log.ts';

/** A deterministic update of node `id` (its links say which seq made it). */
function update(seq: number, id: number, present = true): NodeUpdate {
  const n = present ? 2 + ((seq * 7 + id) % 9) : 2;
  const links = Array.from({ length: n }, (_, k) => seq * 100 + k);
  return { seq, id, present, version: present ? 2 : 0, schemeId: present ? id % 3 : -1, links };
}

const plain = (u: NodeUpdate): object => ({ ...u, links: Array.from(u.links) });
const held = (log: UpdateLog): object[] => unpackUpdates(log.packed()).map(plain);

describe('UpdateLog (node updates held packed, newest per node)', () => {
  it('gives the newest update of each node, in the order the nodes were first set, as a Map did', () => {
    const log = new UpdateLog(2);
    const model = new Map<number, NodeUpdate>();
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (let seq = 1; seq <= 3000; seq++) {
      const u = update(seq, rnd(40), rnd(10) !== 0);
      log.set(u);
      model.set(u.id, u);
      if (seq % 97 === 0) expect(held(log)).to.deep.equal([...model.values()].map(plain));
    }
    expect(log.size).to.equal(model.size);
    expect(held(log)).to.deep.equal([...model.values()].map(plain));
  });

  it('stays bounded by the nodes it holds (dead entries are compacted away)', () => {
    const log = new UpdateLog();
    for (let seq = 1; seq <= 10_000; seq++) log.set(update(seq, seq % 5));
    expect(log.size).to.equal(5);
    expect(log.entryCount).to.be.at.most(2 * 5 + 64);
  });

  it('packs into arrays of their own (transferable; later updates do not change them)', () => {
    const log = new UpdateLog(1);
    for (let id = 0; id < 3; id++) log.set(update(1, id));
    const batch = log.packed();
    const before = unpackUpdates(batch).map(plain);
    expect(batch.meta.byteLength).to.equal(batch.meta.buffer.byteLength);
    expect(batch.links.byteLength).to.equal(batch.links.buffer.byteLength);
    for (let seq = 2; seq < 500; seq++) log.set(update(seq, seq % 3));
    expect(unpackUpdates(batch).map(plain)).to.deep.equal(before);
  });
});
