import { expect } from 'chai';
import fc from 'fast-check';
import { base32Decode, base32Encode } from '../../../src/protocol/base32.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { vectorsOf } from '../../helpers/vectors.ts';

interface Base32Vector {
  id: string;
  bytes_hex: string;
  base32: string;
}
interface PublicKeyVector {
  id: string;
  key: string;
  bytes_hex: string;
}

const base32Vectors = vectorsOf<Base32Vector>('keys.json', 'base32');
const keyVectors = vectorsOf<PublicKeyVector>('keys.json', 'publicKey');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('base32', () => {
  describe('#base32Encode()', () => {
    for (const v of base32Vectors) {
      it(`encodes ${v.id}`, () => {
        expect(base32Encode(hexToBytes(v.bytes_hex))).to.equal(v.base32);
      });
    }
    for (const v of keyVectors) {
      it(`encodes the key bytes of ${v.id}`, () => {
        expect(base32Encode(hexToBytes(v.bytes_hex)) + '.k').to.equal(v.key);
      });
    }
    it('encodes the empty input as the empty string', () => {
      expect(base32Encode(new Uint8Array(0))).to.equal('');
    });
  });

  describe('#base32Decode()', () => {
    for (const v of base32Vectors) {
      it(`decodes ${v.id}`, () => {
        expect(bytesToHex(base32Decode(v.base32))).to.equal(v.bytes_hex);
      });
    }
    for (const v of keyVectors) {
      it(`decodes the key string of ${v.id}`, () => {
        expect(bytesToHex(base32Decode(v.key.slice(0, -2)))).to.equal(v.bytes_hex);
      });
    }
    it('is case-insensitive', () => {
      expect(bytesToHex(base32Decode('Z7'))).to.equal('ff');
    });
    it('rejects characters outside the alphabet', () => {
      for (const s of ['a0', 'e0', 'i0', 'o0', '0.', 'é0', ' 0']) {
        expect(
          codeOf(() => base32Decode(s)),
          s,
        ).to.equal('RS_ERR_BASE32_INVALID');
      }
    });
    it('rejects 5 or more leftover bits', () => {
      expect(codeOf(() => base32Decode('0'))).to.equal('RS_ERR_BASE32_INVALID');
      expect(codeOf(() => base32Decode('000'))).to.equal('RS_ERR_BASE32_INVALID');
    });
    it('rejects non-zero leftover bits', () => {
      expect(codeOf(() => base32Decode('zz'))).to.equal('RS_ERR_BASE32_INVALID');
      expect(
        codeOf(() => base32Decode('zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz')),
      ).to.equal('RS_ERR_BASE32_INVALID');
    });
  });

  describe('round trip', () => {
    it('decode(encode(bytes)) == bytes for arbitrary bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
          expect(bytesToHex(base32Decode(base32Encode(bytes)))).to.equal(bytesToHex(bytes));
        }),
        { numRuns: 500 },
      );
    });
  });
});
