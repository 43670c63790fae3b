import { expect } from 'chai';
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isRsError } from '../../../src/errors.ts';
import { bencodeDecode } from '../../../src/protocol/bencode.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { ip6FromPublicKey, ip6ToString } from '../../../src/protocol/keys.ts';
import {
  DATA_HEADER_BYTES,
  ROUTE_HEADER_BYTES,
  type RouteHeader,
  buildHandlerFrame,
  buildReplyRouteHeader,
  parseDataHeader,
  parseHandlerFrame,
  parseRouteHeader,
  parseSwitchHeader,
  serializeDataHeader,
  serializeRouteHeader,
  serializeSwitchHeader,
} from '../../../src/protocol/wire-headers.ts';
import { captureBytes, fixturesDir, vectorsOf } from '../../helpers/vectors.ts';
import { expectRsError } from '../../helpers/errors.ts';

interface HeaderVector {
  id: string;
  hex: string;
  expected?: Record<string, unknown>;
  cjdnshdr?: Record<string, unknown> & { error?: string };
  reserialized_hex?: string;
  fields?: Record<string, string>;
  content_type_number?: number;
}

const switchVectors = vectorsOf<HeaderVector>('wire_headers.json', 'switchHeader');
const routeVectors = vectorsOf<HeaderVector>('wire_headers.json', 'routeHeader');
const dataVectors = vectorsOf<HeaderVector>('wire_headers.json', 'dataHeader');

function publicShape(rh: RouteHeader): Record<string, unknown> {
  const { publicKey, version, ip, switchHeader, isIncoming, isCtrl } = rh;
  return { publicKey, version, ip, switchHeader, isIncoming, isCtrl };
}

/** The values JS produced: `expected`, or cjdnshdr's own result where Rust differs. */
function jsExpected(v: HeaderVector): Record<string, unknown> | undefined {
  if (v.expected) return v.expected;
  if (v.cjdnshdr && v.cjdnshdr.error === undefined) return v.cjdnshdr;
  return undefined;
}

const handlerCaptures = readdirSync(join(fixturesDir(), 'captures')).filter((f) =>
  /^[0-2]\d-.*\.bin$/.test(f),
);

