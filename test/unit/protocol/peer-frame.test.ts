import { expect } from 'chai';
import { encode as msgpackEncode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { isRsError } from '../../../src/errors.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import {
  PEER_HASH_BYTES,
  PEER_INV_MAX_HASHES,
  type PeerFrameLimits,
  type PeerMessage,
  decodePeerFrame,
  encodeMsgpack5Int,
  encodePeerFrame,
} from '../../../src/protocol/peer-frame.ts';
import { fromVectorValue, vectorsOf } from '../../helpers/vectors.ts';
import { expectRsError } from '../../helpers/errors.ts';
import { seqArb } from '../../helpers/peer-frame-arbitraries.ts';

interface FrameVector {
  id: string;
  message: unknown[];
  hex: string;
}
interface BadFrameVector {
  id: string;
  hex: string;
}

const frameVectors = vectorsOf<FrameVector>('peer_protocol.json', 'frame');
const badFrameVectors = vectorsOf<BadFrameVector>('peer_protocol.json', 'badFrame');

function decodeOrRsError(bytes: Uint8Array, limits?: PeerFrameLimits): void {
  try {
    decodePeerFrame(bytes, limits);
  } catch (e) {
    if (!isRsError(e)) throw e;
    expect(e.code).to.equal('RS_ERR_PEER_FRAME_INVALID');
  }
}

/** The JS array of a vector as the message it stands for (an independent, table-driven mapping). */
function messageOf(arr: unknown[]): PeerMessage {
  const [seq, type, a, b] = fromVectorValue(arr) as [number, string, unknown, unknown];
  switch (type) {
    case 'HELLO':
    case 'OLLEH':
      return { type, seq, version: a as number };
    case 'INV':
      return { type, seq, hashes: b as Uint8Array[] };
    case 'GET_DATA':
      return { type, seq, hash: a as Uint8Array };
    case 'DATA':
      return { type, seq, data: a as Uint8Array | null };
    case 'PING':
    case 'ACK':
      return { type, seq };
    default:
      return { type: 'UNKNOWN', seq, name: type };
  }
}

/** The Rust vectors use 4-byte dummy hashes; real hashes are 64 bytes. */
function usesShortHashes(m: PeerMessage): boolean {
  if (m.type === 'INV') return m.hashes.some((h) => h.length !== PEER_HASH_BYTES);
  if (m.type === 'GET_DATA') return m.hash.length !== PEER_HASH_BYTES;
  return false;
}

const hash64 = fc.uint8Array({ minLength: 64, maxLength: 64 });
const messageArb: fc.Arbitrary<PeerMessage> = fc.oneof(
  fc.record({
    type: fc.constantFrom('HELLO' as const, 'OLLEH' as const),
    seq: seqArb,
    version: fc.maxSafeInteger(),
  }),
  fc.record({
    type: fc.constant('INV' as const),
    seq: seqArb,
    hashes: fc.array(hash64, { maxLength: 20 }),
  }),
  fc.record({ type: fc.constant('GET_DATA' as const), seq: seqArb, hash: hash64 }),
  fc.record({
    type: fc.constant('DATA' as const),
    seq: seqArb,
    data: fc.option(fc.uint8Array({ maxLength: 400 }), { nil: null }),
  }),
  fc.record({ type: fc.constantFrom('PING' as const, 'ACK' as const), seq: seqArb }),
  fc.record({
    type: fc.constant('UNKNOWN' as const),
    seq: seqArb,
    name: fc
      .string({ unit: 'binary', maxLength: 40 })
      .filter((s) => !['HELLO', 'OLLEH', 'INV', 'GET_DATA', 'DATA', 'PING', 'ACK'].includes(s)),
  }),
);

