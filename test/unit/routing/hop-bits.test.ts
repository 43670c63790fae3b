import { expect } from 'chai';
import { spliceSteps } from '../../../src/routing/route-label.ts';
import type { EncodingScheme } from '../../../src/protocol/encoding-scheme-types.ts';
import { SCHEMES } from '../../../src/protocol/encoding-scheme.ts';
import { log2 } from '../../../src/protocol/routing-label.ts';
import {
  HOP_UNUSABLE,
  hopBits,
  HopBitsTable,
  MAX_DIRECTOR_BITS,
} from '../../../src/routing/hop-bits.ts';

const v358 = SCHEMES.v358;

describe('hop bits', () => {
  it('counts a v358 label in its own form on the first hop, widened after a wider arrival form', () => {
    expect(hopBits(0x13n, v358, undefined)).to.equal(4); // form 0
    expect(hopBits(0x86n, v358, undefined)).to.equal(7); // form 1
    expect(hopBits(0x404n, v358, undefined)).to.equal(10); // form 2
    expect(hopBits(0x13n, v358, 0)).to.equal(4);
    expect(hopBits(0x13n, v358, 2)).to.equal(10); // re-encoded to 0x400
    expect(hopBits(0x15n, v358, 1)).to.equal(7); // 0x86
    expect(hopBits(0x404n, v358, 0)).to.equal(10); // never narrowed
  });

  it('marks hops the route server cannot build as unusable', () => {
    expect(hopBits(undefined, v358, undefined)).to.equal(HOP_UNUSABLE);
    expect(hopBits(0x11n, v358, 2)).to.equal(HOP_UNUSABLE); // self route: cannot re-encode
    expect(hopBits(0x13n, v358, 3)).to.equal(HOP_UNUSABLE); // no form 3
    expect(hopBits(1n, v358, undefined)).to.equal(HOP_UNUSABLE); // does not move the packet
    expect(hopBits(0x3n, v358, 2)).to.equal(HOP_UNUSABLE); // no terminating bit: re-encodes to 0
    expect(hopBits(1n << 60n, v358, undefined)).to.equal(HOP_UNUSABLE); // alone over 59 bits
    expect(hopBits(1n << 59n, v358, undefined)).to.equal(MAX_DIRECTOR_BITS);
  });

  it('adds up to the length of the spliced label, which fails beyond 59 bits', () => {
    const scheme: EncodingScheme = v358;
    // 0x404 (10 bits) then form-0 labels re-encoded to form 2 after every hop back of form 2
    const steps = Array.from({ length: 6 }, (_, i) => ({
      label: i === 0 ? 0x404n : 0x13n,
      origLabel: '',
      encodingFormNum: 2,
      scheme,
    }));
    const bits = steps.reduce(
      (s, st, i) => s + hopBits(st.label, scheme, i === 0 ? undefined : 2),
      0,
    );
    expect(bits).to.equal(60);
    expect(() => spliceSteps(steps, false)).to.throw(/exceed/);
    const five = steps.slice(0, 5);
    expect(log2(spliceSteps(five, false).label)).to.equal(50);
    // after an arrival of form 1 instead, the sixth hop takes 7 bits: 57 fit
    const narrower = steps.map((st, i) => (i === 4 ? { ...st, encodingFormNum: 1 } : st));
    expect(log2(spliceSteps(narrower, false).label)).to.equal(57);
  });

  it('caches per (label id, scheme id, arrival class) and agrees with hopBits', () => {
    const labels = [0x13n, 0x86n, 0x404n, 0x11n, undefined];
    const schemes = [v358, SCHEMES.v48, SCHEMES.f8];
    let reads = 0;
    const table = new HopBitsTable({
      labelValue: (id) => {
        reads++;
        return labels[id];
      },
      scheme: (id) => schemes[id]!,
    });
    expect(table.classes(0)).to.equal(4);
    expect(table.classes(2)).to.equal(2);
    for (let rep = 0; rep < 2; rep++)
      for (let l = 0; l < labels.length; l++)
        for (let s = 0; s < schemes.length; s++)
          for (let c = 0; c < table.classes(s); c++)
            expect(table.bits(l, s, c)).to.equal(
              hopBits(labels[l], schemes[s]!, c === 0 ? undefined : c - 1),
            );
    const afterFirst = reads;
    table.bits(1, 0, 3);
    expect(reads).to.equal(afterFirst);
  });
});
