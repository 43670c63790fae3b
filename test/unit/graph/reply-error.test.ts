import { expect } from 'chai';
import { isReplyError, rejectReasonOf, REPLY_ERRORS } from '../../../src/graph/reply-error.ts';

describe('reply-error', () => {
  describe('#rejectReasonOf()', () => {
    it('names every error string except none in PascalCase', () => {
      expect(rejectReasonOf('none')).to.equal(undefined);
      expect(REPLY_ERRORS.filter((e) => e !== 'none').map(rejectReasonOf)).to.deep.equal([
        'FailedParseOrValidate',
        'OldMessage',
        'WrongSnode',
        'ExcessiveClockSkew',
        'NoEncodingScheme',
        'NoVersion',
        'UnknownNode',
      ]);
    });
  });

  describe('#isReplyError()', () => {
    it('accepts exactly the wire strings of the original', () => {
      expect(isReplyError('no_encodingScheme')).to.equal(true);
      expect(isReplyError('no_encoding_scheme')).to.equal(false);
    });
  });
});
