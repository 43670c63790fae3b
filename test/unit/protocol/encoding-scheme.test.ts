import { expect } from 'chai';
import fc from 'fast-check';
import { isRsError } from '../../../src/errors.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import type {
  EncodingForm,
  EncodingScheme,
  JsEncodingForm,
} from '../../../src/protocol/encoding-scheme-types.ts';
import {
  SCHEMES,
  isSaneScheme,
  isV358,
  parseSchemeJs,
  parseSchemeStrict,
  printScheme,
  schemeFromAdminList,
  schemeFromJs,
  schemeKey,
  schemeName,
  schemeToAdminList,
  schemeToJs,
  serializeScheme,
} from '../../../src/protocol/encoding-scheme.ts';
import { vectorsOf } from '../../helpers/vectors.ts';

const FILE = 'encoding_schemes.json';

interface RoundtripVector {
  id: string;
  name: string;
  hex: string;
  forms: EncodingForm[];
  cjdnsencode_forms: JsEncodingForm[];
  admin_list: JsEncodingForm[];
}
type ParseExpectation = { forms: EncodingForm[] } | { error: string };
interface ParseVector {
  id: string;
  hex: string;
  expected: ParseExpectation;
  expected_c?: ParseExpectation;
}
interface SaneVector {
  id: string;
  forms: EncodingForm[];
  expected: boolean;
  expected_c?: boolean;
}

function plain(scheme: EncodingScheme): EncodingForm[] {
  return scheme.map((f) => ({ bitCount: f.bitCount, prefixLen: f.prefixLen, prefix: f.prefix }));
}

function expectSchemeError(fn: () => unknown, message?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(isRsError(thrown), `expected an RsError, got ${String(thrown)}`).to.equal(true);
  expect((thrown as { code: string }).code).to.equal('RS_ERR_SCHEME_INVALID');
  if (message !== undefined) expect((thrown as Error).message).to.equal(message);
}

function checkParse(
  parse: (b: Uint8Array) => EncodingScheme,
  hex: string,
  exp: ParseExpectation,
): void {
  if ('error' in exp) {
    expectSchemeError(() => parse(hexToBytes(hex)));
  } else {
    expect(plain(parse(hexToBytes(hex)))).to.deep.equal(exp.forms);
  }
}

