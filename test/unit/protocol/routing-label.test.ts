import { expect } from 'chai';
import fc from 'fast-check';
import type { EncodingScheme } from '../../../src/protocol/encoding-scheme-types.ts';
import { SCHEMES } from '../../../src/protocol/encoding-scheme.ts';
import {
  LABEL_ALL_ONES,
  formatLabel,
  getEncodingForm,
  isOneHop,
  isOneHopJs,
  labelBitLength,
  log2,
  parseLabel,
  reEncode,
  reEncodeC,
  routesThrough,
  routesThroughJs,
  splice,
  spliceJs,
  spliceRoute,
  unsplice,
  type DesiredForm,
} from '../../../src/protocol/routing-label.ts';
import { vectorsOf } from '../../helpers/vectors.ts';
import { expectRsError } from '../../helpers/errors.ts';

const FILE = 'labels.json';

/** labels.json names its schemes after cjdnsplice SCHEMES, plus s52_82 (file description). */
function schemeOf(name: string): EncodingScheme {
  if (name === 's52_82') {
    return [
      { bitCount: 5, prefixLen: 2, prefix: 0b10 },
      { bitCount: 8, prefixLen: 2, prefix: 0b00 },
    ];
  }
  if (!(name in SCHEMES)) throw new Error(`unknown scheme name in vectors: ${name}`);
  return SCHEMES[name as keyof typeof SCHEMES];
}

const L = (s: string): bigint => parseLabel(s, { allowZero: true });
const isErr = (x: unknown): x is { error: string } =>
  typeof x === 'object' && x !== null && 'error' in x;
/** expected_c for a C function that returns UINT64_MAX on failure. */
const isCFailure = (x: unknown): boolean =>
  typeof x === 'string' && x.startsWith('0xffffffffffffffff');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type V = { id: string; input: any; expected: any; expected_c?: any; expected_rust?: any };

