/**
 * The read-API views on a small table built from real route_server.json announcements:
 * `/walk` lines, `/dump` framing, `/ni` counts (incl. a reset message that is no longer kept),
 * `/ni/<ip>`, `/path` texts, and ipParam normalisation.
 */
import { expect } from 'chai';
import { announcementToJson, parseAnnouncement } from '../../../src/protocol/announcement.ts';
import { hexToBytes } from '../../../src/protocol/hex.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import type { PeerInfo } from '../../../src/replication/peer-info.ts';
import { ipParam } from '../../../src/server/http-views.ts';
import { identityFromPrivateKey } from '../../../src/server/identity.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import { loadVectors } from '../../helpers/vectors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
const file = loadVectors('route_server.json') as any;
const identities = file.identities as Array<{
  name: string;
  private_hex: string;
  public_key: string;
  ipv6: string;
}>;
const keyOf = new Map(identities.map((i) => [i.ipv6, i.public_key]));
const scenario = (name: string): any => {
  const s = (file.vectors as any[]).find((v) => v.name === name);
  if (!s) throw new Error(`no scenario ${name} in route_server.json`);
  return s;
};

const PEER_INFO: PeerInfo = {
  peers: [{ addr: 'ws://x', outstandingRequests: 1, msgsOnWire: 2, msgQueue: 3 }],
  announcements: 7,
  annByHashLen: 7,
};

async function buildServer(
  scenarioName: string,
  stepIdx: number[],
): Promise<{ server: RouteServer; steps: any[] }> {
  const s = scenario(scenarioName);
  const clock = new ManualClock(0);
  // the views of the original's scenarios: the reference engine
  const server = new RouteServer({
    self: identityFromPrivateKey(hexToBytes(s.self.private_hex), s.self.version ?? 22),
    clock,
    routing: { mode: 'reference' },
  });
  const steps: any[] = [];
  for (const i of stepIdx) {
    const step = s.steps[i];
    expect(step.action, `step ${i}`).to.be.oneOf(['ann', 'gossip_ann']);
    clock.set(step.now_ms);
    const o = await server.submitAnnouncement(
      hexToBytes(step.ann_hex),
      step.action === 'ann' ? 'node' : 'gossip',
    );
    expect(o.error, `step ${i}`).to.equal(step.expected.error);
    steps.push(step);
  }
  return { server, steps };
}

/** The last node_state_after of every node, in first-announce order (the table's order). */
function finalStates(steps: any[]): Map<string, { ip: string; state: any; ann: any }> {
  const out = new Map<string, { ip: string; state: any; ann: any }>();
  for (const st of steps) {
    const ann = announcementToJson(parseAnnouncement(hexToBytes(st.ann_hex)));
    const prev = out.get(ann.nodeIp);
    out.set(ann.nodeIp, { ip: ann.nodeIp, state: st.node_state_after, ann: prev?.ann ?? ann });
  }
  return out;
}

