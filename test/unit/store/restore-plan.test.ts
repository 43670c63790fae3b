import { expect } from 'chai';
import { GLOBAL_TIMEOUT_MS } from '../../../src/graph/constants.ts';
import { restorePlan } from '../../../src/store/restore-plan.ts';
import { fakeAnn, hex } from './fixtures.ts';

const stored = (node: number, ts: number, salt = 0) => {
  const a = fakeAnn(node, ts, 160, salt);
  return {
    hash: a.hash,
    key: Buffer.from(a.hash).toString('latin1'),
    announcement: a.binary,
    nodeKey: a.nodeKey,
  };
};
const hashes = (plan: ReturnType<typeof restorePlan>): string[][] =>
  plan.nodes.map((n) => n.announcements.map((a) => hex(fakeHashOf(a))));
const fakeHashOf = (a: Uint8Array): Uint8Array => all.get(Buffer.from(a).toString('hex'))!;
const all = new Map<string, Uint8Array>();
const track = <T extends { hash: Uint8Array; announcement: Uint8Array }>(xs: T[]): T[] => {
  for (const x of xs) all.set(Buffer.from(x.announcement).toString('hex'), x.hash);
  return xs;
};

describe('store: what a restart replays', () => {
  const now = 10 * GLOBAL_TIMEOUT_MS;
  const cutoff = now - GLOBAL_TIMEOUT_MS;

  it('drops a node whose newest announcement is older than the global timeout, whole', () => {
    const live = track([
      stored(1, cutoff - 5000), // node 1: reset long ago …
      stored(2, cutoff - 10),
      stored(1, cutoff + 1, 1), // … but it announced since: kept, with its old reset
      stored(3, cutoff), // exactly at the cutoff: not older, kept
      stored(2, cutoff - 1, 1), // node 2: everything older: dropped
    ]);
    const plan = restorePlan(live, now);
    expect(hashes(plan)).to.deep.equal([
      [hex(live[0]!.hash), hex(live[2]!.hash)],
      [hex(live[3]!.hash)],
    ]);
    expect(plan).to.include({ announcements: 3, expiredNodes: 1, expiredAnnouncements: 2 });
    expect(plan.nodes.map((n) => [...n.nodeKey])).to.deep.equal([
      [...live[0]!.nodeKey],
      [...live[3]!.nodeKey],
    ]);
  });

  it('groups by node in the order of first appearance, each node in log order', () => {
    const live = track([
      stored(5, now, 0),
      stored(6, now, 0),
      stored(5, now + 1, 1),
      stored(6, now + 2, 1),
      stored(5, now + 3, 2),
    ]);
    const plan = restorePlan(live, now);
    const h = live.map((s) => hex(s.hash));
    expect(hashes(plan)).to.deep.equal([
      [h[0], h[2], h[4]],
      [h[1], h[3]],
    ]);
    expect(plan).to.include({ announcements: 5, expiredNodes: 0, expiredAnnouncements: 0 });
  });

  it('plans nothing for an empty log', () => {
    expect(restorePlan([], now)).to.deep.equal({
      nodes: [],
      announcements: 0,
      expiredNodes: 0,
      expiredAnnouncements: 0,
    });
  });
});
