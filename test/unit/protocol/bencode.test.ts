import { expect } from 'chai';
import fc from 'fast-check';
import { isRsError } from '../../../src/errors.ts';
import {
  BENCODE_MAX_DEPTH,
  type BInput,
  type BValue,
  bbytes,
  bdict,
  bencodeDecode,
  bencodeEncode,
  bint,
  blist,
  bstr,
  isBDict,
  utf8Bytes,
} from '../../../src/protocol/bencode.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { fromVectorValue, vectorsOf } from '../../helpers/vectors.ts';
import { expectRsError } from '../../helpers/errors.ts';

interface DecodeVector {
  id: string;
  hex: string;
  expected: unknown;
}
interface EncodeVector {
  id: string;
  hex: string;
  text?: string;
  input: unknown;
}

const decodeVectors = vectorsOf<DecodeVector>('bencode.json', 'decode');
const encodeVectors = vectorsOf<EncodeVector>('bencode.json', 'encode');

const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

/** Never anything but an RsError. */
function decodeOrRsError(bytes: Uint8Array): void {
  try {
    bencodeDecode(bytes);
  } catch (e) {
    if (!isRsError(e)) throw e;
    expect(e.code).to.equal('RS_ERR_BENCODE_INVALID');
  }
}

/** What decode(encode(x)) gives back: strings become bytes, safe bigints numbers, undefined dropped. */
function normalize(v: BInput): BValue {
  if (typeof v === 'string') return utf8Bytes(v);
  if (typeof v === 'bigint')
    return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return (v as readonly BInput[]).map(normalize);
  const out: { [k: string]: BValue } = {};
  for (const [k, x] of Object.entries(v as Record<string, BInput | undefined>)) {
    if (x !== undefined)
      Object.defineProperty(out, k, {
        value: normalize(x),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return out;
}

function hasReplacementCharKey(v: BInput): boolean {
  if (Array.isArray(v)) return (v as readonly BInput[]).some(hasReplacementCharKey);
  if (typeof v !== 'object' || v instanceof Uint8Array) return false;
  return Object.entries(v as Record<string, BInput>).some(
    ([k, x]) => k.includes('\ufffd') || hasReplacementCharKey(x),
  );
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Arbitrary encodable values; keys are well-formed Unicode (lone surrogates cannot survive UTF-8). */
function bvalueArb(opts: { bigints: boolean; strings: boolean }): fc.Arbitrary<BInput> {
  const key = fc.string({ unit: 'binary', maxLength: 8 });
  return fc.letrec<{ value: BInput }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.maxSafeInteger(),
      fc.integer({ min: -1000, max: 1000 }),
      ...(opts.bigints ? [fc.bigInt({ min: INT64_MIN, max: INT64_MAX })] : []),
      ...(opts.strings ? [fc.string({ unit: 'binary', maxLength: 12 })] : []),
      fc.uint8Array({ maxLength: 24 }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
}

// The maintained library, used as a reference oracle. It ships no types; import it untyped.
interface BencodeLib {
  encode(v: unknown): Uint8Array;
  decode(b: Uint8Array): unknown;
}
let lib: BencodeLib;

describe('bencode', () => {
  before(async () => {
    const name = 'bencode';
    lib = ((await import(name)) as { default: BencodeLib }).default;
  });

  describe('#bencodeDecode()', () => {
    for (const v of decodeVectors) {
      it(`decodes vector ${v.id}`, () => {
        expect(bencodeDecode(hexToBytes(v.hex))).to.deep.equal(fromVectorValue(v.expected));
      });
      it(`rejects every truncation of vector ${v.id} with an RsError`, () => {
        const bytes = hexToBytes(v.hex);
        for (let n = 0; n < bytes.length; n++)
          expectRsError(() => bencodeDecode(bytes.subarray(0, n)), 'RS_ERR_BENCODE_INVALID');
      });
    }

    it('accepts leading zeros in string lengths and integers (cjdns emitted 002:ei and i042e)', () => {
      expect(bencodeDecode(ascii('d002:eii042ee'))).to.deep.equal({ ei: 42 });
      expect(bencodeDecode(ascii('d00000002:eii0e0:0:e'))).to.deep.equal({
        ei: 0,
        '': new Uint8Array(0),
      });
      expect(bencodeDecode(ascii('i-007e'))).to.equal(-7);
      expect(bencodeDecode(ascii('i000e'))).to.equal(0);
      expect(bencodeDecode(ascii('000:'))).to.deep.equal(new Uint8Array(0));
    });

    it('reads -0 as 0', () => {
      expect(Object.is(bencodeDecode(ascii('i-0e')), 0)).to.equal(true);
    });

    it('returns byte strings as Uint8Array, never text', () => {
      const v = bencodeDecode(ascii('l4:spame'));
      expect(v).to.be.an('array');
      expect((v as BValue[])[0]).to.be.instanceOf(Uint8Array);
    });

    it('copies byte strings out of the input', () => {
      const input = ascii('3:abc');
      const v = bencodeDecode(input) as Uint8Array;
      input[2] = 0x7a;
      expect(Buffer.from(v).toString()).to.equal('abc');
    });

    it('returns integers beyond 2^53 as bigint and safe ones as number', () => {
      expect(bencodeDecode(ascii('i9007199254740991e'))).to.equal(9007199254740991);
      expect(bencodeDecode(ascii('i9007199254740992e'))).to.equal(9007199254740992n);
      expect(bencodeDecode(ascii('i-9007199254740992e'))).to.equal(-9007199254740992n);
      expect(bencodeDecode(ascii('i9223372036854775807e'))).to.equal(INT64_MAX);
      expect(bencodeDecode(ascii('i-9223372036854775808e'))).to.equal(INT64_MIN);
      expect(bencodeDecode(ascii('i1700000000000e'))).to.equal(1700000000000);
    });

    it('keeps a __proto__ key as an own property without touching the prototype', () => {
      const v = bencodeDecode(ascii('d9:__proto__d1:xi1eee')) as Record<string, unknown>;
      expect(Object.getPrototypeOf(v)).to.equal(Object.prototype);
      expect(Object.keys(v)).to.deep.equal(['__proto__']);
      expect((v as { x?: unknown }).x).to.equal(undefined);
    });

    it('reads dictionary keys as UTF-8 (invalid bytes become U+FFFD, like Buffer#toString)', () => {
      const bytes = new Uint8Array([...ascii('d2:'), 0xff, 0x61, ...ascii('i1ee')]);
      expect(Object.keys(bencodeDecode(bytes) as object)).to.deep.equal(['\ufffda']);
    });

    it('tolerates unsorted keys and keeps the last of repeated keys', () => {
      expect(bencodeDecode(ascii('d1:bi1e1:ai2e1:bi3ee'))).to.deep.equal({ a: 2, b: 3 });
    });

    it(`accepts nesting of depth ${BENCODE_MAX_DEPTH} and rejects deeper`, () => {
      const nest = (n: number): Uint8Array => ascii('l'.repeat(n) + 'e'.repeat(n));
      expect(() => bencodeDecode(nest(BENCODE_MAX_DEPTH))).to.not.throw();
      expectRsError(() => bencodeDecode(nest(BENCODE_MAX_DEPTH + 1)), 'RS_ERR_BENCODE_INVALID');
      expectRsError(() => bencodeDecode(nest(100_000)), 'RS_ERR_BENCODE_INVALID');
      expectRsError(
        () => bencodeDecode(ascii('d1:a'.repeat(40) + 'i1e' + 'e'.repeat(40))),
        'RS_ERR_BENCODE_INVALID',
      );
    });

    const bad: Array<[string, string]> = [
      ['empty input', ''],
      ['trailing garbage', 'i1ex'],
      ['two values', 'i1ei2e'],
      ['trailing garbage after a dictionary', 'de0:'],
      ['a plus sign', 'i+1e'],
      ['a float', 'i1.5e'],
      ['an empty integer', 'ie'],
      ['a lone minus', 'i-e'],
      ['a minus in a length', '-1:a'],
      ['a non-digit in an integer', 'i1ae'],
      ['an unterminated integer', 'i12'],
      ['an integer above int64', 'i9223372036854775808e'],
      ['an integer below int64', 'i-9223372036854775809e'],
      ['an integer with too many digits', 'i123456789012345678901e'],
      ['a string length past the end', '5:abc'],
      ['a huge string length', '99999999999999999999:a'],
      ['a missing colon', '3abc'],
      ['an unterminated list', 'li1e'],
      ['an unterminated dictionary', 'd1:ai1e'],
      ['a dictionary key that is not a string', 'di1ei2ee'],
      ['a dictionary key without a value', 'd1:ae'],
      ['an unknown type byte', 'x'],
      ['a stray end', 'e'],
    ];
    for (const [what, text] of bad) {
      it(`rejects ${what}`, () => {
        expectRsError(() => bencodeDecode(ascii(text)), 'RS_ERR_BENCODE_INVALID');
      });
    }

    it('never throws anything but RsError on random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => decodeOrRsError(bytes)),
        { numRuns: 2000 },
      );
    });

    it('never throws anything but RsError on random bencode-alphabet strings', () => {
      const alphabet = fc.constantFrom(...'dlie0123456789:-'.split(''));
      fc.assert(
        fc.property(fc.array(alphabet, { maxLength: 60 }), (chars) =>
          decodeOrRsError(ascii(chars.join(''))),
        ),
        { numRuns: 3000 },
      );
    });

    it('never throws anything but RsError on mutated vectors', () => {
      const seeds = [...decodeVectors, ...encodeVectors].map((v) => hexToBytes(v.hex));
      fc.assert(
        fc.property(
          fc.constantFrom(...seeds),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
            minLength: 1,
            maxLength: 4,
          }),
          (seed, edits) => {
            const bytes = seed.slice();
            for (const [pos, b] of edits) bytes[pos % bytes.length] = b;
            decodeOrRsError(bytes);
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('agrees with the bencode library on canonical input', () => {
      fc.assert(
        fc.property(bvalueArb({ bigints: false, strings: false }), (v) => {
          const bytes = bencodeEncode(v);
          // the library turns keys containing U+FFFD into hex; skip those
          if (hasReplacementCharKey(v)) return;
          expect(bencodeDecode(bytes)).to.deep.equal(lib.decode(bytes));
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('#bencodeEncode()', () => {
    for (const v of encodeVectors) {
      it(`encodes vector ${v.id} byte for byte`, () => {
        const out = bencodeEncode(fromVectorValue(v.input) as BInput);
        expect(bytesToHex(out)).to.equal(v.hex);
        // `text` is the output read as latin1 (one char per byte)
        if (v.text !== undefined) expect(Buffer.from(out).toString('latin1')).to.equal(v.text);
      });
    }

    it('sorts dictionary keys', () => {
      expect(Buffer.from(bencodeEncode({ txid: 'x', b: 1, a: 2, B: 3 })).toString()).to.equal(
        'd1:Bi3e1:ai2e1:bi1e4:txid1:xe',
      );
    });

    it('skips undefined dictionary values', () => {
      expect(Buffer.from(bencodeEncode({ a: undefined, b: 1 })).toString()).to.equal('d1:bi1ee');
    });

    it('writes strings as UTF-8 bytes and bigints in decimal', () => {
      expect(bytesToHex(bencodeEncode('é'))).to.equal(bytesToHex(ascii('2:\xc3\xa9')));
      expect(Buffer.from(bencodeEncode(INT64_MIN)).toString()).to.equal('i-9223372036854775808e');
      expect(Buffer.from(bencodeEncode(-0)).toString()).to.equal('i0e');
    });

    const unencodable: Array<[string, unknown]> = [
      ['a float', 1.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['an unsafe integer', 2 ** 60],
      ['a bigint above int64', INT64_MAX + 1n],
      ['null', null],
      ['undefined', undefined],
      ['a boolean', true],
      ['an undefined list item', [undefined]],
      ['a Map', new Map()],
      ['a Date', new Date(0)],
    ];
    for (const [what, value] of unencodable) {
      it(`rejects ${what}`, () => {
        expectRsError(() => bencodeEncode(value as BInput), 'RS_ERR_BENCODE_INVALID');
      });
    }

    it('rejects nesting deeper than the limit (and so cycles)', () => {
      const cyclic: unknown[] = [];
      cyclic.push(cyclic);
      expectRsError(() => bencodeEncode(cyclic as BInput), 'RS_ERR_BENCODE_INVALID');
    });

    it('round-trips: decode(encode(x)) equals x', () => {
      fc.assert(
        fc.property(bvalueArb({ bigints: true, strings: true }), (v) => {
          expect(bencodeDecode(bencodeEncode(v))).to.deep.equal(normalize(v));
        }),
        { numRuns: 1000 },
      );
    });

    it('produces the same bytes as the bencode library (bencode 0.10 algorithm)', () => {
      fc.assert(
        fc.property(bvalueArb({ bigints: false, strings: true }), (v) => {
          expect(bytesToHex(bencodeEncode(v))).to.equal(bytesToHex(lib.encode(v)));
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('helpers', () => {
    const d = bencodeDecode(ascii('d1:ai5e1:b2:hi1:lle1:dde1:zi9223372036854775807ee'));

    it('#isBDict() recognises dictionaries only', () => {
      expect(isBDict(d)).to.equal(true);
      expect(isBDict([])).to.equal(false);
      expect(isBDict(new Uint8Array(1))).to.equal(false);
      expect(isBDict(1)).to.equal(false);
    });

    it('#bstr() reads byte strings as UTF-8 and nothing else', () => {
      const dict = bdict(d)!;
      expect(bstr(dict.b)).to.equal('hi');
      expect(bstr(dict.a)).to.equal(undefined);
      expect(bstr(undefined)).to.equal(undefined);
    });

    it('#bbytes(), #bint(), #blist(), #bdict() select by type', () => {
      const dict = bdict(d)!;
      expect(bbytes(dict.b)).to.deep.equal(ascii('hi'));
      expect(bbytes(dict.a)).to.equal(undefined);
      expect(bint(dict.a)).to.equal(5);
      expect(bint(dict.z)).to.equal(undefined);
      expect(blist(dict.l)).to.deep.equal([]);
      expect(blist(dict.d)).to.equal(undefined);
      expect(bdict(dict.d)).to.deep.equal({});
      expect(bdict(dict.l)).to.equal(undefined);
    });
  });
});
