import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, RsError, attempt, isRsError } from '../../src/errors.ts';

describe('errors', () => {
  describe('registry', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/`(RS_ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]));

    it('documents every code in docs/errors.md', () => {
      const missing = Object.keys(ERROR_CODES).filter((c) => !documented.has(c));
      expect(missing, 'run: node --import tsx scripts/errors-doc.ts').to.deep.equal([]);
    });

    it('documents no code that does not exist', () => {
      const extra = [...documented].filter((c) => !(c! in ERROR_CODES));
      expect(extra).to.deep.equal([]);
    });
  });

  describe('#attempt()', () => {
    it('turns an RsError into a failed result', () => {
      const r = attempt(() => {
        throw new RsError('RS_ERR_INPUT_INVALID');
      });
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.error.code).to.equal('RS_ERR_INPUT_INVALID');
    });

    it('lets any other exception through as a bug', () => {
      expect(() =>
        attempt(() => {
          throw new TypeError('bug');
        }),
      ).to.throw(TypeError);
    });
  });

  describe('#isRsError()', () => {
    it('recognises RsError by name and code, not by instanceof', () => {
      expect(isRsError(new RsError('RS_ERR_HEX_INVALID'))).to.equal(true);
      expect(isRsError({ name: 'RsError', code: 'RS_ERR_HEX_INVALID' })).to.equal(true);
      expect(isRsError(new Error('x'))).to.equal(false);
    });
  });
});
