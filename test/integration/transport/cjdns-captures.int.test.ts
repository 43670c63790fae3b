/**
 * The frames captured between cjdns v21.1 nodes and the original route server
 * (test/fixtures/captures/), driven through the real cjdns link: a fake cjdroute whose Core_nodeInfo is
 * supernode A, the link's UDP handler socket on `::`, replies injected to [::1]:<sink> instead
 * of [fc00::1]:1. The route server's clock is set from each captured reply's `recvTime`, and the
 * query frames are fed in capture order, so the replies must match byte for byte — recvTime and
 * stateHash included — except where a reply depends on announcements the captures do not hold.
 *
 * 30–33 (`sock-*`) are frames of cjdns' *socket interface* (SocketWrapper: `[type][…]`, type 0 =
 * `[u32 length][TUN header][IPv6][UDP][payload]`, 1 = add address, 2 = set MTU), i.e. cjdns
 * talking to an external TUN device. The route server never speaks that protocol: the kernel
 * builds the IPv6/UDP headers around our handler socket's datagrams. 30 and 31 therefore have no
 * bearing on us; 32 and 33 are used only for their UDP payloads, which are an ordinary handler
 * query and the reply the original sent to it (and are checked like the others).
 */
import { expect } from 'chai';
import { createSocket, type Socket } from 'node:dgram';
import { bdict, bencodeDecode, bbytes, bint, type BDict } from '../../../src/protocol/bencode.ts';
import { annHash } from '../../../src/protocol/announcement.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import {
  buildHandlerFrame,
  parseHandlerFrame,
  ROUTE_HEADER_BYTES,
  DATA_HEADER_BYTES,
} from '../../../src/protocol/wire-headers.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { generateIdentity } from '../../../src/server/identity.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import { AdminClient } from '../../../src/transport/admin-client.ts';
import { CjdnsLink, type FrameResult } from '../../../src/transport/cjdns-link.ts';
import { FakeCjdroute, captureNodeInfo, waitFor } from '../../helpers/fake-cjdroute.ts';
import { captureBytes } from '../../helpers/vectors.ts';

const HEADERS = ROUTE_HEADER_BYTES + DATA_HEADER_BYTES;

function content(frame: Uint8Array): BDict {
  return bdict(bencodeDecode(parseHandlerFrame(frame).content))!;
}

/** Milliseconds of the announcement's timestamp (bytes 112..119, `w >> 4`). */
function annTimestamp(query: Uint8Array): number {
  const ann = bbytes(content(query).ann)!;
  return Number(Buffer.from(ann.subarray(112, 120)).readBigUInt64BE() >> 4n);
}

/** The UDP payload of a SocketWrapper type-0 frame: skip [type][u32 len][TUN 4][IPv6 40][UDP 8]. */
function socketWrapperPayload(frame: Uint8Array): Uint8Array {
  expect(frame[0], 'SocketWrapper type 0 (a packet)').to.equal(0);
  const ip6 = 1 + 4 + 4;
  expect(frame[ip6]! >> 4, 'IPv6').to.equal(6);
  expect(frame[ip6 + 6], 'next header UDP').to.equal(17);
  const udpLength = Buffer.from(frame).readUInt16BE(ip6 + 40 + 4);
  const payload = frame.subarray(ip6 + 40 + 8);
  expect(payload.length).to.equal(udpLength - 8);
  return payload;
}

interface Step {
  query: string;
  reply: string | null;
  /** why the reply cannot be byte-exact (asserted by structure instead) */
  structural?: string;
}

