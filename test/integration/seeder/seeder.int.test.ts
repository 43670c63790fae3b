/**
 * The peering seeder through a running route server (docs/seeder.md): nodes known to the graph
 * (signed reset announcements over POST /subnode) post credentials with `sq: "pc"` over
 * POST /subnode and get the Rust port's reply shape; the tester and nameserver HTTP API with good
 * and bad passwords; hostile `pc` input.
 */
import { expect } from 'chai';
import type { App } from '../../../src/app.ts';
import {
  bdict,
  bencodeDecode,
  bencodeEncode,
  type BDict,
  type BValue,
} from '../../../src/protocol/bencode.ts';
import { publicKeyFromString } from '../../../src/protocol/keys.ts';
import {
  decodeCredentialRecord,
  encodeCredentialRecord,
  type PeeringCredential,
} from '../../../src/protocol/peering-credentials.ts';
import { peerAddressToString } from '../../../src/protocol/peering-text.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { startTestApp } from '../../helpers/app.ts';
import { httpRequest } from '../../helpers/http.ts';
import { signedAnn, signedNode } from '../../helpers/signed-nodes.ts';
import { loadVectors } from '../../helpers/vectors.ts';

interface Identity {
  name: string;
  ipv6: string;
  public_key: string;
  private_hex: string;
}
const ids = new Map(
  (loadVectors('route_server.json') as unknown as { identities: Identity[] }).identities.map(
    (i) => [i.name, i],
  ),
);
const id = (name: string): Identity => ids.get(name)!;
const worked = loadVectors('seeder.json').vectors[0] as { hex: string; ipv6: string; key: string };

const T_MS = 1_700_000_000_000;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function credOf(name: string, n: number, family: 4 | 6 = 4): PeeringCredential {
  const ip =
    family === 4
      ? Uint8Array.of(198, 51, 100, n)
      : Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, n);
  return {
    address: { ip, port: 11000 + n },
    login: n,
    password: new Uint8Array(8).fill(n),
    publicKey: publicKeyFromString(id(name).public_key),
    version: 22,
  };
}

