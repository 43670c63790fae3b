/**
 * Subnode actors (fast routing mode): one actor per announcing node applies that node's
 * announcements in order; bounded mailboxes refuse floods; a crash restarts only that node's
 * actor, which rebuilds the node's record from the replication store.
 */
import { expect } from 'chai';
import { GLOBAL_TIMEOUT_MS } from '../../../src/graph/constants.ts';
import type { NodeRecordView } from '../../../src/graph/node-record.ts';
import type { Announcement } from '../../../src/protocol/announcement-types.ts';
import type { Entity } from '../../../src/protocol/entity-types.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { fastServer, TEST_SELF, until } from '../../helpers/fast-server.ts';
import { parsed, signedAnn, signedNode } from '../../helpers/signed-nodes.ts';
import { ipOf, linkState, mkAnn, mkReset, peer, SNODE_IP, T0 } from '../graph/fixtures.ts';

function chain(n: number, t: number): Announcement[] {
  const anns: Announcement[] = [mkReset(ipOf(n), t, [peer(ipOf(n + 1), 0x13, 1)])];
  for (let i = 1; i <= 20; i++) {
    const entities: Entity[] = [
      peer(ipOf(100 + i), 0x15 + 2 * (i % 3), 1 + i),
      linkState(1 + i, 0, [[10, 0, 100 + i]]),
    ];
    anns.push(mkAnn({ nodeIp: ipOf(n), timestamp: t + i * 1000, entities }));
  }
  return anns;
}

const hashOf = (r: NodeRecordView | undefined): string => (r ? bytesToHex(r.stateHash) : '-');

