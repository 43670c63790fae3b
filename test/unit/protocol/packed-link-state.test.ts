/** Packed LinkState entities read back as the parsed ones and give the same link values. */
import { expect } from 'chai';
import fc from 'fast-check';
import { applyLinkState } from '../../../src/graph/link-state.ts';
import { mkLink } from '../../../src/graph/node-record.ts';
import { entityToJson } from '../../../src/protocol/entity.ts';
import type { PeerEntity } from '../../../src/protocol/entity-types.ts';
import { parseLinkState, serializeLinkState } from '../../../src/protocol/link-state.ts';
import { PackedLinkState } from '../../../src/protocol/packed-link-state.ts';
import { mkAnn } from '../graph/fixtures.ts';

/** Serialized LinkState entities: any node id, starting points past the ring, up to 18 samples. */
const arbLsBytes = fc
  .tuple(
    fc.nat(0xffff),
    fc.nat(40),
    fc.array(fc.tuple(fc.nat(5000), fc.nat(3), fc.nat(100_000)), { maxLength: 18 }),
  )
  .map(([nodeId, sp, samples]) =>
    serializeLinkState({
      nodeId,
      startingPoint: sp,
      samples: samples.map(([lag, drops, kbRecv]) => ({ lag, drops, kbRecv })),
    }),
  );

const arbLs = arbLsBytes.map((b) => parseLinkState(b));

const PEER: PeerEntity = {
  type: 'Peer',
  ipv6: 'fc00:0000:0000:0000:0000:0000:0000:0002',
  label: '0000.0000.0000.0013',
  mtu: 0,
  peerNum: 1,
  unused: 0,
  encodingFormNum: 0,
  flags: 0,
};

describe('packed-link-state', () => {
  describe('PackedLinkState', () => {
    it('has the same slots and JSON as the parsed entity', () => {
      fc.assert(
        fc.property(arbLs, (e) => {
          const p = PackedLinkState.pack(e);
          expect(entityToJson(p)).to.deep.equal(entityToJson(e));
          expect([p.lagSlots, p.dropSlots, p.kbRecvSlots]).to.deep.equal([
            e.lagSlots,
            e.dropSlots,
            e.kbRecvSlots,
          ]);
        }),
        { numRuns: 200, seed: 0x5eed06 },
      );
    });

    it('gives the same link value and samples when applied (packed from slots or left in the bytes)', () => {
      fc.assert(
        fc.property(arbLsBytes, fc.integer({ min: 0, max: 5 }), (bytes, age) => {
          const e = parseLinkState(bytes);
          const ann = mkAnn({
            nodeIp: 'fc00:0000:0000:0000:0000:0000:0000:0001',
            timestamp: 1_700_000_000_000,
            entities: [],
          });
          const a = mkLink(PEER, ann);
          const b = mkLink(PEER, ann);
          const c = mkLink(PEER, ann);
          const t = 1_700_000_000_000 + age * 10_000;
          applyLinkState(a, e, t);
          applyLinkState(b, PackedLinkState.pack(e), t);
          const lazy = parseLinkState(bytes, true);
          expect(lazy).to.be.instanceOf(PackedLinkState);
          applyLinkState(c, lazy, t);
          expect(b.value).to.equal(a.value);
          expect(c.value).to.equal(a.value);
          expect([...b.linkState]).to.deep.equal([...a.linkState]);
          expect([...c.linkState]).to.deep.equal([...a.linkState]);
        }),
        { numRuns: 200, seed: 0x5eed07 },
      );
    });
  });

  describe('parseLinkState(bytes, packed)', () => {
    it('reads the same values and fails with the same errors as the unpacked parse, on any bytes', () => {
      let parsedOk = 0;
      const outcome = (f: () => unknown): unknown => {
        try {
          const e = f() as {
            type: string;
            nodeId: number;
            startingPoint: number;
            lagSlots: unknown;
            dropSlots: unknown;
            kbRecvSlots: unknown;
          };
          parsedOk++;
          return {
            type: e.type,
            nodeId: e.nodeId,
            startingPoint: e.startingPoint,
            lag: e.lagSlots,
            drops: e.dropSlots,
            kb: e.kbRecvSlots,
          };
        } catch (err) {
          const x = err as { code: string; message: string };
          return { code: x.code, message: x.message };
        }
      };
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (raw, wellFramed) => {
          const b = raw.slice();
          if (wellFramed && b.length > 2) {
            b[0] = b.length;
            b[1] = 3;
            b[2] = 0;
          }
          expect(outcome(() => parseLinkState(b, true))).to.deep.equal(
            outcome(() => parseLinkState(b)),
          );
        }),
        { numRuns: 5000, seed: 0x5eed08 },
      );
      expect(parsedOk).to.be.greaterThan(300); // both parses counted: enough well-formed inputs
    });
  });
});