describe('peering seeder (route server, HTTP)', () => {
  let app: App;
  const clock = new ManualClock(T_MS);
  let port: number;

  async function subnode(
    sender: string,
    query: BDict,
  ): Promise<{ status: number; reply: BDict | undefined }> {
    const r = await httpRequest(port, '/subnode', {
      method: 'POST',
      body: bencodeEncode(query),
      headers: {
        'x-cjdns-ip': id(sender).ipv6,
        'x-cjdns-key': id(sender).public_key,
        'x-cjdns-version': '22',
      },
    });
    return {
      status: r.status,
      reply: r.status === 200 ? bdict(bencodeDecode(new Uint8Array(r.body))) : undefined,
    };
  }
  const pc = (
    sender: string,
    pcValue: BValue | undefined,
    extra: BDict = {},
  ): Promise<{ status: number; reply: BDict | undefined }> =>
    subnode(sender, {
      sq: enc('pc'),
      txid: enc(`01${sender}`),
      p: 22,
      ...(pcValue === undefined ? {} : { pc: pcValue }),
      ...extra,
    });
  const post = async (
    sender: string,
    peerId: string,
    ...creds: PeeringCredential[]
  ): Promise<string[]> => {
    const { reply } = await pc(
      sender,
      encodeCredentialRecord({ peerId: enc(peerId), peers: creds }),
    );
    expect(reply, `reply to ${sender}`).to.have.property('pr');
    return decodeCredentialRecord(reply!.pr as Uint8Array).peers.map((p) =>
      peerAddressToString(p.address),
    );
  };
  const seederPeers = async (
    passwd: string,
  ): Promise<{ status: number; type: string; body: string }> => {
    const r = await httpRequest(port, `/seeder-peers?passwd=${encodeURIComponent(passwd)}`);
    return { status: r.status, type: String(r.headers['content-type']), body: r.body.toString() };
  };
  const testres = async (body: unknown): Promise<{ status: number; body: string }> => {
    const r = await httpRequest(port, '/seeder-testres', {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    return { status: r.status, body: r.body.toString() };
  };

  before(async () => {
    app = await startTestApp({
      privateKeyHex: id('snode').private_hex,
      clock,
      config: {
        seeder: {
          tester_passwds: ['tester secret'],
          nameserver_passwds: ['ns'],
          max_connection_count: 3,
        },
      },
    });
    port = app.address().port;
    // alice, bob, carol, dave are in the graph; bob announced carol as its peer; erin is not
    const peerOf = (name: string, n: number) => ({
      type: 'Peer' as const,
      ipv6: id(name).ipv6,
      label: '0000.0000.0000.0013',
      mtu: 0,
      peerNum: n,
      unused: 0xffffffff,
      encodingFormNum: 0,
      flags: 0,
    });
    const peers: Record<string, ReturnType<typeof peerOf>[]> = {
      alice: [],
      bob: [peerOf('carol', 1)],
      carol: [],
      dave: [],
    };
    for (const [name, entities] of Object.entries(peers)) {
      const ann = signedAnn(signedNode(name), {
        timestamp: T_MS,
        isReset: true,
        snodeIp: id('snode').ipv6,
        entities,
      });
      const { reply } = await subnode(name, { sq: enc('ann'), txid: enc('01ann'), p: 22, ann });
      expect(Buffer.from(reply!.error as Uint8Array).toString(), name).to.equal('none');
    }
  });
  after(async () => {
    await app?.close();
  });

  it('answers a pc query with {p, pr, recvTime, txid}: the newest Rust reply shape', async () => {
    const { status, reply } = await pc(
      'alice',
      encodeCredentialRecord({ peerId: enc('PUB_alice'), peers: [credOf('alice', 1)] }),
    );
    expect(status).to.equal(200);
    expect(Object.keys(reply!).sort()).to.deep.equal(['p', 'pr', 'recvTime', 'txid']);
    expect(reply).to.deep.include({
      p: 22,
      recvTime: T_MS,
      txid: enc('01alice'),
      pr: new Uint8Array(0),
    });
  });

  it('hands later nodes the earlier public peers of their family, never themselves nor a node already peered with them', async () => {
    expect(await post('bob', 'PUB_bob', credOf('bob', 2))).to.deep.equal(['198.51.100.1:11001']);
    // bob announced carol as its peer: carol is not handed bob
    expect(await post('carol', 'PUB_carol', credOf('carol', 3))).to.deep.equal([
      '198.51.100.1:11001',
    ]);
    expect(
      await post('dave', 'dave-private', credOf('dave', 4), credOf('dave', 4, 6)),
    ).to.deep.equal(['198.51.100.1:11001', '198.51.100.2:11002', '198.51.100.3:11003']);
    // dave is private: nobody is handed dave; alice gets bob and carol
    expect(await post('alice', 'PUB_alice', credOf('alice', 1))).to.deep.equal([
      '198.51.100.2:11002',
      '198.51.100.3:11003',
    ]);
    // erin is not in the graph: posts are accepted, but erin is never handed out
    expect(await post('erin', 'PUB_erin', credOf('erin', 5))).to.deep.equal([
      '198.51.100.1:11001',
      '198.51.100.2:11002',
      '198.51.100.3:11003',
    ]);
    expect(await post('alice', 'PUB_alice', credOf('alice', 1))).to.deep.equal([
      '198.51.100.2:11002',
      '198.51.100.3:11003',
    ]);
  });

  it("answers err for credentials that are not the sender's, a missing PeerID, and broken records", async () => {
    const refused = async (sender: string, record: Uint8Array): Promise<string> => {
      const { status, reply } = await pc(sender, record);
      expect(status).to.equal(200);
      expect(Object.keys(reply!).sort()).to.deep.equal(['err', 'p', 'recvTime', 'txid']);
      return Buffer.from(reply!.err as Uint8Array).toString();
    };
    expect(await refused('bob', Buffer.from(worked.hex, 'hex'))).to.equal(
      'IPv6 of peer data does not match sender',
    );
    expect(await refused('bob', encodeCredentialRecord({ peers: [credOf('bob', 2)] }))).to.equal(
      'Credential post missing peer ID',
    );
    expect(await refused('bob', Uint8Array.of(4, 0))).to.equal('Invalid item length: 0');
    expect(await refused('bob', Buffer.from(worked.hex, 'hex').subarray(0, 100))).to.equal(
      'TLV is truncated',
    );
    expect((await refused('bob', new Uint8Array(5000))).length).to.be.at.most(128);
  });

  it('sends no reply (204) without pc, and 400 for a pc that is not a byte string or no txid', async () => {
    expect((await pc('bob', undefined)).status).to.equal(204);
    expect((await pc('bob', 5)).status).to.equal(400);
    expect((await subnode('bob', { sq: enc('pc'), pc: Uint8Array.of(4, 2) })).status).to.equal(400);
  });

  it('lists every entry to a tester and nothing untested to a nameserver; 400 Unknown password otherwise', async () => {
    const all = await seederPeers('tester secret');
    expect(all.status).to.equal(200);
    expect(all.type).to.match(/^application\/json/);
    const list = JSON.parse(all.body) as Array<{
      id: string;
      peer: { address: string; login: string };
      check_error: null;
      last_report_sec: number;
    }>;
    expect(list.map((e) => e.id)).to.deep.equal([
      'PUB_alice',
      'PUB_bob',
      'PUB_carol',
      'dave-private',
      'dave-private',
      'PUB_erin',
    ]);
    expect(list[3]!.peer.address).to.equal('198.51.100.4:11004');
    expect(list[4]!.peer.address).to.equal('[2001:db8::4]:11004');
    expect(list[0]).to.include({ last_report_sec: T_MS / 1000, check_error: null });
    expect(JSON.parse((await seederPeers('ns')).body)).to.deep.equal([]);
    for (const bad of ['nope', '', 'NS', 'tester%20secret']) {
      const r = await seederPeers(bad);
      expect([r.status, r.type, r.body], bad).to.deep.equal([
        400,
        'text/plain; charset=utf-8',
        'Unknown password',
      ]);
    }
    expect((await httpRequest(port, '/seeder-peers')).status).to.equal(400);
    expect(
      (await httpRequest(port, '/seeder-peers?passwd=ns', { method: 'POST' })).status,
    ).to.equal(405);
  });

  it('takes test verdicts from a tester; a nameserver then sees the tested-good public peers that are not full', async () => {
    clock.set(T_MS + 60_000);
    expect(await testres({ passwd: 'ns', nodes: [] })).to.deep.equal({
      status: 400,
      body: 'Unknown password',
    });
    const r = await testres({
      passwd: 'tester secret',
      nodes: [
        { addr: '198.51.100.1:11001', ip6: id('alice').ipv6, error: null },
        { addr: '198.51.100.2:11002', ip6: id('bob').ipv6, error: 'ConnectTimeout' },
        { addr: '198.51.100.3:11003', ip6: id('carol').ipv6, error: null },
        { addr: '198.51.100.5:11005', ip6: id('erin').ipv6, error: null },
      ],
    });
    expect(r).to.deep.equal({ status: 200, body: '{}' });
    const ns = JSON.parse((await seederPeers('ns')).body) as Array<{
      id: string;
      last_check_sec: number;
    }>;
    // bob failed, dave is private, erin is not in the graph
    expect(ns.map((e) => e.id)).to.deep.equal(['PUB_alice', 'PUB_carol']);
    expect(ns[0]!.last_check_sec).to.equal(T_MS / 1000 + 60);
    expect((await testres('{')).status).to.equal(400);
    expect(
      (
        await testres({
          passwd: 'tester secret',
          nodes: [{ addr: '198.51.100.1:11001', ip6: 'fc00::1', error: null }],
        })
      ).status,
    ).to.equal(400);
  });
});
