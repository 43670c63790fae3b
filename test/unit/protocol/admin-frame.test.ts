import { expect } from 'chai';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { isRsError } from '../../../src/errors.ts';
import {
  ADMIN_AUTH_FAILED,
  type AdminArgs,
  buildAuthQuery,
  buildCookieQuery,
  buildPlainQuery,
  checkAdminError,
  parseAdminReply,
  parseCookieReply,
  parseListHandlersReply,
  parseNodeInfoReply,
  parseRegisterHandlerReply,
} from '../../../src/protocol/admin-frame.ts';
import { type BInput, bencodeEncode } from '../../../src/protocol/bencode.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { vectorsOf } from '../../helpers/vectors.ts';
import { expectRsError } from '../../helpers/errors.ts';

interface AuthVector {
  id: string;
  password: string;
  cookie: string;
  txid: string;
  function: string;
  args: AdminArgs;
  password_cookie_hash?: string;
  first_message_text?: string;
  final_hash: string;
  final_message_text: string;
  final_message_hex?: string;
}
interface CookieVector {
  id: string;
  request_text: string;
  response_text_example: string;
}
interface ResponsesVector {
  id: string;
  Core_nodeInfo: Record<string, BInput>;
  UpperDistributor_listHandlers: Record<string, BInput>;
  UpperDistributor_registerHandler: Record<string, BInput>;
  registerHandler_errors: string[];
  auth_failure: Record<string, BInput>;
}

const authVectors = vectorsOf<AuthVector>('admin_api.json', 'authQuery');
const cookieVectors = vectorsOf<CookieVector>('admin_api.json', 'cookieQuery');
const responseVectors = vectorsOf<ResponsesVector>('admin_api.json', 'responses');

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const sha256Hex = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');