describe('protocol/encoding-scheme', () => {
  describe('vectors: roundtrip', () => {
    for (const v of vectorsOf<RoundtripVector>(FILE, 'roundtrip')) {
      it(`${v.id} (${v.name}) serializes, parses and converts`, () => {
        expect(bytesToHex(serializeScheme(v.forms))).to.equal(v.hex);
        expect(plain(parseSchemeJs(hexToBytes(v.hex)))).to.deep.equal(v.forms);
        expect(plain(parseSchemeStrict(hexToBytes(v.hex)))).to.deep.equal(v.forms);
        expect(schemeToJs(v.forms)).to.deep.equal(v.cjdnsencode_forms);
        expect(JSON.stringify(schemeToJs(v.forms))).to.equal(JSON.stringify(v.cjdnsencode_forms));
        expect(plain(schemeFromJs(v.cjdnsencode_forms))).to.deep.equal(v.forms);
        expect(schemeToAdminList(v.forms)).to.deep.equal(v.admin_list);
        expect(plain(schemeFromAdminList(v.admin_list))).to.deep.equal(v.forms);
        expect(isSaneScheme(v.forms)).to.equal(true);
        expect(schemeName(v.forms)).to.equal(v.name in SCHEMES ? v.name : null);
        if (v.name in SCHEMES) {
          expect(plain(SCHEMES[v.name as keyof typeof SCHEMES])).to.deep.equal(v.forms);
        }
      });
    }
  });

  describe('vectors: parse', () => {
    for (const v of vectorsOf<ParseVector>(FILE, 'parse')) {
      it(`${v.id} #parseSchemeJs gives the JS result for ${v.hex}`, () => {
        checkParse(parseSchemeJs, v.hex, v.expected);
      });
      it(`${v.id} #parseSchemeStrict gives the C result for ${v.hex}`, () => {
        checkParse(parseSchemeStrict, v.hex, v.expected_c ?? v.expected);
      });
    }
  });

  describe('vectors: isSane', () => {
    for (const v of vectorsOf<SaneVector>(FILE, 'isSane')) {
      it(`${v.id} #isSaneScheme says ${String(v.expected_c ?? v.expected)}`, () => {
        expect(isSaneScheme(v.forms)).to.equal(v.expected_c ?? v.expected);
      });
    }
  });

  describe('#parseSchemeJs() (docs/protocol.md §1.7 examples)', () => {
    it('reads a trailing 0xff byte as a 4th form (31,0,0)', () => {
      expect(plain(parseSchemeJs(hexToBytes('6114458100ff')))).to.deep.equal([
        ...plain(SCHEMES.v358),
        { bitCount: 31, prefixLen: 0, prefix: 0 },
      ]);
    });
    it('decodes the empty input to an empty scheme', () => {
      expect(parseSchemeJs(new Uint8Array(0))).to.deep.equal([]);
    });
    it("rejects non-zero bits after the terminator with 'invalid encoding'", () => {
      // f4, terminator prefixLen 0, bitCount 0, then a set bit
      expectSchemeError(() => parseSchemeJs(hexToBytes('800000f0')), 'invalid encoding');
    });
    it("discards the terminator's prefixLen bits (C does not)", () => {
      // f4 then terminator with prefixLen = 1: bit 10 set
      const bytes = hexToBytes('8004');
      expect(plain(parseSchemeJs(bytes))).to.deep.equal(plain(SCHEMES.f4));
      expectSchemeError(() => parseSchemeStrict(bytes));
    });
  });

  describe('#parseSchemeStrict()', () => {
    it('rejects a scheme that decodes but is not sane', () => {
      expectSchemeError(() =>
        parseSchemeStrict(serializeScheme([{ bitCount: 4, prefixLen: 1, prefix: 1 }])),
      );
    });
    it('rejects zero padding the 64-bit window never reached (C dataIndex check)', () => {
      expect(plain(parseSchemeStrict(hexToBytes('6114458100000000')))).to.deep.equal(
        plain(SCHEMES.v358),
      );
      expectSchemeError(() => parseSchemeStrict(hexToBytes('61144581' + '00'.repeat(12))));
    });
  });

  describe('#serializeScheme()', () => {
    it('gives zero bytes for the empty scheme', () => {
      expect(serializeScheme([]).length).to.equal(0);
    });
    it('refuses fields that do not fit 5 bits', () => {
      expectSchemeError(() => serializeScheme([{ bitCount: 32, prefixLen: 0, prefix: 0 }]));
    });
  });

  describe('#isV358() / #printScheme() / #schemeKey()', () => {
    it('matches v358 only exactly', () => {
      expect(isV358(SCHEMES.v358)).to.equal(true);
      expect(isV358(plain(SCHEMES.v358))).to.equal(true);
      expect(isV358(SCHEMES.v37)).to.equal(false);
      expect(isV358([...plain(SCHEMES.v358), { bitCount: 31, prefixLen: 0, prefix: 0 }])).to.equal(
        false,
      );
    });
    it('prints a name or the JS JSON', () => {
      expect(printScheme(SCHEMES.v48)).to.equal('v48');
      expect(printScheme([{ bitCount: 5, prefixLen: 2, prefix: 2 }])).to.equal(
        '[{"bitCount":5,"prefix":"02","prefixLen":2}]',
      );
    });
    it('gives equal keys exactly for equal schemes', () => {
      expect(schemeKey(plain(SCHEMES.v358))).to.equal(schemeKey(SCHEMES.v358));
      expect(schemeKey(SCHEMES.v358)).to.not.equal(schemeKey(SCHEMES.v37));
      expect(schemeKey([])).to.equal('');
    });
  });

  describe('#schemeFromAdminList()', () => {
    it('accepts the 8-digit prefixes of old cjdns and Buffer strings', () => {
      const list = [
        { bitCount: 3, prefix: '00000001', prefixLen: 1 },
        { bitCount: 5, prefix: new TextEncoder().encode('02'), prefixLen: 2n },
        { bitCount: 8, prefix: '00', prefixLen: 2 },
      ];
      expect(plain(schemeFromAdminList(list))).to.deep.equal(plain(SCHEMES.v358));
    });
    it('rejects an insane or malformed list', () => {
      expectSchemeError(() => schemeFromAdminList([]));
      expectSchemeError(() => schemeFromAdminList([{ bitCount: 4, prefix: 'zz', prefixLen: 0 }]));
    });
    it("reproduces C's prefix stripping", () => {
      expect(
        schemeToAdminList([{ bitCount: 4, prefixLen: 12, prefix: 0x123 }])[0]!.prefix,
      ).to.equal('23');
    });
  });

  describe('properties', () => {
    /** Sane multi-form schemes: a unary prefix code (bit i set, or all zero for the last form),
     *  with random bits above the marker, assigned to forms in random order. */
    const saneMulti = fc
      .uniqueArray(fc.integer({ min: 1, max: 31 }), { minLength: 2, maxLength: 6 })
      .chain((bitCounts) => {
        const k = bitCounts.length;
        return fc.tuple(
          fc.constant([...bitCounts].sort((a, b) => a - b)),
          fc.shuffledSubarray([...Array(k).keys()], { minLength: k, maxLength: k }),
          fc.array(fc.integer({ min: 0, max: 20 }), { minLength: k, maxLength: k }),
          fc.array(fc.integer({ min: 0, max: 0xfffff }), { minLength: k, maxLength: k }),
        );
      })
      .map(([bitCounts, order, extraLens, extraBits]) => {
        const k = bitCounts.length;
        return bitCounts.map((bitCount, i): EncodingForm => {
          const code = order[i]!;
          const markerLen = code === k - 1 ? k - 1 : code + 1;
          const marker = code === k - 1 ? 0 : 2 ** code;
          const extra = Math.min(extraLens[i]!, 31 - markerLen, 59 - bitCount - markerLen);
          const prefix = marker + (extraBits[i]! % 2 ** extra) * 2 ** markerLen;
          return { bitCount, prefixLen: markerLen + extra, prefix };
        });
      });
    const saneSingle = fc
      .integer({ min: 1, max: 31 })
      .map((bitCount): EncodingForm[] => [{ bitCount, prefixLen: 0, prefix: 0 }]);
    const saneScheme = fc.oneof(saneSingle, saneMulti);

    it('generates only sane schemes', () => {
      fc.assert(
        fc.property(saneScheme, (s) => isSaneScheme(s)),
        { numRuns: 500 },
      );
    });
    it('parseSchemeStrict(serializeScheme(s)) ≡ s for sane schemes (and parseSchemeJs agrees)', () => {
      fc.assert(
        fc.property(saneScheme, (s) => {
          const bytes = serializeScheme(s);
          expect(plain(parseSchemeStrict(bytes))).to.deep.equal(s);
          expect(plain(parseSchemeJs(bytes))).to.deep.equal(s);
          expect(plain(schemeFromJs(schemeToJs(s)))).to.deep.equal(s);
        }),
        { numRuns: 500 },
      );
    });
    it('parseSchemeJs and parseSchemeStrict throw nothing but RsError on arbitrary bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          for (const parse of [parseSchemeJs, parseSchemeStrict]) {
            try {
              parse(bytes);
            } catch (e) {
              if (!isRsError(e) || e.code !== 'RS_ERR_SCHEME_INVALID') throw e;
            }
          }
        }),
        { numRuns: 2000 },
      );
    });
    it('parseSchemeJs accepts whatever parseSchemeStrict accepts, with the same result', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
          let strict: EncodingScheme;
          try {
            strict = parseSchemeStrict(bytes);
          } catch {
            return;
          }
          expect(plain(parseSchemeJs(bytes))).to.deep.equal(plain(strict));
        }),
        { numRuns: 2000 },
      );
    });
  });
});
