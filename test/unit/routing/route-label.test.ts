/**
 * The route server's one label builder (routing/route-label.ts), which both engines use. The
 * cjdnsplice `buildLabel` vectors run through it: a hop's forward label is re-encoded to the form
 * of its reverse label when that form is wider, then the forward labels are spliced.
 */
import { expect } from 'chai';
import { SCHEMES } from '../../../src/protocol/encoding-scheme.ts';
import { formatLabel, getEncodingForm, parseLabel } from '../../../src/protocol/routing-label.ts';
import { spliceSteps, type LabelStep } from '../../../src/routing/route-label.ts';
import { expectRsError } from '../../helpers/errors.ts';
import { vectorsOf } from '../../helpers/vectors.ts';

interface Hop {
  labelP: string | null;
  labelN: string | null;
  scheme: keyof typeof SCHEMES;
}

/**
 * cjdnsplice hops → the builder's steps: step j is hop j's forward label in hop j's scheme; the
 * form a step hands to the next one is that of the next hop's reverse label.
 */
function stepsOf(hops: readonly Hop[]): LabelStep[] {
  const steps: LabelStep[] = [];
  for (let j = 0; j < hops.length && hops[j]!.labelN !== null; j++) {
    const hop = hops[j]!;
    const next = hops[j + 1];
    const label = parseLabel(hop.labelN!);
    steps.push({
      label,
      origLabel: hop.labelN!,
      scheme: SCHEMES[hop.scheme],
      encodingFormNum:
        next?.labelP != null ? getEncodingForm(parseLabel(next.labelP), SCHEMES[next.scheme]) : 0,
    });
  }
  return steps;
}

const v358 = SCHEMES.v358;
const step = (label: bigint, encodingFormNum: number): LabelStep => ({
  label,
  origLabel: formatLabel(label),
  encodingFormNum,
  scheme: v358,
});

describe('route-label', () => {
  describe('vectors: buildLabel (cjdnsplice)', () => {
    for (const v of vectorsOf<{
      id: string;
      input: { hops: Hop[] };
      expected: { label: string; path: string[] };
    }>('labels.json', 'buildLabel')) {
      it(`${v.id}`, () => {
        const built = spliceSteps(stepsOf(v.input.hops), true);
        expect(formatLabel(built.label)).to.equal(v.expected.label);
        expect(built.hops.map((h) => h.label)).to.deep.equal(v.expected.path);
      });
    }
  });

  describe('#spliceSteps()', () => {
    it('never re-encodes the first hop and marks the later ones with the reverse form', () => {
      // 0x13 is form 0 of v358 (3 bits), 0x92 form 1 (5 bits)
      const built = spliceSteps([step(0x13n, 1), step(0x13n, 0)], true);
      expect(built.hops[0]).to.not.have.property('inverseFormNum');
      expect(built.hops[1]!.inverseFormNum).to.equal(1);
      expect(built.hops[1]!.label).to.not.equal(formatLabel(0x13n));
      expect(getEncodingForm(parseLabel(built.hops[1]!.label), v358)).to.equal(1);
    });

    it('leaves a forward label alone when its form is at least as wide as the reverse one', () => {
      const built = spliceSteps([step(0x13n, 0), step(0x92n, 0)], true);
      expect(built.hops.map((h) => h.label)).to.deep.equal([
        formatLabel(0x13n),
        formatLabel(0x92n),
      ]);
    });

    it('reads only the first `count` steps (a reused, longer step array)', () => {
      const steps = [step(0x13n, 1), step(0x13n, 0), step(0x92n, 1)];
      const longer = [...steps, step(0x92n, 0), { ...step(0x13n, 0), scheme: [] }];
      expect(spliceSteps(longer, true, steps.length)).to.deep.equal(spliceSteps(steps, true));
      expect(spliceSteps(longer, false, steps.length).label).to.equal(
        spliceSteps(steps, false).label,
      );
    });

    it('refuses a path whose spliced label would exceed 60 bits', () => {
      // 7 bits each past the first hop's: 12 hops need 85
      const long = Array.from({ length: 12 }, () => step(0x92n, 1));
      expectRsError(() => spliceSteps(long, false), 'RS_ERR_LABEL_TOO_LONG');
    });

    it('refuses a forward label that matches no form of its scheme', () => {
      // forms 5 and 8 bits, prefixes 10 and 00: a label ending in 1 has none
      const s52_82 = [
        { bitCount: 5, prefixLen: 2, prefix: 0b10 },
        { bitCount: 8, prefixLen: 2, prefix: 0b00 },
      ];
      const odd = {
        label: 0x13n,
        origLabel: formatLabel(0x13n),
        encodingFormNum: 0,
        scheme: s52_82,
      };
      expectRsError(() => spliceSteps([step(0x92n, 0), odd], false));
    });
  });
});
