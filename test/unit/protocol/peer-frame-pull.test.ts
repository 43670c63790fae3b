import { expect } from 'chai';
import fc from 'fast-check';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import {
  type PeerFrameLimits,
  type PeerMessage,
  decodePeerFrame,
  decodePeerFrameInFull,
  encodePeerFrame,
} from '../../../src/protocol/peer-frame.ts';
import { readPullFrame } from '../../../src/protocol/peer-frame-pull.ts';
import { seqArb } from '../../helpers/peer-frame-arbitraries.ts';

/** The outcome of a decoder: its message, or its error's message. */
function outcome(f: () => PeerMessage): { ok: PeerMessage } | { error: string } {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const hash = (b: number): string => bytesToHex(new Uint8Array(64).fill(b));

describe('peer-frame-pull', () => {
  describe('#readPullFrame()', () => {
    const cases: Array<[string, string, PeerMessage]> = [
      [
        'fixint seq, bin8 DATA',
        '9301a444415441c403010203',
        { type: 'DATA', seq: 1, data: Uint8Array.of(1, 2, 3) },
      ],
      ['uint8 seq, nil DATA', '93cc80a444415441c0', { type: 'DATA', seq: 128, data: null }],
      [
        'uint16 seq, empty bin',
        '93cd0100a444415441c400',
        { type: 'DATA', seq: 256, data: new Uint8Array(0) },
      ],
      [
        'uint32 seq, bin16 DATA',
        '93ce00010000a444415441c50002abcd',
        { type: 'DATA', seq: 65536, data: Uint8Array.of(0xab, 0xcd) },
      ],
      [
        'uint64 seq (a ms timestamp), bin32 DATA',
        '93cf0000018bcfe5687ba444415441c60000000109',
        { type: 'DATA', seq: 1700000000123, data: Uint8Array.of(9) },
      ],
      [
        'GET_DATA of a 64-byte hash',
        `9305a84745545f44415441c440${hash(7)}`,
        { type: 'GET_DATA', seq: 5, hash: hexToBytes(hash(7)) },
      ],
    ];
    for (const [what, hex, msg] of cases) {
      it(`reads ${what}, as the general decoder does`, () => {
        expect(readPullFrame(hexToBytes(hex), 64)).to.deep.equal(msg);
        expect(decodePeerFrameInFull(hexToBytes(hex))).to.deep.equal(msg);
      });
    }

    const declined: Array<[string, string]> = [
      ['a seq beyond 2^53 − 1', '93cf0020000000000000a444415441c0'],
      ['a negative seq', '93ffa444415441c0'],
      ['a byte after the payload', '9301a444415441c0ff'],
      ['a bin shorter than it says', '9301a444415441c40501'],
      ['a hash of 4 bytes', '9301a84745545f44415441c40401020304'],
      ['an empty hash', '9301a84745545f44415441c400'],
      ['the type as str8', '9301d90444415441c0'],
      ['a fourth element', '9401a444415441c0c0'],
      ['a PING', '9201a450494e47'],
      ['a DATA payload that is a string', '9301a444415441a3616263'],
      ['a truncated seq', '93cd01'],
    ];
    for (const [what, hex] of declined) {
      it(`leaves ${what} to the general decoder (the same outcome through decodePeerFrame)`, () => {
        const b = hexToBytes(hex);
        expect(readPullFrame(b, 64)).to.equal(undefined);
        expect(outcome(() => decodePeerFrame(b))).to.deep.equal(
          outcome(() => decodePeerFrameInFull(b)),
        );
      });
    }

    it('takes a hash of any non-empty length with hashBytes null', () => {
      expect(readPullFrame(hexToBytes('9301a84745545f44415441c40401020304'), null)).to.deep.equal({
        type: 'GET_DATA',
        seq: 1,
        hash: Uint8Array.of(1, 2, 3, 4),
      });
    });

    it('returns copies, not views into the frame', () => {
      const b = hexToBytes('9301a444415441c403010203');
      const m = readPullFrame(b, 64) as { data: Uint8Array };
      b.fill(0);
      expect([...m.data]).to.deep.equal([1, 2, 3]);
      expect(m.data.buffer).to.not.equal(b.buffer);
    });
  });

  describe('decodePeerFrame with the shortcut', () => {
    const seq = seqArb;
    const pull: fc.Arbitrary<PeerMessage> = fc.oneof(
      fc.record({
        type: fc.constant('GET_DATA' as const),
        seq,
        hash: fc.uint8Array({ minLength: 1, maxLength: 80 }),
      }),
      fc.record({
        type: fc.constant('DATA' as const),
        seq,
        data: fc.option(fc.uint8Array({ maxLength: 70_000 }), { nil: null, freq: 4 }),
      }),
    );
    const limits: PeerFrameLimits[] = [{}, { hashBytes: null }, { hashBytes: 4 }];

    it('gives what the general decoder gives on every pull frame (property)', () => {
      fc.assert(
        fc.property(pull, fc.constantFrom(...limits), (msg, lim) => {
          const b = encodePeerFrame(msg);
          expect(outcome(() => decodePeerFrame(b, lim))).to.deep.equal(
            outcome(() => decodePeerFrameInFull(b, lim)),
          );
        }),
      );
    });

    it('gives what the general decoder gives on mutated, cut and extended pull frames (property)', () => {
      fc.assert(
        fc.property(
          pull.filter((m) => m.type !== 'DATA' || (m.data?.length ?? 0) < 300),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
            minLength: 1,
            maxLength: 3,
          }),
          fc.integer({ min: -3, max: 3 }),
          (msg, edits, cut) => {
            const e = encodePeerFrame(msg);
            // up to 3 bytes cut off the end, or up to 3 nil bytes added after it
            const b =
              cut > 0
                ? Uint8Array.from([...e, ...new Uint8Array(cut).fill(0xc0)])
                : e.slice(0, Math.max(1, e.length + cut));
            for (const [i, v] of edits) b[i % Math.min(b.length, 16)] = v; // the header bytes
            expect(outcome(() => decodePeerFrame(b))).to.deep.equal(
              outcome(() => decodePeerFrameInFull(b)),
            );
          },
        ),
        { numRuns: 2000 },
      );
    });
  });
});
