import { expect } from 'chai';
import { BytesMemo } from '../../../src/lib/bytes-memo.ts';

describe('BytesMemo', () => {
  it('decodes equal bytes once and hands back the same value; copies the key it keeps', () => {
    let decodes = 0;
    const memo = new BytesMemo(4, (b) => ({ n: ++decodes, text: Buffer.from(b).toString() }));
    const key = new TextEncoder().encode('abc');
    const first = memo.get(key);
    key[0] = 0x7a; // the caller reuses its buffer: the memo's copy still says "abc"
    expect(memo.get(new TextEncoder().encode('abc'))).to.equal(first);
    expect(memo.get(key).text).to.equal('zbc');
    expect(memo.get(new TextEncoder().encode('ab')).text).to.equal('ab');
    expect(decodes).to.equal(3);
  });

  it('remembers at most `max` values (starting over when full) and nothing a decode refused', () => {
    let decodes = 0;
    const memo = new BytesMemo(2, (b) => {
      decodes++;
      if (b[0] === 0) throw new Error('refused');
      return b[0];
    });
    expect(() => memo.get(Uint8Array.of(0))).to.throw('refused');
    expect(() => memo.get(Uint8Array.of(0))).to.throw('refused');
    memo.get(Uint8Array.of(1));
    memo.get(Uint8Array.of(2));
    memo.get(Uint8Array.of(1));
    expect(decodes).to.equal(4);
    memo.get(Uint8Array.of(3)); // full: starts over
    memo.get(Uint8Array.of(1));
    expect(decodes).to.equal(6);
  });
});
