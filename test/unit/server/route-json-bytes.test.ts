/**
 * server/route-json-bytes.ts: `/path` answers printed straight to bytes are the bytes of
 * `JSON.stringify(route, null, 2)` — for the engines' shapes (written by hand) and for anything
 * else (printed by JSON.stringify). Real engine answers are compared too in
 * test/property/fast-routes.prop.test.ts.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { sharedSchemeJs } from '../../../src/protocol/scheme-json-memo.ts';
import { SCHEMES } from '../../../src/protocol/encoding-scheme.ts';
import type { RouteJson } from '../../../src/routing/route-answer.ts';
import type { RouteHop } from '../../../src/routing/route-label.ts';
import { routeJsonBytes } from '../../../src/server/route-json-bytes.ts';

const stringify = (v: unknown): string => JSON.stringify(v, null, 2);
const label = fc.stringMatching(/^[0-9a-f]{4}(\.[0-9a-f]{4}){3}$/);
/** mostly label-like; sometimes anything (quotes, controls, astral and lone surrogates) */
const text = fc.oneof(
  { weight: 4, arbitrary: label },
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
);
const schemes = Object.values(SCHEMES).map((s) => sharedSchemeJs(s));
const scheme = fc.oneof(
  fc.constantFrom(...schemes),
  // a scheme of its own, not frozen
  fc.array(fc.record({ bitCount: fc.integer(), prefix: text, prefixLen: fc.integer() }), {
    maxLength: 4,
  }),
);
const hop: fc.Arbitrary<RouteHop> = fc.oneof(
  fc.record({ label: text, origLabel: text, scheme }) as fc.Arbitrary<RouteHop>,
  fc.record({
    label: text,
    origLabel: text,
    scheme,
    inverseFormNum: fc.integer({ min: -5, max: 20 }),
  }) as fc.Arbitrary<RouteHop>,
  // shapes the engines do not make: an undefined key, a fraction, another key order, another key
  fc.record({
    label: text,
    origLabel: text,
    scheme,
    inverseFormNum: fc.constant(undefined),
  }) as unknown as fc.Arbitrary<RouteHop>,
  fc.record({
    label: text,
    origLabel: text,
    scheme,
    inverseFormNum: fc.double(),
  }) as fc.Arbitrary<RouteHop>,
  fc.record({ origLabel: text, label: text, scheme }) as fc.Arbitrary<RouteHop>,
  fc.record({
    label: text,
    origLabel: text,
    scheme,
    extra: fc.jsonValue(),
  }) as unknown as fc.Arbitrary<RouteHop>,
);
const route: fc.Arbitrary<RouteJson> = fc.oneof(
  fc.record({ label: text, hops: fc.array(hop, { maxLength: 8, size: 'max' }) }),
  fc.record({
    label: text,
    hops: fc.array(hop, { maxLength: 8, size: 'max' }),
    path: fc.array(text, { maxLength: 9, size: 'max' }),
  }),
  fc.record({ hops: fc.array(hop, { maxLength: 3 }), label: text }),
);

describe('routeJsonBytes', () => {
  it('prints the bytes of JSON.stringify(route, null, 2), whatever the route holds', () => {
    fc.assert(
      fc.property(route, (r) => {
        expect(routeJsonBytes(r).equals(Buffer.from(stringify(r), 'utf8'))).to.equal(true);
      }),
      { numRuns: 2000, seed: 0x5eed17 },
    );
  });

  it('prints an answer with no hops, a first hop without inverseFormNum and a path, as the original', () => {
    const s = schemes[0]!;
    const r: RouteJson = {
      label: '0000.0000.0000.0013',
      hops: [
        { label: '0000.0000.0000.0013', origLabel: '0000.0000.0000.0013', scheme: s },
        {
          label: '0000.0000.0000.0001',
          origLabel: '0000.0000.0000.0001',
          scheme: s,
          inverseFormNum: 0,
        },
      ],
      path: ['fc00::1', 'fc00::2'],
    };
    expect(routeJsonBytes(r).toString('utf8')).to.equal(stringify(r));
    expect(routeJsonBytes({ label: '0000.0000.0000.0001', hops: [] }).toString('utf8')).to.equal(
      '{\n  "label": "0000.0000.0000.0001",\n  "hops": []\n}',
    );
    expect(routeJsonBytes({ label: 'x', hops: [], path: [] }).toString('utf8')).to.equal(
      '{\n  "label": "x",\n  "hops": [],\n  "path": []\n}',
    );
  });

  it('remembers only frozen schemes: a scheme of its own that changes prints as it is now', () => {
    const own = [{ bitCount: 3, prefix: '01', prefixLen: 1 }];
    const r: RouteJson = { label: 'a', hops: [{ label: 'b', origLabel: 'c', scheme: own }] };
    const before = routeJsonBytes(r).toString('utf8');
    own[0]!.bitCount = 4;
    own.push({ bitCount: 8, prefix: '00', prefixLen: 2 });
    expect(routeJsonBytes(r).toString('utf8')).to.equal(stringify(r)).and.not.equal(before);
  });

  it('gives each answer bytes of its own (the next answer does not overwrite them)', () => {
    const a = routeJsonBytes({ label: 'first', hops: [] });
    const b = routeJsonBytes({ label: 'second-and-longer', hops: [], path: ['fc00::1'] });
    expect(a.toString('utf8')).to.equal(stringify({ label: 'first', hops: [] }));
    expect(b.toString('utf8')).to.include('second-and-longer');
  });
});
