import { expect } from 'chai';
import { GLOBAL_TIMEOUT_MS } from '../../../../src/graph/constants.ts';
import { RouteServerCore } from '../../../../src/routing/reference/core.ts';
import { bytesToHex, hexToBytes } from '../../../../src/protocol/hex.ts';
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

describe('core', () => {
  describe('RouteServerCore#handleAnnounce()', () => {
    it('parses bytes and replies failed_parse_or_validate with a zero hash on garbage', () => {
      const core = new RouteServerCore({ selfIp: SNODE_IP });
      const out = core.handleAnnounce(new Uint8Array(10), { fromNode: true, now: T0 });
      expect(out.error).to.equal('failed_parse_or_validate');
      expect(out.stateHash).to.deep.equal(new Uint8Array(64));
      expect(core.store.size).to.equal(0);
    });

    it('refuses a tampered signature and accepts the original bytes', () => {
      const step = bookkeeping.steps[0]!;
      const bytes = hexToBytes(step.ann_hex!);
      const core = new RouteServerCore({ selfIp: bookkeeping.self.ipv6 });
      const bad = bytes.slice();
      bad[bad.length - 1]! ^= 1;
      expect(core.handleAnnounce(bad, { fromNode: true, now: step.now_ms }).error).to.equal(
        'failed_parse_or_validate',
      );
      expect(core.handleAnnounce(bytes, { fromNode: true, now: step.now_ms }).error).to.equal(
        'none',
      );
      expect(
        core.store.get(core.nodes.get(core.nodes.nodesByIp.keys().next().value!)!.resetMsg.hash),
      ).to.deep.equal(bytes);
    });

    it('can skip signature verification', () => {
      const step = bookkeeping.steps[0]!;
      const bad = hexToBytes(step.ann_hex!);
      bad[0]! ^= 1;
      const core = new RouteServerCore({ selfIp: bookkeeping.self.ipv6, verifySignature: false });
      expect(core.handleAnnounce(bad, { fromNode: true, now: step.now_ms }).error).to.equal('none');
    });

    it('applies store deletions before the addition', () => {
      const core = new RouteServerCore({ selfIp: SNODE_IP });
      const r1 = mkReset(ipOf(1), T0);
      core.handleAnnounce(r1, { fromNode: true, now: T0 });
      // a reset replaying the same bytes deletes the old copy, then adds it back (at the end)
      const other = mkReset(ipOf(2), T0);
      core.handleAnnounce(other, { fromNode: true, now: T0 });
      const out = core.handleAnnounce(r1, { fromNode: true, now: T0 });
      expect(hex(out.deleted)).to.deep.equal(hex([r1.hash, r1.hash]));
      expect(hex([...core.store.hashes()])).to.deep.equal(hex([other.hash, r1.hash]));
    });

    it('uses selfIp set after construction', () => {
      const core = new RouteServerCore();
      const ann = mkReset(ipOf(1), T0);
      expect(core.handleAnnounce(ann, { fromNode: true, now: T0 }).error).to.equal('wrong_snode');
      core.selfIp = SNODE_IP;
      expect(core.handleAnnounce(ann, { fromNode: true, now: T0 }).error).to.equal('none');
    });
  });

  describe('RouteServerCore#expire()', () => {
    it('removes expired nodes and their announcements from the store', () => {
      const core = new RouteServerCore({ selfIp: SNODE_IP });
      core.handleAnnounce(mkReset(ipOf(1), T0), { fromNode: true, now: T0 });
      const keep = mkReset(ipOf(2), T0 + 1000);
      core.handleAnnounce(keep, { fromNode: true, now: T0 + 1000 });
      core.expire(T0 + GLOBAL_TIMEOUT_MS + 1);
      expect(core.nodes.size).to.equal(1);
      expect(hex([...core.store.hashes()])).to.deep.equal(hex([keep.hash]));
    });
  });

  describe('RouteServerCore#getRoute()', () => {
    it('routes over the table it owns', () => {
      const core = new RouteServerCore({ selfIp: SNODE_IP });
      const head = [version(22), encodingScheme()];
      core.handleAnnounce(
        mkAnn({
          nodeIp: ipOf(1),
          timestamp: T0,
          isReset: true,
          entities: [...head, peer(ipOf(2), 0x13, 2)],
        }),
        { fromNode: true, now: T0 },
      );
      core.handleAnnounce(
        mkAnn({
          nodeIp: ipOf(2),
          timestamp: T0,
          isReset: true,
          entities: [...head, peer(ipOf(1), 0x15, 1)],
        }),
        { fromNode: true, now: T0 },
      );
      expect(core.getRoute(ipOf(1), ipOf(2), T0)!.label).to.equal('0000.0000.0000.0015');
      expect(core.getRouteForGr(ipOf(2), ipOf(1), T0)!.label).to.equal(0x13n);
      expect(bytesToHex(core.getRouteForGr(ipOf(2), ipOf(1), T0)!.key)).to.equal(
        bytesToHex(core.nodes.get(ipOf(1))!.keyBytes),
      );
    });
  });
});