const STEPS: Step[] = [
  { query: '01-A-self-pn-query.bin', reply: '02-A-self-pn-reply.bin' },
  { query: '03-A-self-ann-reset.bin', reply: '04-A-self-ann-reply.bin' },
  { query: '05-A-gr-for-C.bin', reply: '06-gr-reply-no-route.bin' },
  { query: '07-B-pn-query.bin', reply: '08-B-pn-reply.bin' },
  { query: '09-B-ann-reset.bin', reply: '10-B-ann-reply.bin' },
  { query: '11-B-gr-for-A.bin', reply: '12-gr-reply-B-A.bin' },
  {
    query: '13-D-gr-for-B.bin',
    reply: '14-gr-reply-D-B.bin',
    structural: "the route D→C→B needs C's and D's announcements, which were not captured: no n/np",
  },
  { query: '15-D-gr-unknown.bin', reply: '16-gr-reply-unknown.bin' },
  { query: '17-B-ann-incremental.bin', reply: '18-B-ann-incremental-reply.bin' },
];

describe('cjdns link: captured frames (test/fixtures/captures)', () => {
  let fake: FakeCjdroute;
  let admin: AdminClient;
  let server: RouteServer;
  let link: CjdnsLink;
  let sink: Socket;
  const replies: Uint8Array[] = [];
  const results: FrameResult[] = [];
  const clock = new ManualClock(0);
  const A = captureNodeInfo('A');

  /** Deliver one frame as cjdns would; resolves with the reply (or null) once it was handled. */
  async function exchange(
    frame: Uint8Array,
  ): Promise<{ result: FrameResult; reply: Uint8Array | null }> {
    const handled = results.length;
    const received = replies.length;
    expect(await fake.deliver(frame)).to.equal(1);
    await waitFor(() => results.length > handled, 'the frame to be handled');
    const result = results[handled]!;
    if (result !== 'reply') return { result, reply: null };
    await waitFor(() => replies.length > received, 'the reply datagram');
    return { result, reply: replies[received]! };
  }

  before(async () => {
    fake = await FakeCjdroute.start({ nodeInfo: A, password: 'capture' });
    admin = new AdminClient({
      addr: fake.address,
      port: fake.port,
      password: 'capture',
      timeoutMs: 500,
    });
    // the captures are the original's replies: the reference engine
    server = new RouteServer({ self: generateIdentity(22), clock, routing: { mode: 'reference' } });
    sink = createSocket('udp6');
    await new Promise<void>((resolve) => sink.bind(0, '::1', () => resolve()));
    sink.on('message', (m) => replies.push(new Uint8Array(m)));
    fake.tun = sink; // cjdns sends from where its replies go
    link = new CjdnsLink(
      { admin, server },
      {
        replyAddress: '::1',
        replyPort: sink.address().port,
        bindAddress: '::1',
        watchdogIntervalMs: 60_000,
      },
    );
    link.addListener((e) => {
      if (e.type === 'frame') results.push(e.result);
    });
    link.start();
    await waitFor(() => link.state === 'attached', 'the link to attach');
  });
  after(async () => {
    await link.stop();
    await admin.close();
    await fake.close();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
    server.close();
  });

  it('takes supernode A as its identity from Core_nodeInfo', () => {
    expect(server.identity).to.include({
      ipv6: A.myIp6,
      version: 21,
      key: '5tuqmmh7pud922brcpffm81024j0ld2q2wzcb1xz1xfwx85vgl00.k',
    });
  });

  for (const step of STEPS) {
    const title = step.structural
      ? `${step.query} → structure of ${step.reply} (not byte-exact: ${step.structural})`
      : `${step.query} → ${step.reply}, byte for byte`;
    it(title, async () => {
      const expected = captureBytes(step.reply!);
      clock.set(bint(content(expected).recvTime)!);
      const { result, reply } = await exchange(captureBytes(step.query));
      expect(result).to.equal('reply');
      if (!step.structural) {
        expect(bytesToHex(reply!)).to.equal(bytesToHex(expected));
        return;
      }
      // same route and data header (labelShift 0, flags rebuilt), same echoed keys, no route
      expect(bytesToHex(reply!.subarray(0, HEADERS))).to.equal(
        bytesToHex(expected.subarray(0, HEADERS)),
      );
      expect(parseHandlerFrame(reply!).routeHeader.switchHeader.labelShift).to.equal(0);
      const got = content(reply!);
      const want = content(expected);
      expect(Object.keys(got)).to.deep.equal(
        Object.keys(want).filter((k) => k !== 'n' && k !== 'np'),
      );
      for (const k of Object.keys(got)) expect(got[k], k).to.deep.equal(want[k]);
    });
  }

  it("19-A-self-ann-incremental.bin's announcement under D's route header (13) → refused: failed_parse_or_validate, zero stateHash, A unchanged", async () => {
    // cjdns authenticates the route header: the frame comes from D, the announcement is A's
    const query = captureBytes('19-A-self-ann-incremental.bin');
    const forged = buildHandlerFrame({
      routeHeader: parseHandlerFrame(captureBytes('13-D-gr-for-B.bin')).routeHeader,
      content: parseHandlerFrame(query).content,
    });
    clock.set(annTimestamp(query) + 3);
    const before = bytesToHex(server.nodes.get(A.myIp6)!.stateHash!);
    const { result, reply } = await exchange(forged);
    expect(result).to.equal('reply');
    const got = content(reply!);
    expect(Buffer.from(got.error as Uint8Array).toString()).to.equal('failed_parse_or_validate');
    expect(bytesToHex(got.stateHash as Uint8Array)).to.equal('00'.repeat(64));
    expect(bytesToHex(server.nodes.get(A.myIp6)!.stateHash!)).to.equal(before);
    expect(server.store.has(annHash(bbytes(content(query).ann)!))).to.equal(false);
  });

  it("19-A-self-ann-incremental.bin (A's own PATHFINDER announcement; no reply was captured) → an ann reply with A's new stateHash", async () => {
    const query = captureBytes('19-A-self-ann-incremental.bin');
    clock.set(annTimestamp(query) + 3);
    const { result, reply } = await exchange(query);
    expect(result).to.equal('reply');
    // same header as the captured reply to A's earlier self announcement (04)
    expect(bytesToHex(reply!.subarray(0, HEADERS))).to.equal(
      bytesToHex(captureBytes('04-A-self-ann-reply.bin').subarray(0, HEADERS)),
    );
    const got = content(reply!);
    expect(Object.keys(got)).to.deep.equal(['error', 'p', 'recvTime', 'stateHash', 'txid']);
    expect(Buffer.from(got.error as Uint8Array).toString()).to.equal('none');
    expect(got.p).to.equal(21);
    expect(got.recvTime).to.equal(clock.now());
    expect(got.txid).to.deep.equal(content(query).txid);
    const record = server.nodes.get(A.myIp6)!;
    expect(bytesToHex(got.stateHash as Uint8Array)).to.equal(bytesToHex(record.stateHash!));
    expect(bytesToHex(got.stateHash as Uint8Array)).not.to.equal(
      bytesToHex(bbytes(content(captureBytes('04-A-self-ann-reply.bin')).stateHash)!),
    );
  });

  for (const name of ['20-dht-fn-query-ignore.bin', '21-dht-reply-ignore.bin']) {
    it(`${name} (DHT traffic, no sq) gets no reply`, async () => {
      const before = replies.length;
      const { result } = await exchange(captureBytes(name));
      expect(result).to.equal('ignored');
      await new Promise((r) => setTimeout(r, 20));
      expect(replies.length).to.equal(before);
    });
  }

  it('the UDP payload of 32-sock-in-pn.bin gets the UDP payload of 33-sock-out-pn-reply.bin', async () => {
    const query = socketWrapperPayload(captureBytes('32-sock-in-pn.bin'));
    const expected = socketWrapperPayload(captureBytes('33-sock-out-pn-reply.bin'));
    clock.set(bint(content(expected).recvTime)!);
    const { reply } = await exchange(query);
    expect(bytesToHex(reply!)).to.equal(bytesToHex(expected));
  });
});
