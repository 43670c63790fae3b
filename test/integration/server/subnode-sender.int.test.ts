/**
 * `POST /subnode` binds its `x-cjdns-*` headers to the announcement (issue 12, item 4): an `ann`
 * is its node's own, so one signed by another node than the headers name is refused with the
 * protocol's error — `failed_parse_or_validate` and 64 zero bytes — and changes nothing; under its
 * signer's address or key it is accepted. (The same check on the cjdns link, whose route header
 * cjdns authenticates: test/integration/transport/cjdns-captures.int.test.ts.)
 */
import { expect } from 'chai';
import type { App } from '../../../src/app.ts';
import { bencodeDecode, bencodeEncode, type BDict } from '../../../src/protocol/bencode.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { startTestApp } from '../../helpers/app.ts';
import { httpRequest } from '../../helpers/http.ts';
import { routeVectors } from '../../unit/replication/fixtures.ts';

const { routes, identity } = routeVectors();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const firstAnn = routes.steps.find((s: any) => s.action === 'ann' && s.expected.error === 'none');
const ZEROS = '00'.repeat(64);

describe('POST /subnode: an ann is its sender’s own', () => {
  let app: App;
  const clock = new ManualClock(firstAnn.now_ms);
  // the announcement is alice's (signed with her key); bob is anyone else
  const alice = identity(firstAnn.node) as ReturnType<typeof identity> & { public_key: string };
  const bob = identity('bob') as ReturnType<typeof identity> & { public_key: string };

  before(async () => {
    app = await startTestApp({
      privateKeyHex: routes.self.private_hex,
      version: routes.self.version,
      clock,
    });
  });
  after(async () => app.close());

  async function post(
    headers: Record<string, string>,
  ): Promise<{ error: string; stateHash: string }> {
    const body = bencodeEncode({
      sq: 'ann',
      ann: hexToBytes(firstAnn.ann_hex),
      txid: Uint8Array.of(7),
      p: 22,
    });
    const res = await httpRequest(app.address().port, '/subnode', {
      method: 'POST',
      body,
      headers: { 'x-cjdns-version': '22', ...headers },
    });
    expect(res.status).to.equal(200);
    const reply = bencodeDecode(new Uint8Array(res.body)) as BDict;
    return {
      error: Buffer.from(reply.error as Uint8Array).toString(),
      stateHash: bytesToHex(reply.stateHash as Uint8Array),
    };
  }

  it("refuses alice's announcement under bob's address, and under bob's key", async () => {
    expect(await post({ 'x-cjdns-ip': bob.ipv6 })).to.deep.equal({
      error: 'failed_parse_or_validate',
      stateHash: ZEROS,
    });
    expect(await post({ 'x-cjdns-key': bob.public_key })).to.deep.equal({
      error: 'failed_parse_or_validate',
      stateHash: ZEROS,
    });
    // alice's address with bob's key: the headers disagree with each other and with the signer
    expect(await post({ 'x-cjdns-ip': alice.ipv6, 'x-cjdns-key': bob.public_key })).to.deep.equal({
      error: 'failed_parse_or_validate',
      stateHash: ZEROS,
    });
    expect(app.server.nodes.get(alice.ipv6)).to.equal(undefined);
    expect(app.server.store.size).to.equal(0);
  });

  it("accepts it under alice's own address and key", async () => {
    const r = await post({ 'x-cjdns-ip': alice.ipv6, 'x-cjdns-key': alice.public_key });
    expect(r.error).to.equal('none');
    expect(r.stateHash).to.equal(firstAnn.expected.stateHash);
    expect(app.server.nodes.get(alice.ipv6)).to.not.equal(undefined);
  });
});
