/**
 * The seeder's state and its API for posting nodes, testers and nameservers (docs/seeder.md):
 * the sender check, refusals, the bounds and the expiry, the password rules, the
 * nameserver's filter, test verdicts; and the HTTP answers built from them.
 */
import { expect } from 'chai';
import { decodeCredentialRecord } from '../../../src/protocol/peering-credentials.ts';
import { seederPeers, seederTestResults } from '../../../src/seeder/seeder-http.ts';
import { seederSchema } from '../../../src/seeder/seeder-settings.ts';
import { SeederTable } from '../../../src/seeder/seeder-table.ts';
import { Seeder, type SeederListPeer } from '../../../src/seeder/seeder.ts';
import { expectRsError } from '../../helpers/errors.ts';
import { loadVectors } from '../../helpers/vectors.ts';
import { PUB, credOf, graphOf, recordOf, settingsOf, testNode } from './fixtures.ts';

const T = 1_700_000_000;
const worked = (
  loadVectors('seeder.json').vectors as Array<{
    hex: string;
    ipv6: string;
    posted_by_other_sender: { err: string };
  }>
)[0]!;

describe('seeder', () => {
  const a = testNode('a');
  const b = testNode('b');
  const c = testNode('c');
  const known = graphOf(new Map([a, b, c].map((n) => [n.ip, []])));
  const settings = settingsOf({ tester_passwds: ['tpw'], nameserver_passwds: ['npw'] });

  describe('posts', () => {
    it('stores the worked example when its own node posts it, and answers an empty pr', () => {
      const s = new Seeder({ settings, graph: known });
      const out = s.post(worked.ipv6, Buffer.from(worked.hex, 'hex'), T);
      expect(out).to.deep.equal({ pr: new Uint8Array(0) });
      expect(s.size).to.equal(2);
    });

    it('refuses the worked example posted by any other node', () => {
      const s = new Seeder({ settings, graph: known });
      expect(s.post(a.ip, Buffer.from(worked.hex, 'hex'), T)).to.deep.equal({
        err: worked.posted_by_other_sender.err,
      });
      expect(s.size).to.equal(0);
    });

    it('answers the framing error texts, a missing PeerID, a key outside fc00::/8', () => {
      const s = new Seeder({ settings, graph: known });
      expect(s.post(a.ip, Uint8Array.of(4, 1), T)).to.deep.equal({ err: 'Invalid item length: 1' });
      expect(s.post(a.ip, Uint8Array.of(4, 9, 1), T)).to.deep.equal({ err: 'TLV is truncated' });
      expect(s.post(a.ip, recordOf(undefined, credOf(a, 1)), T)).to.deep.equal({
        err: 'Credential post missing peer ID',
      });
      const notFc = testNode('x', { fc: false });
      expect(s.post(a.ip, recordOf(PUB(), credOf(notFc, 1)), T))
        .to.have.property('err')
        .that.matches(/fc00::\/8/);
      expect(s.size).to.equal(0);
    });

    it('accepts a PeerID with no peers (empty pr) and keeps entries handled before a failing TLV', () => {
      const s = new Seeder({ settings, graph: known });
      expect(s.post(a.ip, recordOf(PUB()), T)).to.deep.equal({ pr: new Uint8Array(0) });
      expect(s.post(a.ip, recordOf(PUB(), credOf(a, 1), credOf(b, 2)), T)).to.deep.equal({
        err: 'IPv6 of peer data does not match sender',
      });
      expect(s.size).to.equal(1);
      expect(
        decodeCredentialRecord(
          (s.post(b.ip, recordOf(PUB(), credOf(b, 2)), T) as { pr: Uint8Array }).pr,
        ).peers,
      ).to.have.length(1);
    });

    it('refreshes an entry reported again and resets its verdict when the PeerID changes', () => {
      const s = new Seeder({ settings, graph: known });
      s.post(a.ip, recordOf(PUB('1'), credOf(a, 1)), T);
      s.testResults(
        'tpw',
        [{ addr: credOf(a, 1).address, ip6: a.ip, error: 'ConnectTimeout' }],
        T + 5,
      );
      s.post(a.ip, recordOf(PUB('1'), credOf(a, 1)), T + 10);
      let [e] = (s.list('tpw', T + 10) as { peers: SeederListPeer[] }).peers;
      expect([e!.last_report_sec, e!.last_check_sec, e!.check_error, e!.id]).to.deep.equal([
        T + 10,
        T + 5,
        'ConnectTimeout',
        'PUB_1',
      ]);
      s.post(a.ip, recordOf(PUB('2'), credOf(a, 1)), T + 20);
      [e] = (s.list('tpw', T + 20) as { peers: SeederListPeer[] }).peers;
      expect([e!.last_report_sec, e!.last_check_sec, e!.check_error, e!.id]).to.deep.equal([
        T + 20,
        0,
        null,
        'PUB_2',
      ]);
      expect(s.size).to.equal(1);
    });
  });

  describe('bounds and expiry (not in the Rust port)', () => {
    it('drops an entry not reported for expire_after_sec', () => {
      const s = new Seeder({ settings: { ...settings, expire_after_sec: 600 }, graph: known });
      s.post(a.ip, recordOf(PUB(), credOf(a, 1)), T);
      s.post(b.ip, recordOf(PUB(), credOf(b, 2)), T + 300);
      expect(s.list('tpw', T + 600).ok && s.size).to.equal(2);
      expect(s.list('tpw', T + 601).ok && s.size).to.equal(1);
      // b's entry outlived a: c is handed b only
      expect(
        decodeCredentialRecord(
          (s.post(c.ip, recordOf(PUB(), credOf(c, 3)), T + 601) as { pr: Uint8Array }).pr,
        ).peers[0]!.publicKey,
      ).to.deep.equal(b.key);
      expect(s.list('tpw', T + 901).ok && s.size).to.equal(1);
    });

    it('keeps at most max_entries_per_node entries per node, dropping the one reported longest ago', () => {
      const t = new SeederTable({ maxEntries: 100, maxPerNode: 2, expireAfterSec: 3600 });
      t.report(a.ip, credOf(a, 1), PUB(), T, 0);
      t.report(a.ip, credOf(a, 2), PUB(), T + 1, 0);
      t.report(a.ip, credOf(a, 1), PUB(), T + 2, 0); // refresh: 2 is now the stalest
      t.report(a.ip, credOf(a, 3), PUB(), T + 3, 0);
      t.report(b.ip, credOf(b, 4), PUB(), T + 3, 0);
      expect(t.entries().map((e) => e.creds.login - 1000)).to.deep.equal([1, 3, 4]);
      expect(t.find(a.ip, credOf(a, 2))).to.equal(undefined);
    });

    it('keeps at most max_entries in all, dropping the one reported longest ago', () => {
      const t = new SeederTable({ maxEntries: 3, maxPerNode: 4, expireAfterSec: 3600 });
      const nodes = Array.from({ length: 6 }, (_, i) => testNode(`m${i}`));
      nodes.forEach((n, i) => t.report(n.ip, credOf(n, i), PUB(), T + (i === 1 ? 100 : i), 0));
      expect(t.size).to.equal(3);
      expect(t.entries().map((e) => e.creds.login - 1000)).to.deep.equal([1, 4, 5]);
    });
  });

  describe('GET /seeder-peers', () => {
    function seeded(): Seeder {
      const s = new Seeder({
        settings: { ...settings, share_peers_with_nameserver: 2, expire_after_sec: 86_400 },
        graph: known,
      });
      s.post(a.ip, recordOf(PUB('a'), credOf(a, 1)), T);
      s.post(b.ip, recordOf(new TextEncoder().encode('private'), credOf(b, 2)), T);
      s.post(c.ip, recordOf(PUB('c'), credOf(c, 3)), T);
      s.post(c.ip, recordOf(PUB('c'), credOf(c, 4, 6)), T);
      return s;
    }

    it('lists every entry to a tester, in the Rust port shape', () => {
      const r = seeded().list('tpw', T);
      expect(r.ok).to.equal(true);
      const peers = (r as { peers: SeederListPeer[] }).peers;
      expect(peers.map((p) => p.id)).to.deep.equal(['PUB_a', 'private', 'PUB_c', 'PUB_c']);
      expect(Object.keys(peers[0]!)).to.deep.equal([
        'last_check_sec',
        'last_report_sec',
        'ring',
        'check_error',
        'peer',
        'id',
      ]);
      expect(peers[3]!.peer).to.deep.equal({
        address: '[2001:db8::4]:11238',
        public_key: peers[2]!.peer.public_key,
        login: 'AP_LOGIN: 1004',
        password: 'AP_PASS: BAQEBAQEBAQ',
        version: 22,
      });
    });

    it('lists to a nameserver only public entries that passed a test in the last hour, at most share_peers_with_nameserver', () => {
      const s = seeded();
      const ns = (now: number): string[] =>
        (s.list('npw', now) as { peers: SeederListPeer[] }).peers.map((p) => p.peer.address);
      expect(ns(T)).to.deep.equal([]);
      const ok = (addr: string, ip6: string, error: string | null = null) => ({
        addr: { ip: Uint8Array.from(addr.split('.').map(Number)), port: 0 },
        ip6,
        error,
      });
      s.testResults(
        'tpw',
        [
          { ...ok('10.0.0.1', a.ip), addr: credOf(a, 1).address },
          { ...ok('10.0.0.2', b.ip), addr: credOf(b, 2).address },
          { ...ok('10.0.0.3', c.ip, 'ConnectTimeout'), addr: credOf(c, 3).address },
          { ...ok('', c.ip), addr: credOf(c, 4, 6).address },
        ],
        T + 10,
      );
      expect(ns(T + 10)).to.deep.equal(['10.0.0.1:11235', '[2001:db8::4]:11238']);
      expect(ns(T + 10 + 3599)).to.have.length(2);
      expect(ns(T + 10 + 3600)).to.deep.equal([]);
    });

    it('lists to a nameserver only entries still appropriate (known, not full)', () => {
      const s = new Seeder({
        settings: { ...settings, max_connection_count: 1 },
        graph: graphOf(
          new Map([
            [a.ip, ['p']],
            [b.ip, []],
          ]),
        ),
      });
      for (const [n, i] of [
        [a, 1],
        [b, 2],
        [c, 3],
      ] as const) {
        s.post(n.ip, recordOf(PUB(), credOf(n, i)), T);
        s.testResults('tpw', [{ addr: credOf(n, i).address, ip6: n.ip, error: null }], T);
      }
      expect(
        (s.list('npw', T) as { peers: SeederListPeer[] }).peers.map((p) => p.peer.address),
      ).to.deep.equal(['10.0.0.2:11236']);
    });

    it('answers an unknown password 400 Unknown password, and checks the tester list first', () => {
      const s = new Seeder({
        settings: settingsOf({ tester_passwds: ['same'], nameserver_passwds: ['same', 'npw'] }),
        graph: known,
      });
      s.post(b.ip, recordOf(new TextEncoder().encode('private'), credOf(b, 2)), T);
      expect(seederPeers(s, new URLSearchParams('passwd=same'), T).body).to.match(/"private"/);
      expect(seederPeers(s, new URLSearchParams('passwd=npw'), T)).to.deep.equal({
        status: 200,
        contentType: 'application/json',
        body: '[]',
      });
      for (const q of ['passwd=nope', 'passwd=', 'passwd=NPW', 'passwd=npw%20']) {
        expect(seederPeers(s, new URLSearchParams(q), T), q).to.deep.equal({
          status: 400,
          contentType: 'text/plain; charset=utf-8',
          body: 'Unknown password',
        });
      }
      expectRsError(() => seederPeers(s, new URLSearchParams(''), T), 'RS_ERR_HTTP_BAD_REQUEST');
    });

    it('with no passwords configured (the default), answers nobody', () => {
      const s = new Seeder({ settings: seederSchema.parse({}), graph: known });
      expect(seederPeers(s, new URLSearchParams('passwd=x'), T).status).to.equal(400);
    });
  });

  describe('POST /seeder-testres', () => {
    const body = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

    it('records verdicts on the matching entries; an unknown entry is ignored', () => {
      const s = new Seeder({ settings, graph: known });
      s.post(a.ip, recordOf(PUB(), credOf(a, 1), credOf(a, 2, 6)), T);
      const r = seederTestResults(
        s,
        body({
          passwd: 'tpw',
          nodes: [
            { addr: '10.0.0.1:11235', ip6: a.ip, error: 'WrongSnode' },
            { addr: '[2001:db8::2]:11236', ip6: a.ip, error: null },
            { addr: '10.0.0.9:11235', ip6: a.ip, error: null },
            { addr: '10.0.0.1:11235', ip6: b.ip, error: null },
          ],
        }),
        T + 7,
      );
      expect(r).to.deep.equal({ status: 200, contentType: 'application/json', body: '{}' });
      const peers = (s.list('tpw', T + 7) as { peers: SeederListPeer[] }).peers;
      expect(peers.map((p) => [p.check_error, p.last_check_sec])).to.deep.equal([
        ['WrongSnode', T + 7],
        [null, T + 7],
      ]);
    });

    it('stops at an ip6 not in the full form, keeping the verdicts before it', () => {
      const s = new Seeder({ settings, graph: known });
      s.post(a.ip, recordOf(PUB(), credOf(a, 1)), T);
      s.post(b.ip, recordOf(PUB(), credOf(b, 2)), T);
      for (const bad of [
        b.ip.slice(0, 34),
        'fc00::1',
        b.ip.toUpperCase(),
        'fd00:0000:0000:0000:0000:0000:0000:0001',
      ]) {
        expectRsError(
          () =>
            seederTestResults(
              s,
              body({
                passwd: 'tpw',
                nodes: [
                  { addr: '10.0.0.1:11235', ip6: a.ip, error: 'NoSnode' },
                  { addr: '10.0.0.2:11236', ip6: bad, error: null },
                ],
              }),
              T + 1,
            ),
          'RS_ERR_HTTP_BAD_REQUEST',
        );
      }
      const peers = (s.list('tpw', T + 1) as { peers: SeederListPeer[] }).peers;
      expect(peers.map((p) => p.check_error)).to.deep.equal(['NoSnode', null]);
    });

    it('refuses a wrong password (400 Unknown password) and a malformed body (400 before anything applies)', () => {
      const s = new Seeder({ settings, graph: known });
      s.post(a.ip, recordOf(PUB(), credOf(a, 1)), T);
      expect(
        seederTestResults(
          s,
          body({ passwd: 'npw', nodes: [{ addr: '10.0.0.1:11235', ip6: a.ip, error: 'x' }] }),
          T,
        ).body,
      ).to.equal('Unknown password');
      for (const bad of [
        new TextEncoder().encode('{'),
        body([]),
        body({ passwd: 'tpw' }),
        body({
          passwd: 'tpw',
          nodes: [
            { addr: '10.0.0.1:11235', ip6: a.ip, error: 'x' },
            { addr: '10.0.0.1', ip6: a.ip, error: null },
          ],
        }),
        body({ passwd: 'tpw', nodes: [{ addr: '10.0.0.1:11235', ip6: a.ip, error: 5 }] }),
      ]) {
        expectRsError(() => seederTestResults(s, bad, T), 'RS_ERR_HTTP_BAD_REQUEST');
      }
      expect((s.list('tpw', T) as { peers: SeederListPeer[] }).peers[0]!.check_error).to.equal(
        null,
      );
      // a missing `error` is null (serde's Option), extra keys are ignored
      expect(
        seederTestResults(
          s,
          body({ passwd: 'tpw', extra: 1, nodes: [{ addr: '10.0.0.1:11235', ip6: a.ip }] }),
          T + 3,
        ).status,
      ).to.equal(200);
      expect(
        (s.list('tpw', T + 3) as { peers: SeederListPeer[] }).peers[0]!.last_check_sec,
      ).to.equal(T + 3);
    });
  });
});