describe('protocol/routing-label', () => {
  describe('vectors: format', () => {
    for (const v of vectorsOf<V>(FILE, 'format')) {
      it(`${v.id} formats ${v.input.value_hex}`, () => {
        const value = BigInt('0x' + (v.input.value_hex as string));
        expect(formatLabel(value)).to.equal(v.expected);
        expect(parseLabel(v.expected as string)).to.equal(value);
      });
    }
  });

  describe('format: the printed hex, for any 64-bit value', () => {
    const printed = (x: bigint): string => {
      const h = x.toString(16).padStart(16, '0');
      return `${h.slice(0, 4)}.${h.slice(4, 8)}.${h.slice(8, 12)}.${h.slice(12, 16)}`;
    };
    it('at the edges (0, 2^32, 2^53 either side, 2^64 - 1)', () => {
      const edges = [
        0n,
        1n,
        0xffff_ffffn,
        1n << 32n,
        (1n << 53n) - 1n,
        1n << 53n,
        (1n << 53n) + 1n,
      ];
      for (const x of [...edges, (1n << 60n) - 1n, 0xfedc_ba98_7654_3210n, (1n << 64n) - 1n])
        expect(formatLabel(x)).to.equal(printed(x));
    });
    it('random values of every width', () => {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          fc.integer({ min: 0, max: 64 }),
          (x, bits) => {
            const v = BigInt.asUintN(bits, x);
            expect(formatLabel(v)).to.equal(printed(v));
          },
        ),
        { numRuns: 2000 },
      );
    });
    it('refuses values outside 0..2^64-1', () => {
      expectRsError(() => formatLabel(-1n), 'RS_ERR_LABEL_INVALID');
      expectRsError(() => formatLabel(1n << 64n), 'RS_ERR_LABEL_INVALID');
    });
  });

  describe('vectors: parse', () => {
    for (const v of vectorsOf<V>(FILE, 'parse')) {
      it(`${v.id} parses ${JSON.stringify(v.input.label)}`, () => {
        if (isErr(v.expected)) {
          expectRsError(() => parseLabel(v.input.label as string), 'RS_ERR_LABEL_INVALID');
        } else {
          const want =
            typeof v.expected === 'string' ? v.expected : (v.expected.value_hex as string);
          const got = parseLabel(v.input.label as string);
          if (want.includes('.')) expect(formatLabel(got)).to.equal(want);
          else expect(got).to.equal(BigInt('0x' + want));
        }
      });
    }
  });

  describe('vectors: splice', () => {
    for (const v of vectorsOf<V>(FILE, 'splice')) {
      const labels = (): bigint[] => (v.input.labels as string[]).map(L);
      it(`${v.id} #spliceJs gives the JS result`, () => {
        if (isErr(v.expected))
          expectRsError(() => spliceJs(...labels()), 'RS_ERR_INPUT_INVALID', v.expected.error);
        else expect(formatLabel(spliceJs(...labels()))).to.equal(v.expected);
      });
      it(`${v.id} #splice gives the C result`, () => {
        const c = 'expected_c' in v ? v.expected_c : v.expected;
        if (isCFailure(c) || isErr(c)) {
          const code = labels().length < 2 ? 'RS_ERR_INPUT_INVALID' : 'RS_ERR_LABEL_TOO_LONG';
          expectRsError(() => splice(...labels()), code);
        } else {
          expect(formatLabel(splice(...labels()))).to.equal(c);
        }
      });
    }
    it('docs/protocol.md §3.5: a 60-bit result is allowed in C, all-ones in JS', () => {
      const args = [L('0200.0000.0000.1111'), L('0000.0000.0000.0005')];
      expect(spliceJs(...args)).to.equal(LABEL_ALL_ONES);
      expect(formatLabel(splice(...args))).to.equal('0800.0000.0000.4445');
    });
  });

  describe('vectors: getEncodingForm', () => {
    for (const v of vectorsOf<V>(FILE, 'getEncodingForm')) {
      it(`${v.id} ${v.input.label as string} in ${v.input.scheme as string} is form ${String(v.expected)}`, () => {
        expect(
          getEncodingForm(L(v.input.label as string), schemeOf(v.input.scheme as string)),
        ).to.equal(v.expected);
      });
    }
  });

  function checkReEncode(
    fn: (l: bigint, s: EncodingScheme, f: DesiredForm) => bigint,
    label: string,
    scheme: EncodingScheme,
    form: DesiredForm,
    want: unknown,
  ): void {
    if (want === null || isErr(want)) {
      // the JS error text is part of the JS behaviour; C only says INVALID
      const message = fn === reEncode && isErr(want) ? want.error : undefined;
      expectRsError(() => fn(L(label), scheme, form), undefined, message);
    } else {
      expect(formatLabel(fn(L(label), scheme, form))).to.equal(want);
    }
  }

  describe('vectors: reEncode', () => {
    for (const v of vectorsOf<V>(FILE, 'reEncode')) {
      const { label, scheme, desiredForm } = v.input as {
        label: string;
        scheme: string;
        desiredForm: DesiredForm;
      };
      it(`${v.id} #reEncode(${label}, ${scheme}, ${desiredForm}) gives the JS result`, () => {
        checkReEncode(reEncode, label, schemeOf(scheme), desiredForm, v.expected);
      });
      it(`${v.id} #reEncodeC(${label}, ${scheme}, ${desiredForm}) gives the C result`, () => {
        checkReEncode(
          reEncodeC,
          label,
          schemeOf(scheme),
          desiredForm,
          'expected_c' in v ? v.expected_c : v.expected,
        );
      });
    }
    it('maps each failure to its code', () => {
      expectRsError(() => reEncode(L('0000.0000.0000.0013'), [], 0), 'RS_ERR_LABEL_NO_FORM');
      expectRsError(
        () => reEncode(L('0000.0000.0000.0013'), SCHEMES.v358, 7),
        'RS_ERR_LABEL_BAD_FORM',
      );
      expectRsError(
        () => reEncode(L('0000.0000.0000.0001'), SCHEMES.v358, 2),
        'RS_ERR_LABEL_SELF_ROUTE',
      );
      expectRsError(
        () => reEncode(L('0000.0000.0000.07fc'), SCHEMES.v358, 0),
        'RS_ERR_LABEL_DIRECTOR_TOO_WIDE',
      );
      expectRsError(
        () => reEncode(L('0400.0000.0000.0067'), SCHEMES.v48, 1),
        'RS_ERR_LABEL_TOO_LONG',
      );
    });
  });

  describe('vectors: reEncodeTable', () => {
    for (const t of vectorsOf<V>(FILE, 'reEncodeTable')) {
      const scheme = schemeOf(t.input.scheme as string);
      const rows = t.expected as Array<Record<string, string | number | null>>;
      const targets: DesiredForm[] = [...scheme.keys(), 'canonical'];
      for (const row of rows) {
        const label = row.label as string;
        it(`${t.id} ${label}: form ${String(row.form)}, every target, JS and C`, () => {
          expect(getEncodingForm(L(label), scheme)).to.equal(row.form);
          for (const n of targets) {
            const key = `to_${n}`;
            expect(key in row, `row has ${key}`).to.equal(true);
            checkReEncode(reEncode, label, scheme, n, row[key]);
            const cKey = `c_to_${n}`;
            checkReEncode(reEncodeC, label, scheme, n, cKey in row ? row[cKey] : row[key]);
          }
        });
      }
    }
  });

  describe('vectors: isOneHop', () => {
    for (const v of vectorsOf<V>(FILE, 'isOneHop')) {
      const label = L(v.input.label as string);
      const scheme = schemeOf(v.input.scheme as string);
      it(`${v.id} ${v.input.label as string} in ${v.input.scheme as string}: JS and C`, () => {
        expect(isOneHopJs(label, scheme)).to.equal(v.expected);
        expect(isOneHop(label, scheme)).to.equal('expected_c' in v ? v.expected_c : v.expected);
      });
    }
  });

  describe('vectors: routesThrough', () => {
    for (const v of vectorsOf<V>(FILE, 'routesThrough')) {
      const dest = L(v.input.destination as string);
      const mid = L(v.input.midPath as string);
      it(`${v.id} ${v.input.destination as string} via ${v.input.midPath as string}: JS and C`, () => {
        expect(routesThroughJs(dest, mid)).to.equal(v.expected);
        expect(routesThrough(dest, mid)).to.equal('expected_c' in v ? v.expected_c : v.expected);
      });
    }
  });

  describe('vectors: unsplice', () => {
    for (const v of vectorsOf<V>(FILE, 'unsplice')) {
      const dest = L(v.input.destination as string);
      const mid = L(v.input.midPath as string);
      it(`${v.id} unsplice(${v.input.destination as string}, ${v.input.midPath as string})`, () => {
        if (isErr(v.expected))
          expectRsError(() => unsplice(dest, mid), 'RS_ERR_LABEL_NOT_ROUTED', v.expected.error);
        else expect(formatLabel(unsplice(dest, mid))).to.equal(v.expected);
      });
    }
  });

  describe('vectors: unspliceChain', () => {
    for (const v of vectorsOf<V>(FILE, 'unspliceChain')) {
      it(`${v.id} unsplices hop by hop`, () => {
        let acc = L(v.input.start as string);
        const got: string[] = [];
        for (const mid of v.input.midPaths as string[]) {
          acc = unsplice(acc, L(mid));
          got.push(formatLabel(acc));
        }
        expect(got).to.deep.equal(v.expected);
      });
    }
  });

  describe('#parseLabel() / #formatLabel()', () => {
    it('accepts upper case and rejects the zero label unless allowed', () => {
      expect(parseLabel('0000.0003.64B5.10E5')).to.equal(14574489829n);
      expectRsError(() => parseLabel('0000.0000.0000.0000'), 'RS_ERR_LABEL_INVALID');
      expect(parseLabel('0000.0000.0000.0000', { allowZero: true })).to.equal(0n);
      expectRsError(() => parseLabel('0000000364b510e5'), 'RS_ERR_LABEL_INVALID');
      expectRsError(() => parseLabel('0000.0003.64b510e5'), 'RS_ERR_LABEL_INVALID');
    });
    it('refuses values outside 64 bits', () => {
      expectRsError(() => formatLabel(1n << 64n), 'RS_ERR_LABEL_INVALID');
      expectRsError(() => formatLabel(-1n), 'RS_ERR_LABEL_INVALID');
    });
  });

  describe('#log2() / #labelBitLength()', () => {
    it('matches the bit length on every power of two and its neighbours', () => {
      expect(log2(0n)).to.equal(0);
      expect(labelBitLength(0n)).to.equal(0);
      for (let i = 0; i < 70; i++) {
        const p = 1n << BigInt(i);
        expect(labelBitLength(p)).to.equal(i + 1);
        expect(log2(p)).to.equal(i);
        expect(labelBitLength(p - 1n)).to.equal(i);
      }
    });
  });

  describe('properties', () => {
    const labelOfBits = (maxBits: number): fc.Arbitrary<bigint> =>
      fc
        .integer({ min: 0, max: maxBits - 1 })
        .chain((top) =>
          fc
            .bigInt({ min: 0n, max: (1n << BigInt(top)) - 1n })
            .map((low) => (1n << BigInt(top)) | low),
        );

    it('unsplice(splice(a, b), b) ≡ a and splice(a, b) routes through b', () => {
      fc.assert(
        fc.property(labelOfBits(60), labelOfBits(60), (a, b) => {
          fc.pre(log2(a) + log2(b) <= 59);
          const s = splice(a, b);
          expect(labelBitLength(s)).to.be.at.most(60);
          expect(routesThrough(s, b)).to.equal(true);
          expect(unsplice(s, b)).to.equal(a);
          if (log2(a) + log2(b) < 59) expect(spliceJs(a, b)).to.equal(s);
          else expect(spliceJs(a, b)).to.equal(LABEL_ALL_ONES);
        }),
        { numRuns: 1000 },
      );
    });

    it('spliceRoute(labels) is splice(1, …labels reversed): same label, same error', () => {
      const outcome = (f: () => bigint): unknown => {
        try {
          return { label: f() };
        } catch (e) {
          return { code: (e as { code?: string }).code, message: (e as Error).message };
        }
      };
      // widths up to 64 bits, and the labels below 2 that splice treats on their own
      const label = fc.oneof(
        { weight: 8, arbitrary: labelOfBits(14) },
        { weight: 2, arbitrary: labelOfBits(64) },
        { weight: 1, arbitrary: fc.constantFrom(0n, 1n) },
      );
      fc.assert(
        fc.property(fc.array(label, { minLength: 0, maxLength: 10 }), (labels) => {
          const want = outcome(() => splice(1n, ...[...labels].reverse()));
          expect(outcome(() => spliceRoute(labels, labels.length))).to.deep.equal(want);
          // only the first `count` labels count
          expect(outcome(() => spliceRoute([...labels, 5n], labels.length))).to.deep.equal(want);
        }),
        { numRuns: 3000 },
      );
    });

    it('spliceRoute at the edges: 52 and 53 bits (Number to BigInt), 59 and 60 bits (the limit)', () => {
      for (const widths of [
        [52],
        [53],
        [26, 26],
        [26, 27],
        [50, 3],
        [52, 1],
        [59],
        [30, 29],
        [30, 30],
        [60],
      ]) {
        const labels = widths.map(
          (w, i) => (1n << BigInt(w)) | (BigInt(i * 0x9e3779b1) % (1n << BigInt(w))),
        );
        const reversed = [...labels].reverse();
        if (widths.reduce((a, b) => a + b, 0) > 59) {
          expectRsError(() => spliceRoute(labels, labels.length), 'RS_ERR_LABEL_TOO_LONG');
          expectRsError(() => splice(1n, ...reversed), 'RS_ERR_LABEL_TOO_LONG');
        } else expect(spliceRoute(labels, labels.length)).to.equal(splice(1n, ...reversed));
      }
    });

    it('splice fails exactly when log2(go) + log2(via) > 59', () => {
      fc.assert(
        fc.property(labelOfBits(64), labelOfBits(64), (a, b) => {
          if (log2(a) + log2(b) > 59) expectRsError(() => splice(a, b), 'RS_ERR_LABEL_TOO_LONG');
          else expect(labelBitLength(splice(a, b))).to.be.at.most(60);
        }),
        { numRuns: 1000 },
      );
    });

    it('v358: widening and back gives the original director; JS and C agree on widening', () => {
      const v358 = SCHEMES.v358;
      // form f director d (form 0: d = 1..7, d = 0 is the self route), above it any route
      const director = fc.oneof(
        fc
          .integer({ min: 1, max: 7 })
          .map((d) => ({ form: 0, bits: (BigInt(d) << 1n) | 1n, size: 4 })),
        fc
          .integer({ min: 0, max: 31 })
          .map((d) => ({ form: 1, bits: (BigInt(d) << 2n) | 2n, size: 7 })),
      );
      fc.assert(
        fc.property(
          director,
          labelOfBits(48),
          fc.integer({ min: 1, max: 2 }),
          (dir, rest, wider) => {
            fc.pre(wider > dir.form);
            const label = (rest << BigInt(dir.size)) | dir.bits;
            const widened = reEncode(label, v358, wider);
            expect(reEncodeC(label, v358, wider)).to.equal(widened);
            expect(getEncodingForm(widened, v358)).to.equal(wider);
            expect(reEncode(widened, v358, dir.form)).to.equal(label);
            expect(widened >> BigInt([4, 7, 10][wider]!)).to.equal(rest);
          },
        ),
        { numRuns: 1000 },
      );
    });
  });
});