describe('subnode actors', () => {
  let server: RouteServer;
  let clock: ManualClock;
  afterEach(async () => server.close());

  describe('SubnodeDirectory#apply()', () => {
    it('applies the announcements of one node strictly in order, as the reference does', async () => {
      ({ server, clock } = fastServer());
      const ref = new RouteServer({ self: TEST_SELF, clock, routing: { mode: 'reference' } });
      const anns = chain(1, T0);
      // all in flight at once: the node's actor must still apply them one by one, in order
      const fast = await Promise.all(anns.map((a) => server.submitAnnouncement(a, 'gossip')));
      const slow: string[] = [];
      for (const a of anns)
        slow.push(bytesToHex((await ref.submitAnnouncement(a, 'gossip')).stateHash));
      expect(fast.map((o) => bytesToHex(o.stateHash))).to.deep.equal(slow);
      expect(hashOf(server.nodes.get(ipOf(1)))).to.equal(hashOf(ref.nodes.get(ipOf(1))));
      expect([...server.store.hashes()].map(bytesToHex)).to.deep.equal(
        [...ref.store.hashes()].map(bytesToHex),
      );
      await ref.close();
    });

    it('keeps nodesByIp in first-announcement order, with no actor for a node that never had work to queue', async () => {
      ({ server } = fastServer());
      for (const n of [5, 3, 9]) await server.submitAnnouncement(mkReset(ipOf(n), T0), 'gossip');
      await server.submitAnnouncement(mkReset(ipOf(3), T0 + 1), 'gossip'); // a reset keeps the position
      expect([...server.nodes.nodesByIp.keys()]).to.deep.equal([ipOf(5), ipOf(3), ipOf(9)]);
      expect(server.routing!.directory.activeActors).to.equal(0);
      expect(server.routing!.directory.stats.spawned).to.equal(0);
    });

    it('refuses announcements beyond the mailbox bound with RS_ERR_MAILBOX_FULL and counts them', async () => {
      // a node's backlog builds up in verification (its actor applies each one as soon as it is
      // verified): the bound counts the node's announcements waiting there
      ({ server } = fastServer({
        subnodes: { mailboxLimit: 3 },
        verifyPool: {
          workers: 1,
          batchSize: 64,
          maxInFlight: 4,
          maxQueued: 10_000,
          verifySignature: true,
        },
      }));
      const alice = signedNode('alice');
      const anns = Array.from({ length: 10 }, (_, i) =>
        signedAnn(alice, {
          timestamp: T0 + i * 1000,
          isReset: i === 0,
          snodeIp: SNODE_IP,
          entities: [{ type: 'Peer', ipv6: ipOf(10 + i), label: 0x13 + 2 * i, peerNum: 1 + i }],
        }),
      );
      const results = await Promise.allSettled(
        anns.map((a) => server.submitAnnouncement(a, 'gossip')),
      );
      const refused = results.filter((r) => r.status === 'rejected');
      expect(refused.length).to.equal(7);
      for (const r of refused)
        expect((r as PromiseRejectedResult).reason.code).to.equal('RS_ERR_MAILBOX_FULL');
      expect(server.routing!.directory.stats.rejected).to.equal(refused.length);
      // the accepted ones were applied in order and the node still works
      expect(results.slice(0, 3).map((r) => r.status)).to.deep.equal([
        'fulfilled',
        'fulfilled',
        'fulfilled',
      ]);
      const after = await server.submitAnnouncement(
        signedAnn(alice, { timestamp: T0 + 60_000, snodeIp: SNODE_IP }),
        'gossip',
      );
      expect(after.error).to.equal('none');
    });

    it('applies an announcement at once when its node has nothing queued, behind its queue otherwise', async () => {
      ({ server } = fastServer());
      const anns = chain(2, T0);
      for (const a of anns) await server.submitAnnouncement(a, 'gossip');
      const dir = server.routing!.directory;
      expect(dir.stats.direct).to.equal(anns.length);
      expect(dir.actorOf(ipOf(2))).to.equal(undefined);
      // a crash on the direct path hands the node to an actor spawned for it (its supervision
      // rebuilds the record); what the node sends in the same turn queues behind the restart
      const poison = mkAnn({
        nodeIp: ipOf(2),
        timestamp: T0 + 50_000,
        entities: [{ type: 'LinkState', nodeId: 1, startingPoint: 0 } as unknown as Entity],
      });
      const crashed = server
        .submitAnnouncement(poison, 'gossip')
        .catch((e: { code?: string }) => e);
      const next = server.submitAnnouncement(
        mkAnn({ nodeIp: ipOf(2), timestamp: T0 + 100_000 }),
        'gossip',
      );
      expect(dir.actorOf(ipOf(2))).to.not.equal(undefined);
      expect(((await crashed) as { code?: string }).code).to.equal('RS_ERR_INTERNAL');
      expect((await next).error).to.equal('none');
      expect(dir.stats.direct).to.equal(anns.length);
      expect(dir.stats.rebuilt).to.equal(1);
      expect(server.nodes.get(ipOf(2))!.timestamp).to.equal(T0 + 100_000);
      // once its mailbox is empty, the node's announcements are applied at once again
      expect(
        (
          await server.submitAnnouncement(
            mkAnn({ nodeIp: ipOf(2), timestamp: T0 + 110_000 }),
            'gossip',
          )
        ).error,
      ).to.equal('none');
      expect(dir.stats.direct).to.equal(anns.length + 1);
    });
  });

  describe('supervision', () => {
    it('restarts a crashing subnode actor, rebuilds its record from its kept announcements and leaves other nodes alone', async () => {
      ({ server } = fastServer());
      const alice = signedNode('alice');
      const bob = signedNode('bob');
      const snodeIp = SNODE_IP;
      // real signed bytes: crash recovery reads them back from the replication store
      const history = (node: typeof alice): Uint8Array[] => [
        signedAnn(node, {
          timestamp: T0,
          isReset: true,
          snodeIp,
          entities: [{ type: 'Peer', ipv6: ipOf(1), label: 0x13, peerNum: 1 }],
        }),
        ...[1, 2, 3].map((i) =>
          signedAnn(node, {
            timestamp: T0 + i * 1000,
            snodeIp,
            entities: [
              { type: 'Peer', ipv6: ipOf(10 + i), label: 0x15, peerNum: 1 + i },
              {
                type: 'LinkState',
                nodeId: 1 + i,
                startingPoint: 0,
                samples: [{ lag: 10, drops: 0, kbRecv: 100 * i }],
              },
            ],
          }),
        ),
      ];
      for (const b of history(alice))
        expect((await server.submitAnnouncement(b, 'gossip')).error).to.equal('none');
      for (const b of history(bob))
        expect((await server.submitAnnouncement(b, 'gossip')).error).to.equal('none');
      const before = server.nodes.get(alice.ipv6)!;
      const aliceHash = hashOf(before);
      const aliceKept = before.announcements.map((a) => bytesToHex(a.hash));
      const alicePeers = [...before.inwardLinksByIp.keys()];
      const bobRecord = server.nodes.get(bob.ipv6)!;
      const bobHash = hashOf(bobRecord);
      const bobActor = server.routing!.directory.actorOf(bob.ipv6);

      // a broken invariant half-way through the apply: the keep rules and the Peer entity have
      // been applied when a LinkState entity without slots throws inside alice's actor
      const good = parsed(
        signedAnn(alice, {
          timestamp: T0 + 500_000,
          snodeIp,
          entities: [{ type: 'Peer', ipv6: ipOf(77), label: 0x17, peerNum: 40 }],
        }),
      );
      const poison = {
        ...good,
        entities: [
          ...good.entities,
          { type: 'LinkState', nodeId: 40, startingPoint: 0 } as unknown as Entity,
        ],
      };
      const err = await server
        .submitAnnouncement(poison, 'gossip')
        .catch((e: { code?: string }) => e);
      expect((err as { code?: string }).code).to.equal('RS_ERR_INTERNAL');
      await until(() => server.routing!.directory.stats.rebuilt === 1, 'the record rebuilt');

      const rebuilt = server.nodes.get(alice.ipv6)!;
      expect(rebuilt).to.not.equal(before); // a fresh record, not the half-mutated one
      expect(rebuilt.announcements.map((a) => bytesToHex(a.hash))).to.deep.equal(aliceKept);
      expect(hashOf(rebuilt)).to.equal(aliceHash);
      expect(rebuilt.inwardLinksByIp.has(ipOf(77))).to.equal(false);
      expect([...rebuilt.inwardLinksByIp.keys()]).to.deep.equal(alicePeers);
      expect(server.routing!.directory.stats.crashes).to.equal(1);
      // bob: same record object, same hash, still no actor (nothing of his was ever queued)
      expect(server.nodes.get(bob.ipv6)).to.equal(bobRecord);
      expect(hashOf(bobRecord)).to.equal(bobHash);
      expect(bobActor).to.equal(undefined);
      expect(server.routing!.directory.actorOf(bob.ipv6)).to.equal(undefined);
      // alice's restarted actor keeps serving, in the same directory position
      const next = await server.submitAnnouncement(
        signedAnn(alice, { timestamp: T0 + 600_000, snodeIp }),
        'gossip',
      );
      expect(next.error).to.equal('none');
      expect([...server.nodes.nodesByIp.keys()]).to.deep.equal([alice.ipv6, bob.ipv6]);
    });

    it('passivates idle actors; the next announcement continues from the record at rest', async () => {
      ({ server, clock } = fastServer({ subnodes: { idleMs: 1000 } }));
      const anns = chain(1, T0);
      for (const a of anns.slice(0, 10)) await server.submitAnnouncement(a, 'gossip');
      // a crash gives the node an actor (the rebuild puts a fresh record in the table)
      const poison = mkAnn({
        nodeIp: ipOf(1),
        timestamp: T0 + 10_500,
        entities: [{ type: 'LinkState', nodeId: 1, startingPoint: 0 } as unknown as Entity],
      });
      await server.submitAnnouncement(poison, 'gossip').catch(() => undefined);
      await until(() => server.routing!.directory.stats.rebuilt === 1, 'the record rebuilt');
      expect(server.routing!.directory.activeActors).to.equal(1);
      const record = server.nodes.get(ipOf(1))!;
      clock.set(T0 + 5000);
      expect(server.routing!.directory.passivateIdle(clock.now())).to.equal(1);
      await until(() => server.routing!.directory.activeActors === 0, 'the actor stopped');
      expect(server.nodes.get(ipOf(1))).to.equal(record);
      const ref = new RouteServer({ self: TEST_SELF, clock, routing: { mode: 'reference' } });
      for (const a of anns) await ref.submitAnnouncement(a, 'gossip');
      for (const a of anns.slice(10)) await server.submitAnnouncement(a, 'gossip');
      expect(hashOf(server.nodes.get(ipOf(1)))).to.equal(hashOf(ref.nodes.get(ipOf(1))));
      await ref.close();
    });
  });

  describe('SubnodeDirectory#expire()', () => {
    it('forgets silent nodes through their actors and removes them from the store and the routes', async () => {
      ({ server, clock } = fastServer());
      await server.submitAnnouncement(mkReset(ipOf(1), T0, [peer(ipOf(2), 0x13, 1)]), 'gossip');
      await server.submitAnnouncement(
        mkReset(ipOf(2), T0 + 10 * 3600_000, [peer(ipOf(1), 0x15, 1)]),
        'gossip',
      );
      await server.syncRoutes();
      expect(server.getRoute(ipOf(2), ipOf(1))).to.not.equal(null);
      const deleted: string[] = [];
      server.addListener({ deleted: (h) => deleted.push(bytesToHex(h)) });
      clock.set(T0 + GLOBAL_TIMEOUT_MS + 1);
      expect(server.expire()).to.equal(1);
      await until(() => !server.nodes.get(ipOf(1)), 'node 1 expired');
      expect(deleted).to.have.length(2); // its reset, listed once as kept and once as resetMsg
      expect(server.store.size).to.equal(1);
      await server.syncRoutes();
      expect(server.getRoute(ipOf(2), ipOf(1))).to.equal(null);
    });
  });
});
