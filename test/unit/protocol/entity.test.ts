import { expect } from 'chai';
import fc from 'fast-check';
import { ERROR_CODES } from '../../../src/errors.ts';
import { SCHEMES, parseSchemeJs, serializeScheme } from '../../../src/protocol/encoding-scheme.ts';
import {
  entityToJson,
  linkStateSamples,
  parseEncodingSchemeEntity,
  parseEntities,
  serializeEncodingSchemeEntity,
  serializeEntities,
  serializeEntity,
  serializePad,
  serializePeer,
  serializeVersion,
} from '../../../src/protocol/entity.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { vectorsOf } from '../../helpers/vectors.ts';
import { errorOf } from '../../helpers/errors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
const entityVectors = vectorsOf<any>('entities.json', 'parseEntities');
const annVectors = vectorsOf<any>('announcements.json', 'parse');
const validAnns = annVectors.filter((v: any) => !v.expected.error);
const CODES = Object.keys(ERROR_CODES);

const JS_ERRORS: Record<string, string> = {
  '0 length entity in message': 'RS_ERR_ANN_ZERO_LENGTH_ENTITY',
  'garbage after the last announcement entity': 'RS_ERR_ANN_GARBAGE_AFTER_ENTITIES',
  runt: 'RS_ERR_ENTITY_RUNT',
};

/** Entity regions: every entities.json vector plus the entity part of every announcement vector. */
const regions: Array<{ id: string; hex: string; valid: boolean }> = [
  ...entityVectors.map((v: any) => ({ id: v.id, hex: v.entities_hex, valid: !v.expected.error })),
  ...annVectors.map((v: any) => ({ id: v.id, hex: v.hex.slice(240), valid: !v.expected.error })),
];

