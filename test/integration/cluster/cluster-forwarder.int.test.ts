/**
 * The edge's subnode forwarder against real HTTP servers: a running route server (the real
 * `POST /subnode`), and stubs for the failure modes and the keep-alive behaviour.
 */
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { App } from '../../../src/app.ts';
import { createSubnodeForwarder } from '../../../src/transport/subnode-forwarder.ts';
import type { RsError } from '../../../src/errors.ts';
import { bencodeDecode, bencodeEncode, utf8Bytes } from '../../../src/protocol/bencode.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { ip6FromString } from '../../../src/protocol/keys.ts';
import { encodeCredentialRecord } from '../../../src/protocol/peering-credentials.ts';
import type { Sender } from '../../../src/server/sender.ts';
import { startTestApp } from '../../helpers/app.ts';
import { TreeNetwork, fcIdentities } from '../../helpers/cluster-fixtures.ts';

const snode = fcIdentities(1, 99)[0]!;
const node = fcIdentities(2, 5)[1]!;
const sender: Sender = { key: node.publicKey, ip: node.ipv6, version: 22 };
const txid = (n: number): Uint8Array => Uint8Array.of(0x74, n);
const sq = (name: string): Uint8Array => utf8Bytes(name);

async function stub(
  handler: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; sockets: () => number }> {
  let sockets = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks), res));
  });
  server.on('connection', () => sockets++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/subnode`,
    sockets: () => sockets,
  };
}

describe('subnode forwarder (edge → pool)', function () {
  this.timeout(20_000);

  describe('against a running route server', () => {
    let app: App;
    before(async () => {
      app = await startTestApp({ privateKeyHex: snode.privateKeyHex });
    });
    after(async () => app.close());

    it("returns the pool's reply dictionaries for ann, pn and gr", async () => {
      const url = `http://127.0.0.1:${app.address().port}/subnode`;
      const fwd = createSubnodeForwarder({ url });
      try {
        const net = new TreeNetwork(3, snode.ipv6);
        const ann = net.reset(0, Date.now());
        const annReply = (await fwd.forward(
          { sq: sq('ann'), ann, txid: txid(1), p: 22 },
          { key: net.nodes[0]!.publicKey, ip: net.nodes[0]!.ipv6, version: 22 },
        ))!;
        expect(Buffer.from(annReply.txid as Uint8Array).equals(Buffer.from(txid(1)))).to.equal(
          true,
        );
        expect(Buffer.from(annReply.error as Uint8Array).toString()).to.equal('none');
        const hash = bytesToHex(app.server.nodes.get(net.nodes[0]!.ipv6)!.stateHash);
        expect(bytesToHex(annReply.stateHash as Uint8Array)).to.equal(hash);

        const pn = (await fwd.forward(
          { sq: sq('pn'), txid: txid(2), p: 22 },
          { key: net.nodes[0]!.publicKey, ip: net.nodes[0]!.ipv6, version: 22 },
        ))!;
        expect(bytesToHex(pn.stateHash as Uint8Array)).to.equal(hash);

        const gr = (await fwd.forward(
          {
            sq: sq('gr'),
            txid: txid(3),
            src: ip6FromString(net.nodes[0]!.ipv6),
            tar: ip6FromString(net.nodes[2]!.ipv6),
          },
          sender,
        ))!;
        expect(gr).to.have.property('recvTime');
        expect(gr).to.not.have.property('n'); // node 2 is unknown to this server
      } finally {
        fwd.close();
      }
    });

    it("returns the seeder's pc reply (p and pr) for a node posting its own credentials", async () => {
      const fwd = createSubnodeForwarder({ url: `http://127.0.0.1:${app.address().port}/subnode` });
      try {
        const pc = encodeCredentialRecord({
          peerId: utf8Bytes('PUB_edge'),
          peers: [
            {
              address: { ip: Uint8Array.of(192, 0, 2, 1), port: 1 },
              login: 1,
              password: new Uint8Array(8),
              publicKey: node.publicKey,
              version: 22,
            },
          ],
        });
        const reply = (await fwd.forward({ sq: sq('pc'), txid: txid(6), p: 22, pc }, sender))!;
        expect(Object.keys(reply).sort()).to.deep.equal(['p', 'pr', 'recvTime', 'txid']);
        expect(reply.p).to.equal(22);
        expect(app.server.seeder.size).to.equal(1);
      } finally {
        fwd.close();
      }
    });

    it('returns null when the pool sends no reply (204)', async () => {
      const fwd = createSubnodeForwarder({ url: `http://127.0.0.1:${app.address().port}/subnode` });
      try {
        expect(await fwd.forward({ sq: sq('ann'), txid: txid(4) }, sender)).to.equal(null); // ann without `ann`: no reply
      } finally {
        fwd.close();
      }
    });
  });

  describe('against stubs', () => {
    const servers: Server[] = [];
    after(() => servers.forEach((s) => s.close()));

    it('sends the sender as canonical x-cjdns-* headers and the query as bencode', async () => {
      let seen: { headers: IncomingMessage['headers']; body: Buffer } | undefined;
      const s = await stub((req, body, res) => {
        seen = { headers: req.headers, body };
        res
          .writeHead(200, { 'content-type': 'application/x-bencode' })
          .end(Buffer.from(bencodeEncode({ ok: 1 })));
      });
      servers.push(s.server);
      const fwd = createSubnodeForwarder({ url: s.url });
      expect(await fwd.forward({ sq: sq('pn'), txid: txid(5) }, sender)).to.deep.equal({ ok: 1 });
      fwd.close();
      expect(seen!.headers['x-cjdns-ip']).to.equal(node.ipv6);
      expect(seen!.headers['x-cjdns-key']).to.equal(bytesToHex(node.publicKey));
      expect(seen!.headers['x-cjdns-version']).to.equal('22');
      expect(seen!.headers['x-cjdns-sq'], 'what HAProxy routes the seeder on').to.equal('pn');
      expect(seen!.headers['content-type']).to.equal('application/x-bencode');
      expect(bencodeDecode(new Uint8Array(seen!.body))).to.deep.equal({
        sq: new Uint8Array(Buffer.from('pn')),
        txid: txid(5),
      });
    });

    it('keeps connections alive across queries (bounded agent)', async () => {
      const s = await stub((_req, _body, res) =>
        res.writeHead(200).end(Buffer.from(bencodeEncode({ ok: 1 }))),
      );
      servers.push(s.server);
      const fwd = createSubnodeForwarder({ url: s.url, maxSockets: 2 });
      for (let i = 0; i < 10; i++) await fwd.forward({ sq: sq('pn'), txid: txid(i) }, sender);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => fwd.forward({ sq: sq('pn'), txid: txid(i) }, sender)),
      );
      fwd.close();
      expect(s.sockets()).to.be.at.most(2);
    });

    const failures: Array<
      [string, (req: IncomingMessage, body: Buffer, res: ServerResponse) => void]
    > = [
      ['an HTTP error status', (_q, _b, res) => res.writeHead(503).end('down')],
      ['a reply that is not bencode', (_q, _b, res) => res.writeHead(200).end('garbage')],
      ['a bencoded non-dictionary', (_q, _b, res) => res.writeHead(200).end('i5e')],
      [
        'a reply above the size bound',
        (_q, _b, res) => res.writeHead(200).end(Buffer.alloc(70_000, 0x61)),
      ],
      ['no reply in time', () => undefined],
    ];
    for (const [what, handler] of failures) {
      it(`yields null and reports ${what}`, async () => {
        const s = await stub(handler);
        servers.push(s.server);
        const errors: RsError[] = [];
        const fwd = createSubnodeForwarder({
          url: s.url,
          timeoutMs: 300,
          onError: (e) => errors.push(e),
        });
        expect(await fwd.forward({ sq: sq('pn'), txid: txid(9) }, sender)).to.equal(null);
        fwd.close();
        expect(errors).to.have.length(1);
        expect(errors[0]!.code).to.match(/^RS_ERR_/);
      });
    }

    it('yields null when nothing listens', async () => {
      const errors: RsError[] = [];
      const fwd = createSubnodeForwarder({
        url: 'http://127.0.0.1:1/subnode',
        onError: (e) => errors.push(e),
      });
      expect(await fwd.forward({ sq: sq('pn'), txid: txid(1) }, sender)).to.equal(null);
      fwd.close();
      expect(errors).to.have.length(1);
    });
  });
});
