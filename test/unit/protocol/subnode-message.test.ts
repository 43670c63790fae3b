import { expect } from 'chai';
import fc from 'fast-check';
import { isRsError } from '../../../src/errors.ts';
import {
  type BDict,
  type BValue,
  bencodeDecode,
  bencodeEncode,
  utf8Bytes,
} from '../../../src/protocol/bencode.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { ip6FromPublicKey } from '../../../src/protocol/keys.ts';
import {
  type SubnodeQuery,
  buildAnnReply,
  buildGrReply,
  buildPnReply,
  encodeRouteN,
  encodeRouteNp,
  parseSubnodeQuery,
} from '../../../src/protocol/subnode-message.ts';
import {
  type HandlerFrame,
  buildHandlerFrame,
  buildReplyRouteHeader,
  parseHandlerFrame,
} from '../../../src/protocol/wire-headers.ts';
import { captureBytes, fromVectorValue, vectorsOf } from '../../helpers/vectors.ts';
import { expectRsError } from '../../helpers/errors.ts';

/**
 * Captures 3x are SocketWrapper frames: type (1) ‖ length (4) ‖ TUN header (4) ‖ IPv6 (40) ‖ UDP (8)
 * ‖ handler payload (captures/README.md).
 */
const SOCKET_WRAPPER_PAYLOAD_OFFSET = 1 + 4 + 4 + 40 + 8;

function loadFrame(name: string): { bytes: Uint8Array; frame: HandlerFrame; dict: BDict } {
  let bytes = captureBytes(name);
  if (name.startsWith('3')) bytes = bytes.subarray(SOCKET_WRAPPER_PAYLOAD_OFFSET);
  const frame = parseHandlerFrame(bytes);
  return { bytes, frame, dict: bencodeDecode(frame.content) as BDict };
}

function parseQuery(name: string): { q: SubnodeQuery; frame: HandlerFrame; dict: BDict } {
  const { frame, dict } = loadFrame(name);
  return { q: parseSubnodeQuery(dict), frame, dict };
}

/** Re-create the JS reply frame for a query frame and its reply content. */
function replyFrame(query: HandlerFrame, p: number | undefined, content: BDict): string {
  const routeHeader = buildReplyRouteHeader(
    query.routeHeader,
    p !== undefined ? { version: p } : {},
  );
  return bytesToHex(buildHandlerFrame({ routeHeader, content: bencodeEncode(content) }));
}

const QUERY_KINDS: Array<[string, SubnodeQuery['kind']]> = [
  ['01-A-self-pn-query.bin', 'pn'],
  ['03-A-self-ann-reset.bin', 'ann'],
  ['05-A-gr-for-C.bin', 'gr'],
  ['07-B-pn-query.bin', 'pn'],
  ['09-B-ann-reset.bin', 'ann'],
  ['11-B-gr-for-A.bin', 'gr'],
  ['13-D-gr-for-B.bin', 'gr'],
  ['15-D-gr-unknown.bin', 'gr'],
  ['17-B-ann-incremental.bin', 'ann'],
  ['19-A-self-ann-incremental.bin', 'ann'],
  ['20-dht-fn-query-ignore.bin', 'dht'],
  ['21-dht-reply-ignore.bin', 'dht'],
  ['32-sock-in-pn.bin', 'pn'],
];

const PN_PAIRS: Array<[string, string]> = [
  ['01-A-self-pn-query.bin', '02-A-self-pn-reply.bin'],
  ['07-B-pn-query.bin', '08-B-pn-reply.bin'],
  ['32-sock-in-pn.bin', '33-sock-out-pn-reply.bin'],
];
const GR_NO_ROUTE_PAIRS: Array<[string, string]> = [
  ['05-A-gr-for-C.bin', '06-gr-reply-no-route.bin'],
  ['15-D-gr-unknown.bin', '16-gr-reply-unknown.bin'],
];
const GR_ROUTE_PAIRS: Array<[string, string]> = [
  ['11-B-gr-for-A.bin', '12-gr-reply-B-A.bin'],
  ['13-D-gr-for-B.bin', '14-gr-reply-D-B.bin'],
];
const ANN_PAIRS: Array<[string, string]> = [
  ['03-A-self-ann-reset.bin', '04-A-self-ann-reply.bin'],
  ['09-B-ann-reset.bin', '10-B-ann-reply.bin'],
  ['17-B-ann-incremental.bin', '18-B-ann-incremental-reply.bin'],
];

