/**
 * ReplicaLinks: every node's packed links by id, in shared chunks; exact through churn and
 * compaction, laid out in id order on request, and dropped chunks' memory given back at once.
 */
import { expect } from 'chai';
import { NO_LINKS, ReplicaLinks } from '../../../src/routing/replica-links.ts';
import { packLinks } from '../../helpers/packed-links.ts';
import { prng } from '../../helpers/prng.ts';

/** Random packed links: a few peers with a few links each, now and then a very long list. */
function randomLinks(rnd: () => number, long: boolean): Float64Array {
  const peers = long ? 2 : 1 + Math.floor(rnd() * 6);
  return packLinks(
    Array.from({ length: peers }, (_, i) => {
      const count = long ? 3000 : Math.floor(rnd() * 4);
      return [
        Math.floor(rnd() * 1000) + i,
        Array.from({ length: count }, () => [
          Math.floor(rnd() * 500),
          Math.floor(rnd() * 3),
          rnd(),
        ]),
      ] as const;
    }),
  );
}

/** Every held node's links equal `expected`, and the totals are their sums. */
function expectExact(links: ReplicaLinks, expected: Map<number, Float64Array>): void {
  let peers = 0;
  let linkCount = 0;
  for (let id = 0; id < links.chunkOf.length; id++) {
    const want = expected.get(id);
    expect(links.has(id), `node ${id} held`).to.equal(want !== undefined);
    if (!want) continue;
    expect([...links.view(id)!], `links of ${id}`).to.deep.equal([...want]);
    peers += want[0]!;
    linkCount += want[1 + 2 * want[0]!]!;
  }
  expect(links.peerTotal).to.equal(peers);
  expect(links.linkTotal).to.equal(linkCount);
}

describe('replica-links', () => {
  it('holds every node’s links exactly through replacements, removals and compaction', () => {
    const rnd = prng(17);
    const links = new ReplicaLinks();
    const expected = new Map<number, Float64Array>();
    let maxChunks = 0;
    for (let round = 0; round < 40; round++) {
      for (let k = 0; k < 400; k++) {
        const id = Math.floor(rnd() * 600);
        if (rnd() < 0.15) {
          links.delete(id);
          expected.delete(id);
        } else {
          // links longer than a quarter chunk get a chunk of their own
          const d = randomLinks(rnd, rnd() < 0.002);
          links.set(id, d);
          expected.set(id, d);
        }
      }
      expectExact(links, expected);
      maxChunks = Math.max(maxChunks, links.chunkCount);
    }
    // ~40 rounds × ~100 KB written, but compaction keeps only about the live part in chunks
    expect(maxChunks).to.be.lessThan(12);
  });

  it('lays the links out in id order when most were placed since the last layout', () => {
    const rnd = prng(5);
    const links = new ReplicaLinks();
    const expected = new Map<number, Float64Array>();
    // placed in a random id order
    const ids = Array.from({ length: 3000 }, (_, i) => i).sort(() => rnd() - 0.5);
    for (const id of ids) {
      const d = randomLinks(rnd, id === 1234);
      links.set(id, d);
      expected.set(id, d);
    }
    expect(links.scrambled).to.equal(true);
    const old = links.chunks;
    links.layOut();
    expect(links.scrambled).to.equal(false);
    expectExact(links, expected);
    // (chunk, start) increases with the id: a pass in id order reads memory front to back
    // (but for node 1234's long links, in a chunk of their own)
    let last = [-1, -1];
    for (let id = 0; id < 3000; id++) {
      if (id === 1234) continue;
      const at = [links.chunkOf[id]!, links.startOf[id]!];
      expect(at[0]! > last[0]! || (at[0] === last[0] && at[1]! > last[1]!), `node ${id}`).to.equal(
        true,
      );
      last = at;
    }
    // the old chunks' memory was handed back (their buffers detached)
    for (const chunk of old) expect(chunk.buffer.byteLength).to.equal(0);
    // a quarter of the nodes replaced: scrambled again
    for (let k = 0; k <= 750; k++) {
      const d = randomLinks(rnd, false);
      links.set(k * 4, d);
      expected.set(k * 4, d);
    }
    expect(links.scrambled).to.equal(true);
    expectExact(links, expected);
  });

  it('covers ids without links, and forgets everything on clear', () => {
    const links = new ReplicaLinks();
    links.cover(10);
    expect(links.chunkOf.length).to.be.at.least(10);
    for (let id = 0; id < 10; id++) expect(links.chunkOf[id]).to.equal(NO_LINKS);
    links.set(3, packLinks([[1, [[5, 0, 1]]]]));
    links.delete(4); // never held: nothing happens
    expect(links.has(3)).to.equal(true);
    links.clear();
    expect(links.has(3)).to.equal(false);
    expect(links.peerTotal).to.equal(0);
    expect(links.linkTotal).to.equal(0);
  });
});