describe('entity', () => {
  describe('#parseEntities()', () => {
    for (const v of entityVectors) {
      it(`parses ${v.id} like cjdnsann`, () => {
        const bytes = hexToBytes(v.entities_hex);
        if (v.expected.error) {
          const e = errorOf(() => parseEntities(bytes));
          expect(e?.message).to.equal(v.expected.error);
          expect(e?.code).to.equal(JS_ERRORS[v.expected.error]);
        } else {
          const got = parseEntities(bytes).map(entityToJson);
          expect(JSON.stringify(got)).to.equal(JSON.stringify(v.expected.entities));
        }
      });
    }
    for (const v of validAnns) {
      it(`parses the entities of ${v.id} from offset 120`, () => {
        const got = parseEntities(hexToBytes(v.hex), 120).map(entityToJson);
        expect(JSON.stringify(got)).to.equal(JSON.stringify(v.expected.entities));
      });
    }
    it('reports the entity errors with their JS strings', () => {
      const cases: Array<[string, string, string]> = [
        ['24' + '01' + '00'.repeat(34), 'invalid length 36', 'RS_ERR_ENTITY_BAD_LENGTH'],
        [
          '20' + '01' + '00'.repeat(10) + 'fd' + '00'.repeat(19),
          'does not begin with fc',
          'RS_ERR_ENTITY_INVALID',
        ],
        ['050200160000', 'invalid length', 'RS_ERR_ENTITY_BAD_LENGTH'],
        ['0402', 'runt', 'RS_ERR_ENTITY_RUNT'],
        ['040301ff', 'non-zero pad entry', 'RS_ERR_LINK_STATE_INVALID'],
        ['080300fa', 'unexpected length', 'RS_ERR_ENTITY_BAD_LENGTH'],
      ];
      for (const [hex, message, code] of cases) {
        const e = errorOf(() => parseEntities(hexToBytes(hex)));
        expect(e?.message, hex).to.equal(message);
        expect(e?.code, hex).to.equal(code);
      }
    });
    it('accepts an empty region, pads only, and skips unknown types', () => {
      expect(parseEntities(new Uint8Array(0))).to.deep.equal([]);
      expect(parseEntities(hexToBytes('010101'))).to.deep.equal([]);
      expect(parseEntities(hexToBytes('0309aa02ff'))).to.deep.equal([]);
    });
    for (const r of regions.filter((x) => x.valid)) {
      it(`throws only registered RsErrors for every truncation of ${r.id}`, () => {
        const bytes = hexToBytes(r.hex);
        for (let n = 0; n < bytes.length; n++) {
          try {
            parseEntities(bytes.subarray(0, n));
          } catch (e) {
            expect((e as { code?: string }).code, `length ${n}`).to.be.oneOf(CODES);
          }
        }
      });
    }
    it('never throws anything but a registered RsError on arbitrary bytes', () => {
      const entityish = fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        fc
          .array(
            fc
              .tuple(fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 40 }))
              .map(([t, body]) => Uint8Array.from([body.length + 2, t, ...body])),
            { maxLength: 5 },
          )
          .map((xs) => Uint8Array.from(xs.flatMap((x) => [...x]))),
      );
      fc.assert(
        fc.property(entityish, (b) => {
          try {
            parseEntities(b);
          } catch (e) {
            expect((e as { code?: string }).code).to.be.oneOf(CODES);
          }
        }),
        { numRuns: 3000 },
      );
    });
  });

  describe('#parseEncodingSchemeEntity()', () => {
    const v358 = serializeEncodingSchemeEntity(SCHEMES.v358, { pad: false });

    it('hands out one frozen entity per distinct scheme', () => {
      const a = parseEncodingSchemeEntity(v358);
      const b = parseEncodingSchemeEntity(new Uint8Array(v358)); // other bytes, same content
      expect(b).to.equal(a);
      expect(Object.isFrozen(a) && Object.isFrozen(a.scheme)).to.equal(true);
      expect(a.scheme).to.deep.equal(SCHEMES.v358);
      const f8 = parseEncodingSchemeEntity(
        serializeEncodingSchemeEntity(SCHEMES.f8, { pad: false }),
      );
      expect(f8).to.not.equal(a);
      expect(f8.scheme).to.deep.equal(SCHEMES.f8);
    });

    it('refuses an invalid scheme every time it comes (nothing remembered)', () => {
      // a terminator (bitCount 0), then set bits: cjdnsencode 'invalid encoding'
      const bad = Uint8Array.of(4, 0, 0x00, 0xf0);
      for (let i = 0; i < 2; i++)
        expect(errorOf(() => parseEncodingSchemeEntity(bad))?.code).to.equal(
          'RS_ERR_SCHEME_INVALID',
        );
    });

    it('gives what a fresh decode gives, for many more distinct schemes than it holds (property)', () => {
      const formArb = fc
        .record({
          bitCount: fc.integer({ min: 1, max: 30 }),
          prefixLen: fc.integer({ min: 0, max: 8 }),
        })
        .chain(({ bitCount, prefixLen }) =>
          fc.record({
            bitCount: fc.constant(bitCount),
            prefixLen: fc.constant(prefixLen),
            prefix: fc.integer({ min: 0, max: 2 ** prefixLen - 1 }),
          }),
        );
      fc.assert(
        fc.property(
          fc.array(fc.array(formArb, { minLength: 1, maxLength: 3 }), {
            minLength: 40,
            maxLength: 60,
          }),
          (list) => {
            for (const sc of list) {
              const body = serializeScheme(sc);
              const entity = serializeEncodingSchemeEntity(body, { pad: false });
              const got = parseEncodingSchemeEntity(entity);
              expect(got.scheme).to.deep.equal(parseSchemeJs(body));
              expect(got.hex).to.equal(bytesToHex(body));
            }
          },
        ),
        { numRuns: 10 },
      );
    });
  });

  describe('serializers', () => {
    it('#serializeVersion() writes 04 02 vv vv', () => {
      expect(bytesToHex(serializeVersion(22))).to.equal('04020016');
      expect(bytesToHex(serializeVersion(0xabcd))).to.equal('0402abcd');
      expect(errorOf(() => serializeVersion(0x10000))?.code).to.equal('RS_ERR_INPUT_INVALID');
    });
    it('#serializePad() writes 01 bytes', () => {
      expect(bytesToHex(serializePad())).to.equal('01');
      expect(bytesToHex(serializePad(3))).to.equal('010101');
    });
    it('#serializeEncodingSchemeEntity() writes the cjdns form with its pad', () => {
      expect(bytesToHex(serializeEncodingSchemeEntity(SCHEMES.v358))).to.equal('0107006114458100');
      expect(bytesToHex(serializeEncodingSchemeEntity(SCHEMES.v358, { pad: false }))).to.equal(
        '07006114458100',
      );
      expect(
        bytesToHex(serializeEncodingSchemeEntity(hexToBytes('810c08'), { pad: false })),
      ).to.equal('0500810c08');
    });
    it('#serializePeer() reproduces the Peer entity of entities/013', () => {
      const bytes = serializePeer({
        ipv6: 'fc92:8136:dc1f:e6e0:4ef6:a6dd:7187:b85f',
        label: '0000.0000.0000.0003',
      });
      expect(bytesToHex(bytes)).to.equal(
        entityVectors.find((v: any) => v.id.endsWith('/013')).entities_hex,
      );
      const p = parseEntities(
        serializePeer({ ipv6: 'fc00::1', label: 0x86, mtu: 1500, peerNum: 7, encodingFormNum: 1 }),
      );
      expect(p[0]).to.deep.include({
        ipv6: 'fc00:0000:0000:0000:0000:0000:0000:0001',
        label: '0000.0000.0000.0086',
      });
      expect(p[0]).to.deep.include({
        mtu: 1496,
        peerNum: 7,
        encodingFormNum: 1,
        unused: 0xffffffff,
        flags: 0,
      });
    });
    it('#serializePeer() refuses bad input', () => {
      expect(errorOf(() => serializePeer({ ipv6: 'fd00::1', label: 1 }))?.code).to.equal(
        'RS_ERR_INPUT_INVALID',
      );
      expect(
        errorOf(() => serializePeer({ ipv6: 'fc00::1', label: '0001.0000.0000.0013' }))?.code,
      ).to.equal('RS_ERR_INPUT_INVALID');
      expect(
        errorOf(() => serializePeer({ ipv6: 'fc00::1', label: 1, peerNum: 70000 }))?.code,
      ).to.equal('RS_ERR_INPUT_INVALID');
      expect(errorOf(() => serializePeer({ ipv6: 'nope', label: 1 }))?.code).to.equal(
        'RS_ERR_IP6_INVALID',
      );
    });
    for (const v of validAnns) {
      it(`#serializeEntities() round-trips the parsed entities of ${v.id}`, () => {
        const entities = parseEntities(hexToBytes(v.hex), 120);
        const again = parseEntities(serializeEntities(entities));
        expect(again.map(entityToJson)).to.deep.equal(entities.map(entityToJson));
      });
    }
    it('#serializeEntity() accepts builder inputs', () => {
      const bytes = serializeEntities([
        { type: 'Version', version: 22 },
        { type: 'Pad' },
        { type: 'EncodingScheme', scheme: SCHEMES.v358 },
        {
          type: 'LinkState',
          nodeId: 21,
          startingPoint: 5,
          samples: [{ lag: 20, drops: 0, kbRecv: 100 }],
        },
      ]);
      const got = parseEntities(bytes).map(entityToJson);
      expect(got.map((e) => e.type)).to.deep.equal(['Version', 'EncodingScheme', 'LinkState']);
      expect(bytesToHex(serializeEntity({ type: 'Pad', count: 2 }))).to.equal('0101');
    });
    it('#linkStateSamples() lists the samples oldest first', () => {
      const [ls] = parseEntities(
        hexToBytes(annVectors.find((v: any) => v.id.endsWith('/005')).hex),
        120,
      );
      if (ls?.type !== 'LinkState') throw new Error('expected a LinkState entity');
      expect(linkStateSamples(ls)).to.deep.equal([
        { lag: 20, drops: 0, kbRecv: 100 },
        { lag: 25, drops: 1, kbRecv: 300 },
        { lag: 18, drops: 0, kbRecv: 2000 },
      ]);
    });
  });
});