describe('wire-headers', () => {
  describe('#parseSwitchHeader()', () => {
    for (const v of switchVectors) {
      const js = jsExpected(v);
      if (js) {
        it(`parses vector ${v.id} as cjdnshdr does`, () => {
          expect(parseSwitchHeader(hexToBytes(v.hex))).to.deep.equal(js);
        });
        it(`rejects every truncation of vector ${v.id} with an RsError`, () => {
          const bytes = hexToBytes(v.hex);
          for (let n = 0; n < bytes.length; n++)
            expectRsError(() => parseSwitchHeader(bytes.subarray(0, n)), 'RS_ERR_HEADER_INVALID');
        });
      } else {
        it(`rejects vector ${v.id} (${v.cjdnshdr?.error ?? 'error'})`, () => {
          expectRsError(() => parseSwitchHeader(hexToBytes(v.hex)), 'RS_ERR_HEADER_INVALID');
        });
      }
    }
  });

  describe('#serializeSwitchHeader()', () => {
    for (const v of switchVectors.filter((x) => x.reserialized_hex)) {
      it(`re-serialises vector ${v.id} to reserialized_hex`, () => {
        expect(bytesToHex(serializeSwitchHeader(parseSwitchHeader(hexToBytes(v.hex))))).to.equal(
          v.reserialized_hex,
        );
      });
    }

    it('writes switch-header version 0 as 1 (vector wire_headers/switchHeader/004)', () => {
      const v = switchVectors.find((x) => x.id === 'wire_headers/switchHeader/004')!;
      const out = serializeSwitchHeader(parseSwitchHeader(hexToBytes(v.hex)));
      const expected = hexToBytes(v.hex);
      expected[9] = (1 << 6) | (expected[9]! & 0x3f);
      expect(bytesToHex(out)).to.equal(bytesToHex(expected));
    });

    it('refuses switch-header version 3 (vector wire_headers/switchHeader/005) and 2', () => {
      const v = switchVectors.find((x) => x.id === 'wire_headers/switchHeader/005')!;
      const sh = parseSwitchHeader(hexToBytes(v.hex));
      expectRsError(() => serializeSwitchHeader(sh), 'RS_ERR_HEADER_INVALID');
      expectRsError(() => serializeSwitchHeader({ ...sh, version: 2 }), 'RS_ERR_HEADER_INVALID');
    });

    it('refuses out-of-range fields and malformed labels', () => {
      const sh = parseSwitchHeader(hexToBytes(switchVectors[0]!.hex));
      for (const bad of [
        { labelShift: 64 },
        { penalty: 65536 },
        { penalty: -1 },
        { congestion: 128 },
        { label: '0000.0000.0000.001' },
        { label: '0000.0000.0000.001G' },
        { label: '0000.0000.0000.001A' },
      ]) {
        expectRsError(() => serializeSwitchHeader({ ...sh, ...bad }), 'RS_ERR_HEADER_INVALID');
      }
    });

    it('round-trips every version-1 header', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), (bytes) => {
          bytes[9] = (1 << 6) | (bytes[9]! & 0x3f);
          expect(bytesToHex(serializeSwitchHeader(parseSwitchHeader(bytes)))).to.equal(
            bytesToHex(bytes),
          );
        }),
      );
    });
  });

  describe('#parseRouteHeader()', () => {
    for (const v of routeVectors) {
      const js = jsExpected(v);
      if (js) {
        it(`parses vector ${v.id} as cjdnshdr does`, () => {
          const rh = parseRouteHeader(hexToBytes(v.hex));
          expect(publicShape(rh)).to.deep.equal(js);
          if (v.fields) {
            const zeroKey = /^0+$/.test(v.fields.publicKey!);
            expect(rh.keyBytes === null ? null : bytesToHex(rh.keyBytes)).to.equal(
              zeroKey ? null : v.fields.publicKey,
            );
          }
        });
        it(`rejects every truncation of vector ${v.id} with an RsError`, () => {
          const bytes = hexToBytes(v.hex);
          for (let n = 0; n < bytes.length; n++)
            expectRsError(() => parseRouteHeader(bytes.subarray(0, n)), 'RS_ERR_HEADER_INVALID');
        });
      } else {
        it(`rejects vector ${v.id} (${v.cjdnshdr?.error ?? 'error'})`, () => {
          expectRsError(() => parseRouteHeader(hexToBytes(v.hex)), 'RS_ERR_HEADER_INVALID');
        });
      }
    }

    it('keeps the raw ip6 bytes (zero ip6 on CTRL frames reads as null)', () => {
      const v = routeVectors.find((x) => x.fields && !/^0+$/.test(x.fields.ip6!))!;
      expect(bytesToHex(parseRouteHeader(hexToBytes(v.hex)).ip6Bytes!)).to.equal(v.fields!.ip6);
      const ctrl = routeVectors.find((x) => x.id === 'wire_headers/routeHeader/009')!;
      expect(parseRouteHeader(hexToBytes(ctrl.hex)).ip6Bytes).to.equal(null);
    });

    it('replaces an ip6 that does not match the key with the derived one (vector wire_headers/routeHeader/015)', () => {
      const v = routeVectors.find((x) => x.id === 'wire_headers/routeHeader/015')!;
      const bytes = hexToBytes(v.hex);
      const rh = parseRouteHeader(bytes);
      expect(bytesToHex(rh.ip6Bytes!)).to.equal(
        bytesToHex(ip6FromPublicKey(bytes.subarray(0, 32))),
      );
      expect(rh.ip).to.equal(ip6ToString(rh.ip6Bytes!));
      // and re-serialises with the derived address, as cjdnshdr does
      expect(bytesToHex(serializeRouteHeader(rh).subarray(52))).to.equal(bytesToHex(rh.ip6Bytes!));
    });

    it('reads the version as a signed int32 (JS readInt32BE)', () => {
      const bytes = hexToBytes(routeVectors[0]!.hex);
      bytes.set([0xff, 0xff, 0xff, 0xfe], 44);
      expect(parseRouteHeader(bytes).version).to.equal(-2);
    });
  });

  describe('#serializeRouteHeader()', () => {
    for (const v of routeVectors.filter((x) => x.reserialized_hex)) {
      it(`re-serialises vector ${v.id} to reserialized_hex`, () => {
        expect(bytesToHex(serializeRouteHeader(parseRouteHeader(hexToBytes(v.hex))))).to.equal(
          v.reserialized_hex,
        );
      });
    }

    it('rebuilds the flags byte from INCOMING and CTRLMSG only and zeroes the unused bytes', () => {
      const bytes = hexToBytes(
        routeVectors.find((x) => x.id === 'wire_headers/routeHeader/007')!.hex,
      );
      bytes.set([0x01 | 0x04 | 0x80, 0x00, 0x00, 0x21], 48); // INCOMING | PATHFINDER | junk, unused 000021
      const out = serializeRouteHeader(parseRouteHeader(bytes));
      expect(bytesToHex(out.subarray(48, 52))).to.equal('01000000');
    });

    it('refuses a negative or oversized version and a missing ip6 on a non-CTRL frame', () => {
      const rh = parseRouteHeader(hexToBytes(routeVectors[0]!.hex));
      expectRsError(() => serializeRouteHeader({ ...rh, version: -1 }), 'RS_ERR_HEADER_INVALID');
      expectRsError(
        () => serializeRouteHeader({ ...rh, version: 2 ** 32 }),
        'RS_ERR_HEADER_INVALID',
      );
      expectRsError(() => serializeRouteHeader({ ...rh, ip6Bytes: null }), 'RS_ERR_HEADER_INVALID');
    });

    it('re-parses to the same header after one parse (up to switch version 0 → 1)', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 68, maxLength: 68 }),
          fc.boolean(),
          fc.boolean(),
          (bytes, zeroKey, ctrl) => {
            if (zeroKey) bytes.fill(0, 0, 32);
            if (ctrl) {
              bytes[48] = bytes[48]! | 2;
              bytes.fill(0, 52, 68);
            }
            let rh: RouteHeader;
            try {
              rh = parseRouteHeader(bytes);
            } catch (e) {
              if (!isRsError(e)) throw e;
              return;
            }
            let out: Uint8Array;
            try {
              out = serializeRouteHeader(rh);
            } catch (e) {
              if (!isRsError(e)) throw e;
              return; // version 2/3 or negative version: JS cannot serialise these either
            }
            // the only change: switch-header version 0 comes back as 1
            const sv = rh.switchHeader.version === 0 ? 1 : rh.switchHeader.version;
            expect(parseRouteHeader(out)).to.deep.equal({
              ...rh,
              switchHeader: { ...rh.switchHeader, version: sv },
            });
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('#buildReplyRouteHeader()', () => {
    const query = parseHandlerFrame(captureBytes('07-B-pn-query.bin')).routeHeader;

    it('keeps key, ip6, label and version, and sets labelShift to 0', () => {
      const reply = buildReplyRouteHeader(query, { version: 99 });
      expect(reply.keyBytes).to.deep.equal(query.keyBytes);
      expect(reply.ip6Bytes).to.deep.equal(query.ip6Bytes);
      expect(reply.switchHeader.label).to.equal(query.switchHeader.label);
      expect(reply.version).to.equal(21);
      expect(reply.switchHeader.labelShift).to.equal(0);
      expect(query.switchHeader.labelShift).to.equal(8); // the request is untouched
    });

    it('replaces a version of 0 with the given one (the query p)', () => {
      expect(buildReplyRouteHeader({ ...query, version: 0 }, { version: 22 }).version).to.equal(22);
      expect(buildReplyRouteHeader({ ...query, version: 0 }).version).to.equal(0);
    });
  });

  describe('#parseDataHeader()', () => {
    for (const v of dataVectors) {
      it(`parses vector ${v.id}`, () => {
        const dh = parseDataHeader(hexToBytes(v.hex));
        expect(dh.version).to.equal(v.expected!.version);
        expect(dh.contentType).to.equal(v.expected!.contentType);
        expect(dh.contentTypeNumber).to.equal(v.content_type_number);
      });
      it(`re-serialises vector ${v.id}`, () => {
        expect(bytesToHex(serializeDataHeader(parseDataHeader(hexToBytes(v.hex))))).to.equal(v.hex);
      });
      it(`rejects every truncation of vector ${v.id} with an RsError`, () => {
        const bytes = hexToBytes(v.hex);
        for (let n = 0; n < bytes.length; n++)
          expectRsError(() => parseDataHeader(bytes.subarray(0, n)), 'RS_ERR_HEADER_INVALID');
      });
    }
  });

  describe('#serializeDataHeader()', () => {
    it('writes 10000100 for CJDHT, version 0 as 1, and refuses unrepresentable values', () => {
      expect(bytesToHex(serializeDataHeader({ contentTypeNumber: 256 }))).to.equal('10000100');
      expect(bytesToHex(serializeDataHeader({ contentTypeNumber: 256, version: 0 }))).to.equal(
        '10000100',
      );
      expectRsError(
        () => serializeDataHeader({ contentTypeNumber: 256, version: 16 }),
        'RS_ERR_HEADER_INVALID',
      );
      expectRsError(
        () => serializeDataHeader({ contentTypeNumber: 0x10000 }),
        'RS_ERR_HEADER_INVALID',
      );
    });
  });

  describe('#parseHandlerFrame()', () => {
    for (const name of handlerCaptures) {
      it(`parses capture ${name} into headers and bencoded content`, () => {
        const bytes = captureBytes(name);
        const f = parseHandlerFrame(bytes);
        expect(f.dataHeader).to.deep.equal({
          version: 1,
          contentType: 'CJDHT',
          contentTypeNumber: 256,
        });
        expect(f.content.length).to.equal(bytes.length - ROUTE_HEADER_BYTES - DATA_HEADER_BYTES);
        expect(() => bencodeDecode(f.content)).to.not.throw();
        expect(f.routeHeader.publicKey).to.match(/\.k$/);
        expect(f.routeHeader.version).to.equal(21);
      });
      it(`rejects every truncation of capture ${name} before its content with an RsError`, () => {
        const bytes = captureBytes(name);
        for (let n = 0; n < ROUTE_HEADER_BYTES + DATA_HEADER_BYTES; n++) {
          expectRsError(() => parseHandlerFrame(bytes.subarray(0, n)), 'RS_ERR_HEADER_INVALID');
        }
      });
    }

    it('reads a CTRL frame without a DataHeader', () => {
      const ctrl = routeVectors.find((x) => x.id === 'wire_headers/routeHeader/009')!;
      const f = parseHandlerFrame(hexToBytes(ctrl.hex + 'abcd'));
      expect(f.dataHeader).to.equal(undefined);
      expect(bytesToHex(f.content)).to.equal('abcd');
    });

    it('never throws anything but RsError on random bytes', () => {
      const valid = captureBytes('07-B-pn-query.bin');
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 100 }),
            fc.uint8Array({ minLength: 72, maxLength: 90 }),
            fc
              .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 5 })
              .map((edits) => {
                const b = valid.slice();
                for (const [p, x] of edits) b[p % 72] = x;
                return b;
              }),
          ),
          (bytes) => {
            try {
              parseHandlerFrame(bytes);
            } catch (e) {
              if (!isRsError(e)) throw e;
              expect(e.code).to.equal('RS_ERR_HEADER_INVALID');
            }
          },
        ),
        { numRuns: 2000 },
      );
    });
  });

  describe('#buildHandlerFrame()', () => {
    for (const name of handlerCaptures.filter((n) => /reply/.test(n) && !/dht/.test(n))) {
      it(`rebuilds the reply capture ${name} byte for byte`, () => {
        const bytes = captureBytes(name);
        const f = parseHandlerFrame(bytes);
        expect(bytesToHex(buildHandlerFrame(f))).to.equal(bytesToHex(bytes));
      });
    }

    it('writes the CJDHT DataHeader by default and none for CTRL frames', () => {
      const f = parseHandlerFrame(captureBytes('02-A-self-pn-reply.bin'));
      const out = buildHandlerFrame({ routeHeader: f.routeHeader, content: new Uint8Array([1]) });
      expect(bytesToHex(out.subarray(68))).to.equal('1000010001');
      const ctrl = parseRouteHeader(
        hexToBytes(routeVectors.find((x) => x.id === 'wire_headers/routeHeader/009')!.hex),
      );
      expect(
        buildHandlerFrame({ routeHeader: ctrl, content: new Uint8Array([1]) }).length,
      ).to.equal(69);
    });
  });
});