describe('admin-frame', () => {
  describe('#buildAuthQuery()', () => {
    for (const v of authVectors) {
      it(`produces final_message_text of vector ${v.id}`, () => {
        const out = buildAuthQuery({
          password: v.password,
          cookie: v.cookie,
          txid: v.txid,
          function: v.function,
          args: v.args,
        });
        expect(text(out)).to.equal(v.final_message_text);
        if (v.final_message_hex) expect(bytesToHex(out)).to.equal(v.final_message_hex);
      });
      it(`hashes as the vector ${v.id} documents`, () => {
        if (v.password_cookie_hash)
          expect(sha256Hex(v.password + v.cookie)).to.equal(v.password_cookie_hash);
        if (v.first_message_text)
          expect(sha256Hex(bytes(v.first_message_text))).to.equal(v.final_hash);
        expect(v.final_message_text).to.contain(`4:hash64:${v.final_hash}`);
      });
    }

    it('defaults args to an empty dictionary', () => {
      const out = text(
        buildAuthQuery({ password: 'NONE', cookie: '1', txid: 't', function: 'ping' }),
      );
      expect(out).to.match(
        /^d2:aq4:ping4:argsde6:cookie1:14:hash64:[0-9a-f]{64}1:q4:auth4:txid1:te$/,
      );
    });
  });

  describe('#buildCookieQuery()', () => {
    for (const v of cookieVectors) {
      it(`produces request_text of vector ${v.id}`, () => {
        const txid = /4:txid(\d+):(.*)e$/.exec(v.request_text)![2]!;
        expect(text(buildCookieQuery(txid))).to.equal(v.request_text);
      });
    }
  });

  describe('#buildPlainQuery()', () => {
    it('writes {q, args, txid} with sorted keys', () => {
      expect(
        text(
          buildPlainQuery({
            function: 'UpperDistributor_listHandlers',
            args: { page: 0 },
            txid: '7',
          }),
        ),
      ).to.equal('d4:argsd4:pagei0ee1:q29:UpperDistributor_listHandlers4:txid1:7e');
    });

    it('omits args when none are given', () => {
      expect(text(buildPlainQuery({ function: 'ping', txid: 'x' }))).to.equal(
        'd1:q4:ping4:txid1:xe',
      );
    });
  });

  describe('#parseAdminReply()', () => {
    for (const v of cookieVectors) {
      it(`reads the example reply of vector ${v.id}`, () => {
        const r = parseAdminReply(bytes(v.response_text_example));
        expect(r.txid).to.equal('1234');
        expect(r.error).to.equal(undefined);
        expect(parseCookieReply(r)).to.equal('1700000000');
      });
    }

    it('turns byte strings into text at every depth', () => {
      const r = parseAdminReply(
        bencodeEncode({ txid: 'a', error: 'none', l: ['x', 1, { y: 'z' }] }),
      );
      expect(r).to.deep.equal({ txid: 'a', error: 'none', rest: { l: ['x', 1, { y: 'z' }] } });
    });

    it('rejects bad bencode with RS_ERR_BENCODE_INVALID', () => {
      expectRsError(() => parseAdminReply(bytes('d4:txid')), 'RS_ERR_BENCODE_INVALID');
    });

    it('rejects a reply that is not a dictionary or has a non-string txid/error', () => {
      expectRsError(() => parseAdminReply(bytes('li1ee')), 'RS_ERR_ADMIN_INVALID');
      expectRsError(() => parseAdminReply(bytes('d4:txidi1ee')), 'RS_ERR_ADMIN_INVALID');
      expectRsError(() => parseAdminReply(bytes('d5:errorlee')), 'RS_ERR_ADMIN_INVALID');
    });

    it('rejects every truncation of every response vector with an RsError', () => {
      const v = responseVectors[0]!;
      for (const shape of [
        v.Core_nodeInfo,
        v.UpperDistributor_listHandlers,
        v.UpperDistributor_registerHandler,
        v.auth_failure,
      ]) {
        const b = bencodeEncode(shape);
        for (let n = 0; n < b.length; n++) expectRsError(() => parseAdminReply(b.subarray(0, n)));
      }
    });

    it('never throws anything but RsError on random bytes', () => {
      const seed = bencodeEncode(responseVectors[0]!.Core_nodeInfo);
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 60 }),
            fc
              .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })
              .map((edits) => {
                const b = seed.slice();
                for (const [p, x] of edits) b[p % b.length] = x;
                return b;
              }),
          ),
          (b) => {
            try {
              const r = parseAdminReply(b);
              parseNodeInfoReply(r);
            } catch (e) {
              if (!isRsError(e)) throw e;
            }
          },
        ),
        { numRuns: 2000 },
      );
    });
  });

  describe('#parseNodeInfoReply()', () => {
    for (const v of responseVectors) {
      it(`reads the Core_nodeInfo shape of vector ${v.id}`, () => {
        const r = parseAdminReply(bencodeEncode(v.Core_nodeInfo));
        const { error: _e, txid: _t, ...expected } = v.Core_nodeInfo;
        expect(r.txid).to.equal(v.Core_nodeInfo.txid);
        expect(parseNodeInfoReply(r)).to.deep.equal(expected);
      });
    }

    it('rejects a reply missing a field or with a wrongly typed one', () => {
      const base = responseVectors[0]!.Core_nodeInfo;
      for (const bad of [
        { version: undefined },
        { version: '22' },
        { encodingScheme: [] },
        { encodingScheme: [{ bitCount: 3, prefix: 1, prefixLen: 1 }] },
      ]) {
        expectRsError(
          () => parseNodeInfoReply(parseAdminReply(bencodeEncode({ ...base, ...bad }))),
          'RS_ERR_ADMIN_INVALID',
        );
      }
    });
  });

  describe('#parseListHandlersReply()', () => {
    for (const v of responseVectors) {
      it(`reads the UpperDistributor_listHandlers shape of vector ${v.id}`, () => {
        const r = parseAdminReply(bencodeEncode(v.UpperDistributor_listHandlers));
        expect(parseListHandlersReply(r)).to.deep.equal({
          handlers: v.UpperDistributor_listHandlers.handlers,
        });
      });
    }

    it('accepts an empty list and rejects a port out of range', () => {
      expect(
        parseListHandlersReply(
          parseAdminReply(bencodeEncode({ handlers: [], error: 'none', txid: '1' })),
        ),
      ).to.deep.equal({ handlers: [] });
      expectRsError(
        () =>
          parseListHandlersReply(
            parseAdminReply(
              bencodeEncode({ handlers: [{ type: 256, udpPort: 70000 }], error: 'none' }),
            ),
          ),
        'RS_ERR_ADMIN_INVALID',
      );
    });
  });

  describe('#parseRegisterHandlerReply()', () => {
    for (const v of responseVectors) {
      it(`accepts the success shape of vector ${v.id}`, () => {
        expect(() =>
          parseRegisterHandlerReply(
            parseAdminReply(bencodeEncode(v.UpperDistributor_registerHandler)),
          ),
        ).to.not.throw();
      });
      for (const error of v.registerHandler_errors) {
        it(`reports ${error} (vector ${v.id}) as RS_ERR_ADMIN_CALL`, () => {
          const e = expectRsError(
            () => parseRegisterHandlerReply(parseAdminReply(bencodeEncode({ error, txid: '6' }))),
            'RS_ERR_ADMIN_CALL',
          );
          expect(e.context?.error).to.equal(error);
        });
      }
    }

    it('rejects a reply without error', () => {
      expectRsError(
        () => parseRegisterHandlerReply(parseAdminReply(bencodeEncode({ txid: '6' }))),
        'RS_ERR_ADMIN_INVALID',
      );
    });
  });

  describe('#checkAdminError()', () => {
    for (const v of responseVectors) {
      it(`reports the auth failure of vector ${v.id} as RS_ERR_ADMIN_AUTH`, () => {
        const r = parseAdminReply(bencodeEncode(v.auth_failure));
        expect(r.error).to.equal(ADMIN_AUTH_FAILED);
        expectRsError(() => checkAdminError(r), 'RS_ERR_ADMIN_AUTH');
        expectRsError(() => parseNodeInfoReply(r), 'RS_ERR_ADMIN_AUTH');
      });
    }

    it('passes "none" and replies without error', () => {
      expect(() => checkAdminError({ txid: '1', error: 'none', rest: {} })).to.not.throw();
      expect(() => checkAdminError({ txid: '1', error: undefined, rest: {} })).to.not.throw();
    });
  });
});
