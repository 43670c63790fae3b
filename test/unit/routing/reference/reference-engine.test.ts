import { expect } from 'chai';
import { GLOBAL_TIMEOUT_MS } from '../../../../src/graph/constants.ts';
import { bytesToHex, hexToBytes } from '../../../../src/protocol/hex.ts';
import { referenceServer, selfWithIp } from '../../../helpers/reference-server.ts';
import { loadVectors } from '../../../helpers/vectors.ts';
import {
  hex,
  ipOf,
  mkAnn,
  mkReset,
  peer,
  SNODE_IP,
  T0,
  version,
  encodingScheme,
} from '../../graph/fixtures.ts';

interface Step {
  action: string;
  ann_hex?: string;
  now_ms: number;
}
const bookkeeping = loadVectors<{ name: string; steps: Step[]; self: { ipv6: string } }>(
  'route_server.json',
).vectors.find((s) => s.name === 'state_hash_bookkeeping')!;

describe('reference-engine (through the ingest funnel)', () => {
  describe('RouteServer#submitAnnouncement()', () => {
    it('parses bytes and replies failed_parse_or_validate with a zero hash on garbage', async () => {
      const { server, announce } = referenceServer(SNODE_IP);
      const out = await announce(new Uint8Array(10), { fromNode: true, now: T0 });
      expect(out.error).to.equal('failed_parse_or_validate');
      expect(out.stateHash).to.deep.equal(new Uint8Array(64));
      expect(server.store.size).to.equal(0);
    });

    it('refuses a tampered signature and accepts the original bytes', async () => {
      const step = bookkeeping.steps[0]!;
      const bytes = hexToBytes(step.ann_hex!);
      const { server, announce } = referenceServer(bookkeeping.self.ipv6);
      const bad = bytes.slice();
      bad[bad.length - 1]! ^= 1;
      expect((await announce(bad, { fromNode: true, now: step.now_ms })).error).to.equal(
        'failed_parse_or_validate',
      );
      expect((await announce(bytes, { fromNode: true, now: step.now_ms })).error).to.equal('none');
      expect(
        server.store.get(
          server.nodes.get(server.nodes.nodesByIp.keys().next().value!)!.resetMsg.hash,
        ),
      ).to.deep.equal(bytes);
    });

    it('does not verify a cluster entry again (the process that accepted it did)', async () => {
      const step = bookkeeping.steps[0]!;
      const bad = hexToBytes(step.ann_hex!);
      bad[0]! ^= 1;
      const { server, clock } = referenceServer(bookkeeping.self.ipv6);
      clock.set(step.now_ms);
      expect((await server.submitAnnouncement(bad, 'cluster')).error).to.equal('none');
      expect((await server.submitAnnouncement(bad, 'gossip')).error).to.equal(
        'failed_parse_or_validate',
      );
    });

    it('applies store deletions before the addition', async () => {
      const { server, announce } = referenceServer(SNODE_IP);
      const r1 = mkReset(ipOf(1), T0);
      await announce(r1, { fromNode: true, now: T0 });
      // a reset replaying the same bytes deletes the old copy, then adds it back (at the end)
      const other = mkReset(ipOf(2), T0);
      await announce(other, { fromNode: true, now: T0 });
      const out = await announce(r1, { fromNode: true, now: T0 });
      expect(hex(out.deleted)).to.deep.equal(hex([r1.hash, r1.hash]));
      expect(hex([...server.store.hashes()])).to.deep.equal(hex([other.hash, r1.hash]));
    });

    it('uses selfIp set after construction', async () => {
      const { server, announce } = referenceServer('fc00:0000:0000:0000:0000:0000:0000:0001');
      const ann = mkReset(ipOf(1), T0);
      expect((await announce(ann, { fromNode: true, now: T0 })).error).to.equal('wrong_snode');
      server.setIdentity(selfWithIp(SNODE_IP));
      expect((await announce(ann, { fromNode: true, now: T0 })).error).to.equal('none');
    });
  });

  describe('RouteServer#expire()', () => {
    it('removes expired nodes and their announcements from the store', async () => {
      const { server, announce, clock } = referenceServer(SNODE_IP);
      await announce(mkReset(ipOf(1), T0), { fromNode: true, now: T0 });
      const keep = mkReset(ipOf(2), T0 + 1000);
      await announce(keep, { fromNode: true, now: T0 + 1000 });
      clock.set(T0 + GLOBAL_TIMEOUT_MS + 1);
      server.expire();
      expect(server.nodes.size).to.equal(1);
      expect(hex([...server.store.hashes()])).to.deep.equal(hex([keep.hash]));
    });
  });

  describe('RouteServer#getRoute()', () => {
    it('routes over the table it owns', async () => {
      const { server, announce } = referenceServer(SNODE_IP);
      const head = [version(22), encodingScheme()];
      await announce(
        mkAnn({
          nodeIp: ipOf(1),
          timestamp: T0,
          isReset: true,
          entities: [...head, peer(ipOf(2), 0x13, 2)],
        }),
        { fromNode: true, now: T0 },
      );
      await announce(
        mkAnn({
          nodeIp: ipOf(2),
          timestamp: T0,
          isReset: true,
          entities: [...head, peer(ipOf(1), 0x15, 1)],
        }),
        { fromNode: true, now: T0 },
      );
      expect(server.getRoute(ipOf(1), ipOf(2))!.label).to.equal('0000.0000.0000.0015');
      expect(server.routeForGr(ipOf(2), ipOf(1))!.label).to.equal(0x13n);
      expect(bytesToHex(server.routeForGr(ipOf(2), ipOf(1))!.key)).to.equal(
        bytesToHex(server.nodes.get(ipOf(1))!.keyBytes),
      );
    });
  });
});
