/**
 * `sq: "pc"` through the cjdns handler socket (docs/seeder.md): a fake cjdroute (real admin
 * protocol over UDP) delivers pc queries in node B's captured route header, and the reply frame
 * goes back on the same route header with `p` (the C node drops a reply without it), `pr` or
 * `err`.
 */
import { expect } from 'chai';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../../../src/app.ts';
import { bdict, bencodeDecode, bencodeEncode } from '../../../src/protocol/bencode.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { publicKeyFromString } from '../../../src/protocol/keys.ts';
import {
  decodeCredentialRecord,
  encodeCredentialRecord,
} from '../../../src/protocol/peering-credentials.ts';
import { buildHandlerFrame, parseHandlerFrame } from '../../../src/protocol/wire-headers.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { generateIdentity } from '../../../src/server/identity.ts';
import { startTestApp } from '../../helpers/app.ts';
import { FakeCjdroute, captureNodeInfo, waitFor } from '../../helpers/fake-cjdroute.ts';
import { httpRequest } from '../../helpers/http.ts';
import { captureBytes, fixturesDir, loadVectors } from '../../helpers/vectors.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('peering seeder through the cjdns handler socket', () => {
  const A = captureNodeInfo('A');
  const nodes = JSON.parse(
    readFileSync(join(fixturesDir(), 'captures', 'nodes.json'), 'utf8'),
  ) as Record<string, { publicKey: string; ipv6: string }>;
  const bKey = publicKeyFromString(nodes.B!.publicKey);
  // B's pn query as cjdns delivered it: its route header names B (key, IPv6, version)
  const bQuery = parseHandlerFrame(captureBytes('07-B-pn-query.bin'));
  let fake: FakeCjdroute;
  let sink: Socket;
  const replies: Uint8Array[] = [];
  let app: App;
  const clock = new ManualClock(1_700_000_000_000);

  function frameFromB(content: Record<string, unknown>): Uint8Array {
    return buildHandlerFrame({
      routeHeader: bQuery.routeHeader,
      content: bencodeEncode(content as never),
    });
  }
  async function ask(
    content: Record<string, unknown>,
  ): Promise<{ frame: ReturnType<typeof parseHandlerFrame>; reply: Record<string, unknown> }> {
    const before = replies.length;
    await fake.deliver(frameFromB(content));
    await waitFor(() => replies.length > before, 'the reply frame');
    const frame = parseHandlerFrame(replies[replies.length - 1]!);
    return { frame, reply: bdict(bencodeDecode(frame.content))! };
  }

  before(async () => {
    fake = await FakeCjdroute.start({ nodeInfo: A, password: 'pc-pw' });
    sink = createSocket('udp6');
    await new Promise<void>((resolve) => sink.bind(0, '::1', () => resolve()));
    sink.on('message', (m) => replies.push(new Uint8Array(m)));
    fake.tun = sink; // cjdns sends from where its replies go
    app = await startTestApp({
      privateKeyHex: bytesToHex(generateIdentity(22).privateKey!),
      clock,
      config: {
        cjdns: {
          enabled: true,
          adminAddr: '127.0.0.1',
          adminPort: fake.port,
          adminPassword: 'pc-pw',
          callTimeoutMs: 200,
          replyAddress: '::1',
          replyPort: sink.address().port,
          handlerBindAddress: '::1',
        },
        seeder: { tester_passwds: ['t'] },
      },
    });
    await waitFor(() => app.cjdns?.state === 'attached', 'the cjdns link');
  });
  after(async () => {
    await app?.close();
    await fake?.close();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  });

  it("records B's credentials and replies {p, pr, recvTime, txid} on B's route header", async () => {
    const record = encodeCredentialRecord({
      peerId: enc('PUB_B'),
      peers: [
        {
          address: { ip: Uint8Array.of(192, 0, 2, 7), port: 11234 },
          login: 7,
          password: new Uint8Array(8).fill(7),
          publicKey: bKey,
          version: 22,
        },
      ],
    });
    const txid = enc('01\x00\x00\x00\x01abcdefgh');
    const { frame, reply } = await ask({
      sq: enc('pc'),
      txid,
      p: 22,
      pc: record,
      es: Uint8Array.of(0x61, 0x14, 0x45, 0x81, 0x00),
      ei: 0,
    });
    expect(Object.keys(reply).sort()).to.deep.equal(['p', 'pr', 'recvTime', 'txid']);
    // p is our version: the attached cjdns node's (A, v21)
    expect(reply).to.deep.include({ p: 21, txid, recvTime: 1_700_000_000_000 });
    expect(decodeCredentialRecord(reply.pr as Uint8Array).peers).to.deep.equal([]);
    expect(frame.routeHeader.publicKey).to.equal(nodes.B!.publicKey);
    expect(frame.routeHeader.ip).to.equal(nodes.B!.ipv6);
    expect(frame.routeHeader.version).to.equal(bQuery.routeHeader.version);
    const listed = JSON.parse(
      (await httpRequest(app.address().port, '/seeder-peers?passwd=t')).body.toString(),
    ) as Array<{ id: string; peer: { address: string; public_key: string } }>;
    expect(listed).to.have.length(1);
    expect(listed[0]).to.deep.include({ id: 'PUB_B' });
    expect(listed[0]!.peer).to.deep.include({
      address: '192.0.2.7:11234',
      public_key: nodes.B!.publicKey,
    });
  });

  it('replies err when B posts credentials of another key', async () => {
    const worked = loadVectors('seeder.json').vectors[0] as { hex: string };
    const { reply } = await ask({
      sq: enc('pc'),
      txid: enc('01other'),
      p: 22,
      pc: Buffer.from(worked.hex, 'hex'),
    });
    expect(Object.keys(reply).sort()).to.deep.equal(['err', 'p', 'recvTime', 'txid']);
    expect(Buffer.from(reply.err as Uint8Array).toString()).to.equal(
      'IPv6 of peer data does not match sender',
    );
    const listed = JSON.parse(
      (await httpRequest(app.address().port, '/seeder-peers?passwd=t')).body.toString(),
    ) as unknown[];
    expect(listed).to.have.length(1);
  });

  it('sends nothing for a pc query without pc, and keeps answering after garbage', async () => {
    const before = replies.length;
    await fake.deliver(frameFromB({ sq: enc('pc'), txid: enc('01none'), p: 22 }));
    await fake.deliver(frameFromB({ sq: enc('pc'), txid: enc('01bad'), p: 22, pc: 7 }));
    const { reply } = await ask({
      sq: enc('pc'),
      txid: enc('01after'),
      p: 22,
      pc: Uint8Array.of(4, 1),
    });
    expect(replies.length).to.equal(before + 1);
    expect(Buffer.from(reply.err as Uint8Array).toString()).to.equal('Invalid item length: 1');
  });
});