const d = (o: Record<string, BValue>): BDict => o;
const txid = utf8Bytes('01abcd');
const fcAddr = Uint8Array.from({ length: 16 }, (_, i) => (i === 0 ? 0xfc : i));

describe('subnode-message', () => {
  describe('#parseSubnodeQuery()', () => {
    for (const [name, kind] of QUERY_KINDS) {
      it(`classifies capture ${name} as ${kind}`, () => {
        const { q, dict } = parseQuery(name);
        expect(q.kind).to.equal(kind);
        expect(q.raw).to.equal(dict);
        if (q.kind === 'ann' || q.kind === 'gr' || q.kind === 'pn') {
          expect(q.txid).to.deep.equal(dict.txid);
          expect(q.p).to.equal(21);
        }
        if (q.kind === 'ann') {
          expect(q.ann).to.be.instanceOf(Uint8Array);
          expect(q.ann!.length).to.be.greaterThan(120); // header + entities
        }
        if (q.kind === 'gr') {
          expect(q.src).to.deep.equal(dict.src);
          expect(q.tar).to.deep.equal(dict.tar);
          expect(q.src![0]).to.equal(0xfc);
        }
      });
    }

    it('classifies an unknown sq as other', () => {
      expect(parseSubnodeQuery(d({ sq: utf8Bytes('cp'), txid }))).to.deep.include({
        kind: 'other',
        sq: 'cp',
      });
    });

    it("classifies pc as the peering seeder's query", () => {
      const pc = Uint8Array.of(4, 3, 0x41);
      expect(parseSubnodeQuery(d({ sq: utf8Bytes('pc'), txid, pc }))).to.deep.include({
        kind: 'pc',
        txid,
        pc,
      });
    });

    it('classifies a dictionary without sq as dht, even with q', () => {
      expect(parseSubnodeQuery(d({ q: utf8Bytes('fn'), txid })).kind).to.equal('dht');
      expect(parseSubnodeQuery(d({})).kind).to.equal('dht');
    });

    it('accepts ann without the ann key (no reply) and gr without src/tar', () => {
      const ann = parseSubnodeQuery(d({ sq: utf8Bytes('ann'), txid }));
      expect(ann).to.deep.include({ kind: 'ann', ann: undefined });
      const gr = parseSubnodeQuery(d({ sq: utf8Bytes('gr'), txid, tar: fcAddr }));
      expect(gr.kind).to.equal('gr');
      expect(gr.kind === 'gr' && gr.src).to.equal(undefined);
      expect(gr.kind === 'gr' && gr.tar).to.deep.equal(fcAddr);
    });

    it('omits p when the query has none', () => {
      const q = parseSubnodeQuery(d({ sq: utf8Bytes('pn'), txid }));
      expect(q).to.not.have.property('p');
    });

    const bad: Array<[string, BValue]> = [
      ['a non-dictionary', [utf8Bytes('sq')]],
      ['a byte string', utf8Bytes('d2:sq2:pne')],
      ['an integer sq', d({ sq: 1, txid })],
      ['a missing txid', d({ sq: utf8Bytes('pn') })],
      ['an integer txid', d({ sq: utf8Bytes('gr'), txid: 5, src: fcAddr, tar: fcAddr })],
      ['a byte-string p', d({ sq: utf8Bytes('pn'), txid, p: utf8Bytes('21') })],
      ['an integer ann', d({ sq: utf8Bytes('ann'), txid, ann: 7 })],
      ['a 15-byte src', d({ sq: utf8Bytes('gr'), txid, src: fcAddr.subarray(1), tar: fcAddr })],
      [
        'a tar outside fc00::/8',
        d({ sq: utf8Bytes('gr'), txid, src: fcAddr, tar: new Uint8Array(16) }),
      ],
    ];
    for (const [what, value] of bad) {
      it(`rejects ${what} with RS_ERR_SUBNODE_INVALID`, () => {
        expectRsError(() => parseSubnodeQuery(value), 'RS_ERR_SUBNODE_INVALID');
      });
    }

    it('never throws anything but RsError on arbitrary decoded values', () => {
      const leaf = fc.oneof(
        fc.integer(),
        fc.uint8Array({ maxLength: 20 }),
        fc.constantFrom(utf8Bytes('gr'), utf8Bytes('pn'), utf8Bytes('ann')),
      );
      const value = fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }));
      const dict = fc.dictionary(
        fc.constantFrom('sq', 'txid', 'p', 'ann', 'src', 'tar', 'q', 'x'),
        value,
        { maxKeys: 6 },
      );
      fc.assert(
        fc.property(fc.oneof(dict, value), (v) => {
          try {
            parseSubnodeQuery(v as BValue);
          } catch (e) {
            if (!isRsError(e)) throw e;
          }
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('#buildPnReply()', () => {
    for (const [queryName, replyName] of PN_PAIRS) {
      it(`reproduces ${replyName} from ${queryName} byte for byte`, () => {
        const { q, frame, dict } = parseQuery(queryName);
        const reply = loadFrame(replyName);
        expect(q.kind).to.equal('pn');
        const content = buildPnReply(dict, {
          recvTime: reply.dict.recvTime as number,
          stateHash: reply.dict.stateHash as Uint8Array,
        });
        expect(replyFrame(frame, q.kind === 'pn' ? q.p : undefined, content)).to.equal(
          bytesToHex(reply.bytes),
        );
      });
    }

    it('does not modify the request dictionary', () => {
      const req = d({ sq: utf8Bytes('pn'), txid, p: 22 });
      buildPnReply(req, { recvTime: 1, stateHash: new Uint8Array(64) });
      expect(Object.keys(req)).to.deep.equal(['sq', 'txid', 'p']);
    });

    it('rejects a stateHash that is not 64 bytes', () => {
      expectRsError(
        () => buildPnReply(d({ txid }), { recvTime: 1, stateHash: new Uint8Array(63) }),
        'RS_ERR_SUBNODE_INVALID',
      );
    });
  });

  describe('#buildGrReply()', () => {
    for (const [queryName, replyName] of GR_NO_ROUTE_PAIRS) {
      it(`reproduces the no-route reply ${replyName} from ${queryName} byte for byte`, () => {
        const { q, frame, dict } = parseQuery(queryName);
        const reply = loadFrame(replyName);
        expect(q.kind).to.equal('gr');
        const content = buildGrReply(dict, { recvTime: reply.dict.recvTime as number });
        expect(replyFrame(frame, q.kind === 'gr' ? q.p : undefined, content)).to.equal(
          bytesToHex(reply.bytes),
        );
      });
    }

    // The target's key comes from the route header of one of its own frames (07: B, 01: A);
    // the label is the one the route server computed, read from the captured n.
    const knownKeys = ['01-A-self-pn-query.bin', '07-B-pn-query.bin'].map(
      (n) => loadFrame(n).frame.routeHeader.keyBytes!,
    );
    for (const [queryName, replyName] of GR_ROUTE_PAIRS) {
      it(`reproduces the route reply ${replyName} from ${queryName} byte for byte`, () => {
        const { q, frame, dict } = parseQuery(queryName);
        const reply = loadFrame(replyName);
        if (q.kind !== 'gr') throw new Error('not gr');
        const tarKey = knownKeys.find(
          (k) => bytesToHex(ip6FromPublicKey(k)) === bytesToHex(q.tar!),
        );
        expect(tarKey, 'key of tar').to.not.equal(undefined);
        const label = Buffer.from(reply.dict.n as Uint8Array).readBigUInt64BE(32);
        const content = buildGrReply(dict, {
          recvTime: reply.dict.recvTime as number,
          n: encodeRouteN(tarKey!, label),
          np: encodeRouteNp(21),
        });
        expect(replyFrame(frame, q.p, content)).to.equal(bytesToHex(reply.bytes));
      });
    }

    it('echoes every request key but sq, src and tar', () => {
      const req = d({
        sq: utf8Bytes('gr'),
        src: fcAddr,
        tar: fcAddr,
        txid,
        p: 22,
        es: utf8Bytes('x'),
        ei: 0,
        zz: 1,
      });
      const out = buildGrReply(req, { recvTime: 5 });
      expect(Object.keys(out).sort()).to.deep.equal(['ei', 'es', 'p', 'recvTime', 'txid', 'zz']);
      expect(Object.keys(req)).to.have.length(8);
    });

    it('rejects an n that is not a non-zero multiple of 40 bytes', () => {
      expectRsError(
        () => buildGrReply(d({ txid }), { recvTime: 1, n: new Uint8Array(39) }),
        'RS_ERR_SUBNODE_INVALID',
      );
      expectRsError(
        () => buildGrReply(d({ txid }), { recvTime: 1, n: new Uint8Array(0) }),
        'RS_ERR_SUBNODE_INVALID',
      );
    });
  });

  describe('#buildAnnReply()', () => {
    for (const [queryName, replyName] of ANN_PAIRS) {
      it(`reproduces ${replyName} from ${queryName} byte for byte`, () => {
        const { q, frame } = parseQuery(queryName);
        const reply = loadFrame(replyName);
        if (q.kind !== 'ann') throw new Error('not ann');
        const content = buildAnnReply({
          txid: q.txid,
          error: 'none',
          p: reply.dict.p as number, // the route server's own version
          recvTime: reply.dict.recvTime as number,
          stateHash: reply.dict.stateHash as Uint8Array,
        });
        expect(replyFrame(frame, q.p, content)).to.equal(bytesToHex(reply.bytes));
      });
    }

    it('matches the ann reply shape of vector bencode/encode/004', () => {
      const v = vectorsOf<{ id: string; input: Record<string, unknown>; hex: string }>(
        'bencode.json',
        'encode',
      ).find((x) => x.id === 'bencode/encode/004')!;
      const input = fromVectorValue(v.input) as {
        txid: Uint8Array;
        p: number;
        recvTime: number;
        stateHash: Uint8Array;
        error: string;
      };
      expect(bytesToHex(bencodeEncode(buildAnnReply(input)))).to.equal(v.hex);
    });

    it('rejects a stateHash that is not 64 bytes', () => {
      expectRsError(
        () =>
          buildAnnReply({ txid, error: 'none', p: 22, recvTime: 1, stateHash: new Uint8Array(32) }),
        'RS_ERR_SUBNODE_INVALID',
      );
    });
  });

  describe('#encodeRouteN()', () => {
    it('writes the key then the label big endian', () => {
      const key = Uint8Array.from({ length: 32 }, (_, i) => i);
      const n = encodeRouteN(key, 0x153n);
      expect(n.length).to.equal(40);
      expect(bytesToHex(n)).to.equal(bytesToHex(key) + '0000000000000153');
      expect(bytesToHex(encodeRouteN(key, 0xffff_ffff_ffff_ffffn)).slice(64)).to.equal(
        'ffffffffffffffff',
      );
    });

    it('rejects a key that is not 32 bytes and a label beyond 64 bits', () => {
      expectRsError(() => encodeRouteN(new Uint8Array(31), 1n), 'RS_ERR_SUBNODE_INVALID');
      expectRsError(() => encodeRouteN(new Uint8Array(32), 1n << 64n), 'RS_ERR_SUBNODE_INVALID');
      expectRsError(() => encodeRouteN(new Uint8Array(32), -1n), 'RS_ERR_SUBNODE_INVALID');
    });
  });

  describe('#encodeRouteNp()', () => {
    it('is [1, version & 0xff]', () => {
      expect(bytesToHex(encodeRouteNp(21))).to.equal('0115');
      expect(bytesToHex(encodeRouteNp(0x1ff))).to.equal('01ff');
      expect(encodeRouteNp(22)).to.deep.equal(hexToBytes('0116'));
    });
  });
});
