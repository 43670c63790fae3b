/**
 * Record deltas (docs/cluster.md, "Deltas"): a route server fed only the deltas another process
 * computed ends with what one that applied every announcement in full holds — the same `/dump`,
 * the same kept announcements and stateHash per node, the same link values, the same routes
 * (fast engine, after the swap) — over random sequences of resets, peer changes, withdrawals and
 * link state from several nodes. Then every node fails over to the delta-fed process: it accepts
 * the node's next announcement with the stateHash the node's origin would have answered.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { ClusterDelta } from '../../src/protocol/cluster-delta.ts';
import { decodeClusterDelta } from '../../src/protocol/cluster-delta.ts';
import { bytesToHex } from '../../src/protocol/hex.ts';
import type { RouteServer } from '../../src/server/route-server.ts';
import {
  Announcer,
  NODES,
  homeProcess,
  state,
  type Op,
} from '../helpers/cluster-delta-fixtures.ts';
import { fastServer } from '../helpers/fast-server.ts';

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reset' as const),
      node: fc.nat(5),
      peers: fc.uniqueArray(fc.nat(5), { maxLength: 4 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('peer' as const),
      node: fc.nat(5),
      peer: fc.nat(5),
      slot: fc.nat(3),
      mtu: fc.integer({ min: 1, max: 200 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('withdraw' as const),
      node: fc.nat(5),
      peer: fc.nat(5),
      slot: fc.nat(3),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('linkState' as const),
      node: fc.nat(5),
      slot: fc.nat(3),
      samples: fc.array(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.nat(3), fc.nat(5000)), {
        minLength: 1,
        maxLength: 6,
      }),
    }),
  },
);

async function routes(server: RouteServer): Promise<string[]> {
  await server.routing!.sync();
  const out: string[] = [];
  for (const a of NODES)
    for (const b of NODES) out.push(JSON.stringify(server.getRoute(a.ipv6, b.ipv6)));
  return out;
}

describe('record deltas (property): deltas alone give what the announcements in full give', function () {
  this.timeout(120_000);

  it('same /dump, kept sets, stateHashes, link values and routes; then a failover continues every stateHash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbOp, { minLength: 1, maxLength: 40 }), async (ops) => {
        const home = homeProcess();
        // one clock for the cluster: the failover's announcements are within everyone's skew
        const byDelta = fastServer({ clock: home.clock }).server;
        const inFull = fastServer({ clock: home.clock }).server;
        const ann = new Announcer(home.now);
        try {
          // every node starts with a reset, so most later operations apply
          await home.announce(ann, [
            ...NODES.map((_n, node): Op => ({ kind: 'reset', node, peers: [0, 1, 2, 3, 4, 5] })),
            ...ops,
          ]);
          let viaDelta = 0;
          for (const p of home.published) {
            expect(
              p.delta,
              'the fast engine publishes a delta with every accepted announcement',
            ).to.not.equal(undefined);
            const r = await byDelta.applyClusterDelta(p.bytes, p.delta!, p.nodeIp);
            if (r === 'delta') viaDelta++;
            await inFull.submitAnnouncement(p.bytes, 'cluster');
          }
          // in this order nothing is missed: every delta fits the record it meets
          expect(viaDelta).to.equal(home.published.length);
          expect(state(byDelta)).to.deep.equal(state(inFull));
          expect(state(byDelta)).to.deep.equal(state(home.server));
          expect(
            Buffer.from(byDelta.views.dump()).equals(Buffer.from(inFull.views.dump())),
            '/dump',
          ).to.equal(true);
          expect(await routes(byDelta)).to.deep.equal(await routes(inFull));
          // failover: each node's next announcement goes to the delta-fed process (as the node
          // itself: keep rules on kept announcements it never parsed), and to the origin
          for (let node = 0; node < NODES.length; node++) {
            home.advance(1000);
            const next = ann.build({
              kind: 'peer',
              node,
              peer: (node + 1) % NODES.length,
              slot: 1,
              mtu: 100,
            });
            const there = await home.server.submitAnnouncement(next, 'node');
            const here = await byDelta.submitAnnouncement(next, 'node');
            expect(here.error).to.equal(there.error);
            expect(
              bytesToHex(here.stateHash),
              `node ${node}: stateHash after the failover`,
            ).to.equal(bytesToHex(there.stateHash));
          }
          expect(state(byDelta)).to.deep.equal(state(home.server));
        } finally {
          await Promise.all([home.server.close(), byDelta.close(), inFull.close()]);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('a delta that does not fit the record (an entry missed) is applied as the announcement in full', async () => {
    const home = homeProcess();
    const late = fastServer().server;
    const ann = new Announcer(home.now);
    try {
      await home.announce(ann, [
        { kind: 'reset', node: 0, peers: [1, 2] },
        { kind: 'peer', node: 0, peer: 3, slot: 2, mtu: 9 },
        { kind: 'peer', node: 0, peer: 1, slot: 0, mtu: 7 },
      ]);
      const [reset, , last] = home.published;
      expect(await late.applyClusterDelta(reset!.bytes, reset!.delta!, reset!.nodeIp)).to.equal(
        'delta',
      );
      // the second entry is missed: the third's delta names a kept announcement this record lacks
      const d: ClusterDelta = decodeClusterDelta(last!.delta!);
      expect(d.keptAfter.length).to.be.greaterThan(0);
      expect(await late.applyClusterDelta(last!.bytes, last!.delta!, last!.nodeIp)).to.equal(
        'full',
      );
      expect(
        await late.applyClusterDelta(last!.bytes, last!.delta!, last!.nodeIp),
        'already stored',
      ).to.equal('stored');
    } finally {
      await Promise.all([home.server.close(), late.close()]);
    }
  });

  it("a delta is installed only with an announcement of the envelope's node (else applied in full, to its own node)", async () => {
    const home = homeProcess();
    const other = fastServer({ clock: home.clock }).server;
    const ann = new Announcer(home.now);
    try {
      await home.announce(ann, [
        { kind: 'reset', node: 0, peers: [1, 2] },
        { kind: 'reset', node: 1, peers: [0, 2] },
        { kind: 'peer', node: 0, peer: 3, slot: 2, mtu: 9 },
        { kind: 'peer', node: 1, peer: 3, slot: 2, mtu: 9 },
      ]);
      const [reset0, reset1, peer0, peer1] = home.published;
      const node0 = reset0!.nodeIp;
      // node 1's reset under node 0's name and delta: applied in full, as node 1's
      expect(await other.applyClusterDelta(reset1!.bytes, reset0!.delta!, node0)).to.equal('full');
      expect(state(other)[node0], 'no record of node 0 made from a reset of node 1').to.equal(
        undefined,
      );
      expect(await other.applyClusterDelta(reset0!.bytes, reset0!.delta!, node0)).to.equal('delta');
      const before = state(other)[node0];
      // node 1's announcement with node 0's delta (which fits node 0's record): not installed
      expect(await other.applyClusterDelta(peer1!.bytes, peer0!.delta!, node0)).to.equal('full');
      expect(state(other)[node0], 'node 0 untouched by an announcement of node 1').to.deep.equal(
        before,
      );
      // the full applies went to node 1, as the bytes say
      expect(state(other)[reset1!.nodeIp]).to.deep.equal(state(home.server)[reset1!.nodeIp]);
      expect(await other.applyClusterDelta(peer0!.bytes, peer0!.delta!, node0)).to.equal('delta');
      expect(state(other)).to.deep.equal(state(home.server));
    } finally {
      await Promise.all([home.server.close(), other.close()]);
    }
  });
});
