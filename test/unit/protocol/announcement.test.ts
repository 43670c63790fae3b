import { expect } from 'chai';
import fc from 'fast-check';
import { ERROR_CODES } from '../../../src/errors.ts';
import {
  annHash,
  announcementToJson,
  buildAnnouncement,
  buildTimestampField,
  parseAnnouncement,
  parseTimestampField,
  verifyAnnouncementSignature,
} from '../../../src/protocol/announcement.ts';
import { SCHEMES } from '../../../src/protocol/encoding-scheme.ts';
import {
  linkStateSamples,
  serializeEntities,
  type EntityInput,
} from '../../../src/protocol/entity.ts';
import type { Entity } from '../../../src/protocol/entity-types.ts';
import { normalizeIp6 } from '../../../src/protocol/keys.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { loadVectors, vectorsOf } from '../../helpers/vectors.ts';
import { errorOf } from '../../helpers/errors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
const parseVectors = vectorsOf<any>('announcements.json', 'parse');
const validVectors = parseVectors.filter((v: any) => !v.expected.error);
const tsVectors = vectorsOf<any>('announcements.json', 'timestampField');
const routeServer = loadVectors('route_server.json') as any;
const identities = routeServer.identities as Array<{
  name: string;
  private_hex: string;
  public_key: string;
  ipv6: string;
}>;
const CODES = Object.keys(ERROR_CODES);

const JS_ERRORS: Record<string, string> = {
  runt: 'RS_ERR_ANN_RUNT',
  'signature verification failed': 'RS_ERR_ANN_BAD_SIGNATURE',
  'node starting with non fc addr': 'RS_ERR_ANN_NODE_NOT_FC',
  'snode starting with non fc addr': 'RS_ERR_ANN_SNODE_NOT_FC',
  '0 length entity in message': 'RS_ERR_ANN_ZERO_LENGTH_ENTITY',
  'garbage after the last announcement entity': 'RS_ERR_ANN_GARBAGE_AFTER_ENTITIES',
  'invalid length': 'RS_ERR_ENTITY_BAD_LENGTH',
  'invalid length 36': 'RS_ERR_ENTITY_BAD_LENGTH',
  'non-zero pad entry': 'RS_ERR_LINK_STATE_INVALID',
};

/** A parsed entity carries exactly what the builder input said. */
function expectSameEntity(got: Entity, want: EntityInput): void {
  if (got.type === 'Version' && want.type === 'Version') expect(got.version).to.equal(want.version);
  else if (got.type === 'EncodingScheme' && want.type === 'EncodingScheme')
    expect(got.scheme).to.deep.equal(want.scheme);
  else if (got.type === 'Peer' && want.type === 'Peer') {
    const label = Number(want.label).toString(16).padStart(8, '0');
    expect(got).to.deep.equal({
      type: 'Peer',
      ipv6: normalizeIp6(want.ipv6),
      label: `0000.0000.${label.slice(0, 4)}.${label.slice(4)}`,
      mtu: want.mtu,
      peerNum: want.peerNum,
      unused: want.unused,
      encodingFormNum: want.encodingFormNum,
      flags: want.flags,
    });
  } else if (got.type === 'LinkState' && want.type === 'LinkState' && 'samples' in want) {
    expect([got.nodeId, got.startingPoint]).to.deep.equal([want.nodeId, want.startingPoint]);
    expect(linkStateSamples(got)).to.deep.equal(want.samples);
  } else expect.fail(`entity type ${got.type} vs ${want.type}`);
}