describe('HttpViews', () => {
  // routes: alice, bob, carol, dave reset; then dave's non-reset with link state.
  // dave lists a link from erin, who never announces (must not show in /walk).
  const ROUTES_STEPS = [0, 1, 2, 3, 9];
  let server: RouteServer;
  let steps: any[];
  before(async () => {
    ({ server, steps } = await buildServer('routes', ROUTES_STEPS));
  });
  after(() => server.close());

  describe('/walk', () => {
    it('one JSON array per line: every node, then every link whose peer has a record; no trailing newline', () => {
      const states = finalStates(steps);
      const expected: unknown[] = [];
      for (const { ip, state, ann } of states.values()) {
        const scheme = ann.entities.find((e: any) => e.type === 'EncodingScheme').scheme;
        expected.push([
          'node',
          Math.floor(parseInt(state.timestamp_hex, 16) / 1000),
          '-',
          `v${state.version}.0000.0000.0000.0001.${keyOf.get(ip)}`,
          scheme,
          ip,
        ]);
      }
      let skipped = 0;
      for (const { ip, state } of states.values()) {
        for (const group of state.links) {
          if (!states.has(group.fromIp)) {
            skipped++;
            continue;
          }
          for (const l of group.links)
            expected.push([
              'link',
              Math.floor(l.time / 1000),
              '-',
              keyOf.get(ip),
              keyOf.get(group.fromIp),
              l.label,
            ]);
        }
      }
      expect(skipped, 'the fixture has a link from a node without a record').to.be.greaterThan(0);

      const text = server.views.walk();
      expect(text.endsWith('\n')).to.equal(false);
      const lines = text.split('\n');
      expect(lines).to.have.length(expected.length);
      expect(lines.map((l) => JSON.parse(l) as unknown)).to.deep.equal(expected);
      for (const l of lines)
        expect(l).to.equal(JSON.stringify(JSON.parse(l)), 'compact JSON, one line each');
    });

    it('is the empty string for an empty table', () => {
      const s = scenario('routes');
      // an empty table as the original writes it: the reference engine
      const empty = new RouteServer({
        self: identityFromPrivateKey(hexToBytes(s.self.private_hex), 22),
        clock: new ManualClock(0),
        routing: { mode: 'reference' },
      });
      try {
        expect(empty.views.walk()).to.equal('');
      } finally {
        empty.close();
      }
    });
  });

  describe('/dump', () => {
    it('for each node in order, each kept announcement newest first: u32 BE length ‖ bytes; then 4 zero bytes', () => {
      const states = finalStates(steps);
      const byHash = new Map<string, string>();
      for (const st of steps) byHash.set(st.ann_hash, st.ann_hex);
      const expectedHex: string[] = [];
      for (const { state } of states.values())
        for (const h of state.announcements_newest_first) expectedHex.push(byHash.get(h)!);
      expect(expectedHex.length).to.equal(ROUTES_STEPS.length);

      const dump = Buffer.from(server.views.dump());
      const got: string[] = [];
      let off = 0;
      for (;;) {
        const len = dump.readUInt32BE(off);
        off += 4;
        if (len === 0) break;
        got.push(dump.subarray(off, off + len).toString('hex'));
        off += len;
      }
      expect(off).to.equal(dump.length, 'nothing after the 4 zero bytes');
      expect(got).to.deep.equal(expectedHex);
    });

    it('an empty table dumps to exactly 4 zero bytes', () => {
      const s = scenario('routes');
      // an empty table as the original writes it: the reference engine
      const empty = new RouteServer({
        self: identityFromPrivateKey(hexToBytes(s.self.private_hex), 22),
        clock: new ManualClock(0),
        routing: { mode: 'reference' },
      });
      try {
        expect(Buffer.from(empty.views.dump()).toString('hex')).to.equal('00000000');
      } finally {
        empty.close();
      }
    });
  });

  describe('/ni and /', () => {
    it('counts kept announcements per node in table order and passes peerInfo through', () => {
      const ni = server.views.ni(PEER_INFO) as any;
      const order = [...finalStates(steps).keys()];
      expect(ni.nodes.map((n: any) => n.ip6)).to.deep.equal(order);
      expect(ni.nodes.map((n: any) => n.announcements)).to.deep.equal([1, 1, 1, 2]);
      expect(ni.nodes.every((n: any) => n.rst === false)).to.equal(true);
      expect(ni.totalAnnouncements).to.equal(5);
      expect(ni.totalWithRsts).to.equal(5);
      expect(ni.totalNodes).to.equal(4);
      expect(ni.peerInfo).to.deep.equal(PEER_INFO);
      expect(Object.keys(ni)).to.deep.equal([
        'nodes',
        'totalAnnouncements',
        'totalWithRsts',
        'peerInfo',
        'totalNodes',
      ]);
    });

    it('rst is true when the reset message is no longer kept, and totalWithRsts counts it', async () => {
      // state_hash_bookkeeping step 2: alice's reset message is replaced and no longer kept
      const { server: s2, steps: st2 } = await buildServer('state_hash_bookkeeping', [0, 1, 2]);
      try {
        const state = st2[2].node_state_after;
        expect(state.announcements_newest_first).to.not.include(state.resetMsg);
        const ni = s2.views.ni(PEER_INFO) as any;
        const aliceIp = identities.find((i) => i.name === 'alice')!.ipv6;
        expect(ni.nodes).to.deep.equal([
          { ip6: aliceIp, announcements: state.announcements_newest_first.length, rst: true },
        ]);
        expect(ni.totalAnnouncements).to.equal(state.announcements_newest_first.length);
        expect(ni.totalWithRsts).to.equal(state.announcements_newest_first.length + 1);
        expect(ni.totalNodes).to.equal(1);
      } finally {
        s2.close();
      }
    });

    it('/ reports the node count and the peer info', () => {
      expect(server.views.root(PEER_INFO)).to.deep.equal({ peer: PEER_INFO, nodesByIp: 4 });
    });
  });

  describe('/ni/<ip> and /path', () => {
    const alice = identities.find((i) => i.name === 'alice')!;
    const dave = identities.find((i) => i.name === 'dave')!;
    const erin = identities.find((i) => i.name === 'erin')!;

    it('/ni/<ip> finds a node by any spelling of its address; unknown → {}', () => {
      const full = server.views.node(alice.ipv6) as any;
      expect(full.node).to.be.an('object');
      const compressed = alice.ipv6.replace(/:0+(?=[0-9a-f])/g, ':').toUpperCase();
      expect(compressed).to.not.equal(alice.ipv6);
      expect(server.views.node(compressed)).to.deep.equal(full);
      expect(server.views.node(erin.ipv6)).to.deep.equal({});
      expect(server.views.node('fc00::1')).to.deep.equal({});
    });

    it('/ni/<garbage> is RS_ERR_HTTP_BAD_REQUEST', () => {
      for (const bad of [
        '',
        'xyz',
        'fc00:::1',
        '1.2.3.4',
        'fc00::1::2',
        'fc00:0000:0000:0000:0000:0000:0000:0000:0001',
        'fc00::1%eth0',
        'g000::1',
      ]) {
        expect(() => server.views.node(bad), bad)
          .to.throw()
          .with.property('code', 'RS_ERR_HTTP_BAD_REQUEST');
      }
    });

    it('/path: src not found, tar not found, a route, and src = dst', () => {
      expect(server.views.path(erin.ipv6, dave.ipv6)).to.equal('src not found');
      expect(server.views.path(alice.ipv6, erin.ipv6)).to.equal('tar not found');
      const r = server.views.path(alice.ipv6, dave.ipv6) as any;
      expect(r.label).to.match(/^[0-9a-f]{4}(\.[0-9a-f]{4}){3}$/);
      expect(r.path[0]).to.equal(alice.ipv6);
      expect(r.path[r.path.length - 1]).to.equal(dave.ipv6);
      expect(server.views.path(alice.ipv6, alice.ipv6)).to.deep.equal({
        label: '0000.0000.0000.0001',
        hops: [],
      });
    });

    it('/path with a malformed address is RS_ERR_HTTP_BAD_REQUEST naming the parameter', () => {
      expect(() => server.views.path('nope', dave.ipv6))
        .to.throw(/src is not a valid IPv6/)
        .with.property('code', 'RS_ERR_HTTP_BAD_REQUEST');
      expect(() => server.views.path(alice.ipv6, 'fc::zz'))
        .to.throw(/dst is not a valid IPv6/)
        .with.property('code', 'RS_ERR_HTTP_BAD_REQUEST');
    });
  });

  describe('ipParam', () => {
    const ok: Array<[string, string]> = [
      ['fc00::1', 'fc00:0000:0000:0000:0000:0000:0000:0001'],
      ['FC00::1', 'fc00:0000:0000:0000:0000:0000:0000:0001'],
      ['fcc7:8077:7558:6423:5cf0:575e:428:476', 'fcc7:8077:7558:6423:5cf0:575e:0428:0476'],
      ['fcaa:2199:9d2c:cbcc:2640:e4:be00:fbf9', 'fcaa:2199:9d2c:cbcc:2640:00e4:be00:fbf9'],
      ['fc00:1::', 'fc00:0001:0000:0000:0000:0000:0000:0000'],
      ['::', '0000:0000:0000:0000:0000:0000:0000:0000'],
      ['fcc7:8077:7558:6423:5cf0:575e:0428:0476', 'fcc7:8077:7558:6423:5cf0:575e:0428:0476'],
    ];
    for (const [input, want] of ok) {
      it(`${input} → ${want}`, () => expect(ipParam(input, 'ip')).to.equal(want));
    }

    const bad = [
      '',
      'x',
      ':',
      ':::',
      'fc00',
      'fc00:1:2:3:4:5:6',
      'fc00:1:2:3:4:5:6:7:8',
      'fc00::1::2',
      'fc00:00001::1',
      'fc00::g',
      '::ffff:1.2.3.4',
      'fc00::1%lo',
      ' fc00::1',
      'fc00::1 ',
      'fc00::1/64',
      'fc00:0000:0000:0000:0000:0000:0000:00001',
      'a'.repeat(5000),
      '\u0000',
      'fc00::-1',
      'fc00::+1',
      'fc00::0x1',
    ];
    it('rejects garbage with RS_ERR_HTTP_BAD_REQUEST and a bounded message', () => {
      for (const b of bad) {
        let err: any;
        try {
          ipParam(b, 'src');
        } catch (e) {
          err = e;
        }
        expect(err, JSON.stringify(b)).to.not.equal(undefined);
        expect(err.code, JSON.stringify(b)).to.equal('RS_ERR_HTTP_BAD_REQUEST');
        expect(err.message).to.match(/^src is not a valid IPv6 address/);
        expect(err.message.length).to.be.lessThan(200);
      }
    });
  });
});
