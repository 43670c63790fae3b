import { expect } from 'chai';
import { SCHEMES, schemeFromJs, schemeToJs } from '../../../src/protocol/encoding-scheme.ts';
import { sharedSchemeJs } from '../../../src/protocol/scheme-json-memo.ts';

describe('scheme-json-memo', () => {
  it('gives what schemeToJs gives, for every named scheme', () => {
    for (const scheme of Object.values(SCHEMES)) {
      expect(sharedSchemeJs(scheme)).to.deep.equal(schemeToJs(scheme));
      expect(JSON.stringify(sharedSchemeJs(scheme))).to.equal(JSON.stringify(schemeToJs(scheme)));
    }
  });

  it('is the same object for the same scheme, another for another scheme', () => {
    expect(sharedSchemeJs(SCHEMES.v358)).to.equal(sharedSchemeJs(SCHEMES.v358));
    expect(sharedSchemeJs(SCHEMES.v358)).to.not.equal(sharedSchemeJs(SCHEMES.f8));
    // an equal scheme that is another object gets its own (equal) form
    const copy = schemeFromJs(schemeToJs(SCHEMES.v358));
    expect(sharedSchemeJs(copy)).to.not.equal(sharedSchemeJs(SCHEMES.v358));
    expect(sharedSchemeJs(copy)).to.deep.equal(sharedSchemeJs(SCHEMES.v358));
  });

  it('is frozen, the list and every form, so no holder can change it for the others', () => {
    const js = sharedSchemeJs(SCHEMES.v358);
    expect(Object.isFrozen(js)).to.equal(true);
    for (const f of js) expect(Object.isFrozen(f)).to.equal(true);
    expect(() => {
      (js[0] as { bitCount: number }).bitCount = 99;
    }).to.throw(TypeError);
    expect(sharedSchemeJs(SCHEMES.v358)[0]!.bitCount).to.equal(SCHEMES.v358[0]!.bitCount);
  });

  it('gives the empty list for the empty scheme', () => {
    expect(sharedSchemeJs([])).to.deep.equal([]);
  });
});
