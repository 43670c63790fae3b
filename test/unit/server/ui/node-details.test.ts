/**
 * The map page's JSON answers (src/server/ui/node-details.ts): a node named by IPv6 or key, its
 * details read from a real mesh's records, and a route as the page draws it.
 */
import { expect } from 'chai';
import type { World } from '../../../../bench/world.ts';
import { RsError } from '../../../../src/errors.ts';
import { bytesToHex } from '../../../../src/protocol/hex.ts';
import type { RouteServer } from '../../../../src/server/route-server.ts';
import { nodeIpOf, uiNode, uiPath } from '../../../../src/server/ui/node-details.ts';
import { meshServer } from '../../../helpers/mesh.ts';

describe('map node details and routes', () => {
  let server: RouteServer;
  let world: World;

  before(async () => {
    ({ server, world } = await meshServer(40));
  });

  describe('nodeIpOf', () => {
    it('takes an address in any textual form, or a key', () => {
      const ip = world.ips[5]!;
      expect(nodeIpOf(ip)).to.equal(ip);
      expect(nodeIpOf(ip.toUpperCase())).to.equal(ip);
      expect(nodeIpOf('fc00:0:0:0:0:0:0:1')).to.equal('fc00:0000:0000:0000:0000:0000:0000:0001');
      expect(nodeIpOf('fc00::1')).to.equal('fc00:0000:0000:0000:0000:0000:0000:0001');
      expect(nodeIpOf(server.nodes.get(ip)!.key)).to.equal(ip);
    });

    for (const bad of [
      '',
      'fc00',
      'fc00::1::2',
      'x'.repeat(200),
      'abc.k',
      'a'.repeat(52) + '.k',
      'fc00:0000:0000:0000:0000:0000:0000:00001',
    ]) {
      it(`refuses ${JSON.stringify(bad.slice(0, 30))} with a 400`, () => {
        try {
          nodeIpOf(bad, 'src');
          expect.fail('accepted');
        } catch (e) {
          expect(e).to.be.instanceOf(RsError);
          expect((e as RsError).code).to.equal('RS_ERR_HTTP_BAD_REQUEST');
          expect((e as RsError).message).to.match(/^src is neither/);
        }
      });
    }
  });

  describe('uiNode', () => {
    it('shows a node: identity, last seen, every link with its value and the link back', () => {
      const ip = world.ips[0]!; // a hub
      const rec = server.nodes.get(ip)!;
      const node = uiNode(rec, (x) => server.nodes.get(x));
      expect(node).to.include({
        ip,
        key: rec.key,
        version: 22,
        lastSeen: rec.timestamp,
        encodingScheme: 'v358',
        stateHash: bytesToHex(rec.stateHash),
      });
      expect(node.links).to.have.length(world.topo.neighbours[0]!.length);
      for (const l of node.links) {
        const link = rec.inwardLinksByIp.get(l.peer)![0]!;
        expect(l).to.include({
          label: link.label,
          value: link.value,
          mtu: link.mtu,
          peerNum: link.peerNum,
          time: link.time,
          samples: link.linkState.size,
        });
        expect(l.value).to.be.greaterThan(0); // the mesh sends link state
        expect(l.last).to.not.equal(null);
        const back = server.nodes.get(l.peer)!.inwardLinksByIp.get(ip)![0]!;
        expect(l.back).to.deep.equal({ label: back.label, value: back.value });
      }
      const JSONsize = JSON.stringify(node).length;
      expect(JSONsize, 'compact: no per-slot link state, no announcement bytes').to.be.lessThan(
        400 * node.links.length + 2000,
      );
    });

    it('lists the kept announcements newest first with their entities', () => {
      const rec = server.nodes.get(world.ips[0]!)!;
      const node = uiNode(rec, (x) => server.nodes.get(x));
      expect(node.announcements.map((a) => a.hash)).to.deep.equal(
        rec.announcements.map((a) => bytesToHex(a.hash)),
      );
      const reset = node.announcements.find((a) => a.isReset)!;
      expect(reset.entities).to.include({ Version: 1, EncodingScheme: 1 });
      let peers = 0;
      for (const a of node.announcements) peers += a.entities.Peer ?? 0;
      expect(peers).to.equal(world.topo.neighbours[0]!.length);
      for (const a of node.announcements)
        expect(a.bytes).to.equal(
          rec.announcements.find((x) => bytesToHex(x.hash) === a.hash)!.binary.length,
        );
    });

    it('shows no link back when the peer has no record', () => {
      const rec = server.nodes.get(world.ips[1]!)!;
      const node = uiNode(rec, () => undefined);
      expect(node.links.every((l) => l.back === null)).to.equal(true);
    });
  });

  describe('uiPath', () => {
    it('is the route the server gives: label, nodes in order, hop labels', () => {
      const [src, dst] = [world.ips[3]!, world.ips[37]!];
      const route = server.getRoute(src, dst)!;
      const p = uiPath(src, dst, route);
      expect(p).to.deep.equal({
        src,
        dst,
        found: true,
        label: route.label,
        nodes: route.path,
        hops: route.hops.map((h) => ({ label: h.label, origLabel: h.origLabel })),
      });
      expect(p.nodes[0]).to.equal(src);
      expect(p.nodes.at(-1)).to.equal(dst);
      expect(p.hops).to.have.length(p.nodes.length - 1);
    });

    it('says when there is no route, and gives the self route', () => {
      expect(uiPath('a', 'b', null)).to.deep.equal({
        src: 'a',
        dst: 'b',
        found: false,
        label: null,
        nodes: [],
        hops: [],
      });
      const ip = world.ips[2]!;
      expect(uiPath(ip, ip, server.getRoute(ip, ip))).to.include({
        found: true,
        label: '0000.0000.0000.0001',
      });
      expect(uiPath(ip, ip, server.getRoute(ip, ip)).nodes).to.deep.equal([ip]);
    });
  });
});
