import { expect } from 'chai';
import fc from 'fast-check';
import { ERROR_CODES } from '../../../src/errors.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import {
  LINK_STATE_SLOTS,
  parseLinkState,
  serializeLinkState,
} from '../../../src/protocol/link-state.ts';
import { vectorsOf } from '../../helpers/vectors.ts';
import { errorOf } from '../../helpers/errors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
const parseVectors = vectorsOf<any>('link_state.json', 'parse');
const valid = parseVectors.filter((v: any) => !v.expected.error);

const JS_ERRORS: Record<string, string> = {
  runt: 'RS_ERR_ENTITY_RUNT',
  'unexpected length': 'RS_ERR_ENTITY_BAD_LENGTH',
  'non-zero pad entry': 'RS_ERR_LINK_STATE_INVALID',
};

describe('link-state', () => {
  describe('#parseLinkState()', () => {
    for (const v of parseVectors) {
      it(`parses ${v.id} like cjdnsann`, () => {
        const bytes = hexToBytes(v.entity_hex);
        if (v.expected.error) {
          const e = errorOf(() => parseLinkState(bytes));
          expect(e?.message).to.equal(v.expected.error);
          expect(e?.code).to.equal(JS_ERRORS[v.expected.error]);
        } else {
          const got = parseLinkState(bytes);
          expect(got).to.deep.equal(v.expected);
          expect(JSON.stringify(got)).to.equal(JSON.stringify(v.expected)); // key order too
        }
      });
    }
    it('rejects a length byte that differs from the slice length', () => {
      expect(errorOf(() => parseLinkState(hexToBytes('0603000001')))?.message).to.equal(
        'unexpected length',
      );
    });
    it('rejects a non-zero pad byte', () => {
      expect(errorOf(() => parseLinkState(hexToBytes('07030200010101')))?.message).to.equal(
        'non-zero pad entry',
      );
    });
    it('treats pads running past the end as a runt (JS reads undefined there)', () => {
      expect(errorOf(() => parseLinkState(hexToBytes('04030500')))?.message).to.equal('runt');
    });
    it('keeps 18 slots when startingPoint >= 18 (the first sample is unreachable)', () => {
      const one = parseLinkState(hexToBytes('0803000114010203'));
      expect(one.startingPoint).to.equal(20);
      expect(one.lagSlots).to.have.length(LINK_STATE_SLOTS);
      expect(one.lagSlots.every((x) => x === null)).to.equal(true);
      const two = parseLinkState(hexToBytes('0b03000114010203040506'));
      expect(two.lagSlots).to.have.length(LINK_STATE_SLOTS);
      expect([two.lagSlots[3], two.dropSlots[3], two.kbRecvSlots[3]]).to.deep.equal([4, 5, 6]);
    });
    it('wraps the second sample to slot (startingPoint + 1) % 18', () => {
      const got = parseLinkState(hexToBytes('0b03000111010203040506'));
      expect(got.lagSlots[17]).to.equal(1);
      expect(got.lagSlots[0]).to.equal(4);
    });
    for (const v of valid) {
      it(`throws only registered RsErrors for every truncation of ${v.id}`, () => {
        const bytes = hexToBytes(v.entity_hex);
        for (let n = 0; n < bytes.length; n++) {
          const e = errorOf(() => parseLinkState(bytes.subarray(0, n)));
          expect(e, `length ${n}`).to.not.equal(undefined);
          expect(e?.code, `length ${n}`).to.be.oneOf(Object.keys(ERROR_CODES));
        }
      });
    }
    it('never throws anything but a registered RsError on arbitrary bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (b, fixLength) => {
          const bytes = new Uint8Array(b);
          if (fixLength && bytes.length > 2) {
            bytes[0] = bytes.length;
            bytes[1] = 3;
          }
          try {
            const ls = parseLinkState(bytes);
            expect(ls.lagSlots).to.have.length(LINK_STATE_SLOTS);
          } catch (e) {
            expect((e as { code?: string }).code).to.be.oneOf(Object.keys(ERROR_CODES));
          }
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('#serializeLinkState()', () => {
    it('reproduces the LinkState_test.c static example', () => {
      const bytes = serializeLinkState({
        nodeId: 4,
        startingPoint: 16,
        samples: [
          { lag: 19, drops: 0, kbRecv: 1 },
          { lag: 18, drops: 0, kbRecv: 2 },
          { lag: 19, drops: 0, kbRecv: 2 },
          { lag: 19, drops: 0, kbRecv: 0 },
          { lag: 20, drops: 0, kbRecv: 3 },
          { lag: 18, drops: 0, kbRecv: 1 },
          { lag: 19, drops: 0, kbRecv: 1 },
        ],
      });
      expect(bytesToHex(bytes)).to.equal(parseVectors[0].entity_hex);
    });
    it('honours an explicit pad count', () => {
      const bytes = serializeLinkState({ nodeId: 21, startingPoint: 5, samples: [], pads: 0 });
      expect(bytesToHex(bytes)).to.equal('05030015' + '05');
    });
    it('refuses entities longer than 255 bytes', () => {
      const samples = Array.from({ length: 18 }, () => ({
        lag: 2 ** 40,
        drops: 2 ** 40,
        kbRecv: 2 ** 40,
      }));
      expect(
        errorOf(() => serializeLinkState({ nodeId: 1, startingPoint: 0, samples }))?.code,
      ).to.equal('RS_ERR_INPUT_INVALID');
    });
    it('round-trips through parseLinkState', () => {
      const u32 = fc.integer({ min: 0, max: 0xffffffff });
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 0xffff }),
          fc.integer({ min: 0, max: LINK_STATE_SLOTS - 1 }),
          fc.array(fc.record({ lag: u32, drops: u32, kbRecv: u32 }), { maxLength: 12 }),
          (nodeId, startingPoint, samples) => {
            const bytes = serializeLinkState({ nodeId, startingPoint, samples });
            expect(bytes.length % 8).to.equal(0);
            const ls = parseLinkState(bytes);
            expect(ls.nodeId).to.equal(nodeId);
            expect(ls.startingPoint).to.equal(startingPoint);
            samples.forEach((s, k) => {
              const i = (startingPoint + k) % LINK_STATE_SLOTS;
              expect([ls.lagSlots[i], ls.dropSlots[i], ls.kbRecvSlots[i]]).to.deep.equal([
                s.lag,
                s.drops,
                s.kbRecv,
              ]);
            });
            expect(ls.lagSlots.filter((x) => x !== null)).to.have.length(samples.length);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