describe('announcement', () => {
  describe('#parseAnnouncement()', () => {
    for (const v of parseVectors) {
      it(`parses ${v.id} like cjdnsann${v.description ? ` (${v.description})` : ''}`, () => {
        const bytes = hexToBytes(v.hex);
        if (v.expected.error) {
          const e = errorOf(() => parseAnnouncement(bytes));
          expect(e?.message).to.equal(v.expected.error);
          const code =
            v.expected.error === 'runt' && bytes.length >= 120
              ? 'RS_ERR_ENTITY_RUNT'
              : JS_ERRORS[v.expected.error];
          expect(e?.code).to.equal(code);
        } else {
          expect(JSON.stringify(announcementToJson(parseAnnouncement(bytes)))).to.equal(
            JSON.stringify(v.expected),
          );
        }
        if (v.expected_without_signature_check?.error) {
          const e = errorOf(() => parseAnnouncement(bytes, { verifySignature: false }));
          expect(e?.message).to.equal(v.expected_without_signature_check.error);
        }
        if (v.expected_rust_timestamp_ms !== undefined) {
          expect(parseAnnouncement(bytes).timestamp).to.equal(v.expected_rust_timestamp_ms);
        }
      });
    }
    it('keeps the raw bytes, the hash and the derived key with the parse', () => {
      const v = validVectors[0];
      const bytes = hexToBytes(v.hex);
      const ann = parseAnnouncement(bytes);
      expect(ann.binary).to.equal(bytes);
      expect(bytesToHex(ann.hash)).to.equal(v.expected.hash);
      expect(bytesToHex(ann.nodeKey)).to.equal(
        '3f94fa3d4bdc7d2c5ca1f5b081f9b52b9431bc3abd276641ddd75e8b89d0dc59',
      );
      expect(ann.timestamp).to.equal(Number('0x' + v.expected.timestamp));
    });
    it('skips the signature check only when asked', () => {
      const bad = parseVectors.find((v: any) => v.id.endsWith('/013'));
      const ann = parseAnnouncement(hexToBytes(bad.hex), { verifySignature: false });
      expect(ann.entities).to.deep.equal([{ type: 'Version', version: 23 }]);
    });
    it('reports an unconvertible signing key as RS_ERR_KEY_CONVERSION when not verifying', () => {
      const bytes = hexToBytes(validVectors[0].hex);
      bytes.set(hexToBytes('01' + '00'.repeat(31)), 64);
      expect(errorOf(() => parseAnnouncement(bytes, { verifySignature: false }))?.code).to.equal(
        'RS_ERR_KEY_CONVERSION',
      );
      expect(errorOf(() => parseAnnouncement(bytes))?.code).to.equal('RS_ERR_ANN_BAD_SIGNATURE');
    });
    for (const v of validVectors) {
      it(`throws a registered RsError for every truncation of ${v.id}`, () => {
        const bytes = hexToBytes(v.hex);
        for (let n = 0; n < bytes.length; n++) {
          const cut = bytes.subarray(0, n);
          const e = errorOf(() => parseAnnouncement(cut));
          expect(e?.code, `length ${n}`).to.equal(
            n < 120 ? 'RS_ERR_ANN_RUNT' : 'RS_ERR_ANN_BAD_SIGNATURE',
          );
          const unchecked = errorOf(() => parseAnnouncement(cut, { verifySignature: false }));
          if (unchecked !== undefined)
            expect(unchecked.code, `length ${n} unchecked`).to.be.oneOf(CODES);
        }
      });
    }
    it('never throws anything but a registered RsError on corrupted messages', () => {
      const base = validVectors.map((v: any) => hexToBytes(v.hex));
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: base.length - 1 }),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          fc.uint8Array({ maxLength: 40 }),
          fc.boolean(),
          (which, edits, tail, check) => {
            const b = new Uint8Array([...base[which]!, ...tail]);
            for (const [pos, val] of edits) b[120 + (pos % (b.length - 120))] = val;
            try {
              parseAnnouncement(b, { verifySignature: check });
            } catch (e) {
              expect((e as { code?: string }).code).to.be.oneOf(CODES);
            }
          },
        ),
        { numRuns: 1000 },
      );
    });
  });

  describe('route_server.json announcements', () => {
    for (const scenario of routeServer.vectors) {
      for (const [i, step] of (scenario.steps ?? []).entries()) {
        if (!step.ann_hex) continue;
        it(`parses and verifies ${scenario.name} step ${i}`, () => {
          const bytes = hexToBytes(step.ann_hex);
          if (step.expected?.error === 'failed_parse_or_validate') {
            expect(errorOf(() => parseAnnouncement(bytes))?.code).to.be.oneOf(CODES);
            return;
          }
          expect(verifyAnnouncementSignature(bytes)).to.equal(true);
          const ann = parseAnnouncement(bytes);
          if (step.ann_hash) expect(bytesToHex(ann.hash)).to.equal(step.ann_hash);
          const who = identities.find((x) => x.name === step.node);
          if (who) expect(ann.nodeIp).to.equal(who.ipv6);
        });
      }
    }
  });

  describe('#verifyAnnouncementSignature() / #annHash()', () => {
    it('verifies good messages and rejects bad or short ones', () => {
      for (const v of validVectors)
        expect(verifyAnnouncementSignature(hexToBytes(v.hex)), v.id).to.equal(true);
      const bad = parseVectors.filter(
        (v: any) => v.expected.error === 'signature verification failed',
      );
      for (const v of bad)
        expect(verifyAnnouncementSignature(hexToBytes(v.hex)), v.id).to.equal(false);
      expect(verifyAnnouncementSignature(new Uint8Array(119))).to.equal(false);
    });
    it('hashes the whole message with sha512', () => {
      for (const v of validVectors)
        expect(bytesToHex(annHash(hexToBytes(v.hex)))).to.equal(v.expected.hash);
    });
  });

  describe('#parseTimestampField() / #buildTimestampField()', () => {
    for (const v of tsVectors) {
      it(`converts ${v.id} both ways`, () => {
        const f = parseTimestampField(hexToBytes(v.bytes_hex));
        expect(f.timestampHex).to.equal(v.cjdnsann_timestamp_string);
        expect(f.timestamp).to.equal(Number(v.timestamp_ms));
        expect(f.isReset).to.equal(v.isReset);
        expect(f.version).to.equal(v.version);
        expect(
          bytesToHex(buildTimestampField(BigInt(v.timestamp_ms), v.isReset, v.version)),
        ).to.equal(v.bytes_hex);
      });
    }
    it('rejects out-of-range values', () => {
      expect(errorOf(() => buildTimestampField(2n ** 60n, false, 1))?.code).to.equal(
        'RS_ERR_INPUT_INVALID',
      );
      expect(errorOf(() => buildTimestampField(0, false, 8))?.code).to.equal(
        'RS_ERR_INPUT_INVALID',
      );
      expect(errorOf(() => parseTimestampField(new Uint8Array(7)))?.code).to.equal(
        'RS_ERR_INPUT_TRUNCATED',
      );
    });
  });

  describe('#buildAnnouncement()', () => {
    const snode = identities[0]!;
    it('builds a message that parses, verifies and is addressed from the key owner', () => {
      const who = identities[1]!;
      const bytes = buildAnnouncement({
        privateKey: hexToBytes(who.private_hex),
        snodeIp: snode.ipv6,
        timestamp: 1700000000000,
        isReset: true,
        entities: [
          { type: 'Version', version: 22 },
          { type: 'Pad' },
          { type: 'EncodingScheme', scheme: SCHEMES.v358 },
        ],
      });
      const ann = parseAnnouncement(bytes);
      expect(ann.nodePubKey).to.equal(who.public_key);
      expect(ann.nodeIp).to.equal(who.ipv6);
      expect(ann.snodeIp).to.equal(snode.ipv6);
      expect(ann.ver).to.equal(1);
      expect(ann.timestampHex).to.equal('0000018bcfe56800');
      expect(bytesToHex(bytes.subarray(120))).to.equal('040200160107006114458100');
    });
    it('round-trips arbitrary headers and entities', () => {
      const peer = fc.record({
        type: fc.constant('Peer' as const),
        ipv6: fc
          .uint8Array({ minLength: 15, maxLength: 15 })
          .map((b) =>
            [
              'fc' + bytesToHex(b.subarray(0, 1)),
              ...bytesToHex(b.subarray(1)).match(/.{4}/g)!,
            ].join(':'),
          ),
        label: fc.integer({ min: 0, max: 0xffffffff }),
        mtu: fc.integer({ min: 0, max: 0xffff }).map((x) => x * 8),
        peerNum: fc.integer({ min: 0, max: 0xffff }),
        unused: fc.integer({ min: 0, max: 0xffffffff }),
        encodingFormNum: fc.integer({ min: 0, max: 255 }),
        flags: fc.integer({ min: 0, max: 255 }),
      });
      const sample = fc.record({
        lag: fc.nat(0xffff),
        drops: fc.nat(0xffff),
        kbRecv: fc.nat(0xffffffff),
      });
      const entity: fc.Arbitrary<EntityInput> = fc.oneof(
        fc.record({ type: fc.constant('Version' as const), version: fc.nat(0xffff) }),
        fc
          .constantFrom(...Object.values(SCHEMES))
          .map((scheme) => ({ type: 'EncodingScheme' as const, scheme })),
        peer,
        fc.record({
          type: fc.constant('LinkState' as const),
          nodeId: fc.nat(0xffff),
          startingPoint: fc.nat(17),
          samples: fc.array(sample, { maxLength: 18 }),
        }),
        fc.record({ type: fc.constant('Pad' as const), count: fc.integer({ min: 1, max: 3 }) }),
      );
      fc.assert(
        fc.property(
          fc.constantFrom(...identities),
          fc.bigInt({ min: 0n, max: 2n ** 60n - 1n }),
          fc.boolean(),
          fc.nat(7),
          fc.array(entity, { maxLength: 6 }),
          (who, timestamp, isReset, version, entities) => {
            const bytes = buildAnnouncement({
              privateKey: hexToBytes(who.private_hex),
              snodeIp: snode.ipv6,
              timestamp,
              isReset,
              version,
              entities,
            });
            const ann = parseAnnouncement(bytes);
            expect(ann.nodeIp).to.equal(who.ipv6);
            expect(ann.snodeIp).to.equal(snode.ipv6);
            expect(ann.timestampHex).to.equal(timestamp.toString(16).padStart(16, '0'));
            expect(ann.timestamp).to.equal(Number(timestamp));
            expect(ann.isReset).to.equal(isReset);
            expect(ann.ver).to.equal(version);
            const again = parseAnnouncement(
              buildAnnouncement({
                privateKey: hexToBytes(who.private_hex),
                snodeIp: snode.ipv6,
                timestamp,
                isReset,
                version,
                entities: serializeEntities(entities),
              }),
            );
            expect(bytesToHex(again.binary)).to.equal(bytesToHex(bytes));
            const inputs = entities.filter((e) => e.type !== 'Pad');
            expect(ann.entities.map((e) => e.type)).to.deep.equal(inputs.map((e) => e.type));
            ann.entities.forEach((got, i) => expectSameEntity(got, inputs[i]!));
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});