describe('peer-frame', () => {
  describe('#encodePeerFrame()', () => {
    for (const v of frameVectors) {
      it(`encodes vector ${v.id} byte for byte (msgpack5 3.6)`, () => {
        expect(bytesToHex(encodePeerFrame(messageOf(v.message)))).to.equal(v.hex);
      });
    }

    it('writes INV lists of 16 or more hashes as array16', () => {
      const hashes = Array.from({ length: 16 }, () => new Uint8Array(64));
      const out = encodePeerFrame({ type: 'INV', seq: 0, hashes });
      expect(bytesToHex(out.subarray(0, 10))).to.equal('9400a3494e5600dc0010');
    });

    it('writes announcements over 255 bytes as bin16 and strings as fixstr/str8', () => {
      const out = encodePeerFrame({ type: 'DATA', seq: 1, data: new Uint8Array(300) });
      expect(bytesToHex(out.subarray(0, 10))).to.equal('9301a444415441c5012c');
      const name = 'X'.repeat(40);
      expect(
        bytesToHex(encodePeerFrame({ type: 'UNKNOWN', seq: 1, name }).subarray(0, 4)),
      ).to.equal('9201d928');
    });

    it('returns frames that later encodes leave intact (one encoder and scratch per thread)', () => {
      const first = encodePeerFrame({ type: 'GET_DATA', seq: 7, hash: new Uint8Array(64).fill(1) });
      const copy = first.slice();
      encodePeerFrame({ type: 'DATA', seq: 8, data: new Uint8Array(200_000).fill(2) });
      encodePeerFrame({ type: 'GET_DATA', seq: 9, hash: new Uint8Array(64).fill(3) });
      expect(bytesToHex(first)).to.equal(bytesToHex(copy));
    });

    it('encodes a small frame exactly after a large one grew the scratch', () => {
      const big = encodePeerFrame({ type: 'DATA', seq: 1, data: new Uint8Array(300_000).fill(9) });
      expect(big.length).to.equal(1 + 1 + 5 + 5 + 300_000); // fixarray, seq, "DATA", bin32 header
      expect(bytesToHex(encodePeerFrame({ type: 'ACK', seq: 5 }))).to.equal('9205a341434b');
    });

    it("is byte-identical to the library's one-shot encode of each element (property)", () => {
      // the oracle: the frame's elements encoded one by one with a fresh encoder each
      const oneShot = (m: PeerMessage): string => {
        const args: unknown[] =
          m.type === 'HELLO' || m.type === 'OLLEH'
            ? [m.type, m.version]
            : m.type === 'INV'
              ? ['INV', 0, m.hashes]
              : m.type === 'GET_DATA'
                ? ['GET_DATA', m.hash]
                : m.type === 'DATA'
                  ? ['DATA', m.data]
                  : m.type === 'UNKNOWN'
                    ? [m.name]
                    : [m.type];
        const parts = [Uint8Array.of(0x90 | (args.length + 1)), msgpackEncode(m.seq)];
        for (const a of args) parts.push(msgpackEncode(a));
        return parts.map(bytesToHex).join('');
      };
      fc.assert(
        fc.property(fc.array(messageArb, { minLength: 1, maxLength: 8 }), (msgs) => {
          // several in a row: each frame is built on the scratch the previous one left
          const frames = msgs.map((m) => encodePeerFrame(m));
          msgs.forEach((m, i) => expect(bytesToHex(frames[i]!)).to.equal(oneShot(m)));
        }),
      );
    });

    it('refuses a seq that is not a safe integer', () => {
      expectRsError(() => encodePeerFrame({ type: 'PING', seq: 1.5 }), 'RS_ERR_PEER_FRAME_INVALID');
      expectRsError(
        () => encodePeerFrame({ type: 'PING', seq: 2 ** 60 }),
        'RS_ERR_PEER_FRAME_INVALID',
      );
    });
  });

  describe('#encodeMsgpack5Int()', () => {
    const cases: Array<[number, string]> = [
      [0, '00'],
      [127, '7f'],
      [128, 'cc80'],
      [255, 'ccff'],
      [256, 'cd0100'],
      [65535, 'cdffff'],
      [65536, 'ce00010000'],
      [2 ** 32 - 1, 'ceffffffff'],
      [2 ** 32, 'cf0000000100000000'],
      [1700000000123, 'cf0000018bcfe5687b'],
      [Number.MAX_SAFE_INTEGER, 'cf001fffffffffffff'],
      [-1, 'ff'],
      [-32, 'e0'],
      [-33, 'd0df'],
      [-128, 'd080'],
      [-129, 'd1ff7f'],
      [-32768, 'd18000'],
      [-32769, 'd2ffff7fff'],
      [-214748364, 'd2f3333334'],
      // msgpack5's `obj > -214748365` comparison sends these to int64
      [-214748365, 'd3fffffffff3333333'],
      [-2147483648, 'd3ffffffff80000000'],
      [-2147483649, 'd3ffffffff7fffffff'],
    ];
    for (const [n, hex] of cases) {
      it(`encodes ${n} as ${hex}`, () => {
        expect(bytesToHex(encodeMsgpack5Int(n))).to.equal(hex);
      });
    }
  });

  describe('#decodePeerFrame()', () => {
    for (const v of frameVectors) {
      const msg = messageOf(v.message);
      const limits: PeerFrameLimits = usesShortHashes(msg) ? { hashBytes: null } : {};
      it(`decodes vector ${v.id}${limits.hashBytes === null ? ' (any hash length)' : ''}`, () => {
        expect(decodePeerFrame(hexToBytes(v.hex), limits)).to.deep.equal(msg);
      });
      if (usesShortHashes(msg)) {
        it(`rejects the ${v.id} hashes of 4 bytes with the default 64-byte rule`, () => {
          expectRsError(() => decodePeerFrame(hexToBytes(v.hex)), 'RS_ERR_PEER_FRAME_INVALID');
        });
      }
      it(`rejects every truncation of vector ${v.id} with an RsError`, () => {
        const bytes = hexToBytes(v.hex);
        for (let n = 0; n < bytes.length; n++) {
          expectRsError(
            () => decodePeerFrame(bytes.subarray(0, n), { hashBytes: null }),
            'RS_ERR_PEER_FRAME_INVALID',
          );
        }
      });
    }

    for (const v of badFrameVectors) {
      it(`rejects bad frame ${v.id}`, () => {
        expectRsError(
          () => decodePeerFrame(hexToBytes(v.hex), { hashBytes: null }),
          'RS_ERR_PEER_FRAME_INVALID',
        );
      });
    }

    it('decodes unknown types as UNKNOWN (JS ignores them)', () => {
      expect(decodePeerFrame(hexToBytes('9307a3464f4fc0'))).to.deep.equal({
        type: 'UNKNOWN',
        seq: 7,
        name: 'FOO',
      });
    });

    it('reads DATA without a payload as nil', () => {
      expect(decodePeerFrame(hexToBytes('9201a444415441'))).to.deep.equal({
        type: 'DATA',
        seq: 1,
        data: null,
      });
    });

    it('accepts extra elements after PING and ACK', () => {
      expect(decodePeerFrame(hexToBytes('9301a450494e47c0'))).to.deep.equal({
        type: 'PING',
        seq: 1,
      });
    });

    const bad: Array<[string, string]> = [
      ['an empty frame', ''],
      ['a map', '81a16101'],
      ['an empty array', '90'],
      ['a float seq', '92cb3ff8000000000000a3414b4b'],
      ['a seq beyond 2^53', '92cfffffffffffffffffa341434b'],
      ['a nil seq', '92c0a341434b'],
      ['trailing bytes', '9201a341434b00'],
      ['HELLO without a version', '9200a548454c4c4f'],
      ['INV without a list', '9400a3494e560000'],
      ['INV with a non-bin hash', '9400a3494e56009101'],
      ['GET_DATA without a hash', '9202a84745545f44415441'],
      ['DATA with a string payload', '9301a444415441a178'],
      ['an unknown msgpack type byte', '92c1a341434b'],
    ];
    for (const [what, hex] of bad) {
      it(`rejects ${what}`, () => {
        expectRsError(() => decodePeerFrame(hexToBytes(hex)), 'RS_ERR_PEER_FRAME_INVALID');
      });
    }

    it('enforces the frame size limit', () => {
      const frame = encodePeerFrame({ type: 'DATA', seq: 1, data: new Uint8Array(1000) });
      expect(() => decodePeerFrame(frame, { maxFrameBytes: frame.length })).to.not.throw();
      expectRsError(
        () => decodePeerFrame(frame, { maxFrameBytes: frame.length - 1 }),
        'RS_ERR_PEER_FRAME_INVALID',
      );
    });

    it('enforces the INV hash count limit', () => {
      const frame = encodePeerFrame({
        type: 'INV',
        seq: 0,
        hashes: Array.from({ length: 5 }, () => new Uint8Array(64)),
      });
      expect(decodePeerFrame(frame, { maxInvHashes: 5 })).to.have.property('type', 'INV');
      expectRsError(() => decodePeerFrame(frame, { maxInvHashes: 4 }), 'RS_ERR_PEER_FRAME_INVALID');
      expect(PEER_INV_MAX_HASHES).to.equal(4096);
    });

    it('requires 64-byte hashes by default', () => {
      const ok = encodePeerFrame({ type: 'GET_DATA', seq: 3, hash: new Uint8Array(64) });
      expect(decodePeerFrame(ok)).to.have.property('type', 'GET_DATA');
      const short = encodePeerFrame({ type: 'GET_DATA', seq: 3, hash: new Uint8Array(63) });
      expectRsError(() => decodePeerFrame(short), 'RS_ERR_PEER_FRAME_INVALID');
    });

    it('returns payloads that do not alias the frame buffer', () => {
      const frame = encodePeerFrame({ type: 'DATA', seq: 1, data: Uint8Array.of(1, 2, 3) });
      const m = decodePeerFrame(frame);
      frame.fill(0);
      expect(m).to.deep.equal({ type: 'DATA', seq: 1, data: Uint8Array.of(1, 2, 3) });
    });

    it('round-trips: decode(encode(m)) equals m', () => {
      fc.assert(
        fc.property(messageArb, (m) => {
          expect(decodePeerFrame(encodePeerFrame(m))).to.deep.equal(m);
        }),
        { numRuns: 1000 },
      );
    });

    it('rejects both halves of every split of a valid frame', () => {
      const frame = hexToBytes(frameVectors.find((v) => v.id === 'peer_protocol/frame/014')!.hex);
      for (let cut = 1; cut < frame.length; cut++) {
        expectRsError(() => decodePeerFrame(frame.subarray(0, cut)), 'RS_ERR_PEER_FRAME_INVALID');
        expectRsError(() => decodePeerFrame(frame.subarray(cut)), 'RS_ERR_PEER_FRAME_INVALID');
      }
      expect(decodePeerFrame(frame).type).to.equal('INV');
    });

    it('never throws anything but RsError on random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), (b) => decodeOrRsError(b)),
        { numRuns: 3000 },
      );
    });

    it('never throws anything but RsError on mutated valid frames', () => {
      const seeds = frameVectors.map((v) => hexToBytes(v.hex));
      fc.assert(
        fc.property(
          fc.constantFrom(...seeds),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
            minLength: 1,
            maxLength: 4,
          }),
          fc.boolean(),
          (seed, edits, anyHash) => {
            const b = seed.slice();
            for (const [p, x] of edits) b[p % b.length] = x;
            decodeOrRsError(b, anyHash ? { hashBytes: null } : {});
          },
        ),
        { numRuns: 3000 },
      );
    });

    it('never throws anything but RsError on hostile declared lengths', () => {
      for (const hex of [
        'dd7fffffff',
        '93ddffffffff',
        'c6ffffffff',
        'dbffffffff',
        'dfffffffff',
        'c9ffffffff01',
        '9100d6ff',
      ]) {
        decodeOrRsError(hexToBytes(hex));
      }
    });
  });
});
