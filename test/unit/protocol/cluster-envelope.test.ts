import { expect } from 'chai';
import fc from 'fast-check';
import { isRsError } from '../../../src/errors.ts';
import { expectOnlyRsErrorNear } from '../../helpers/errors.ts';
import {
  STREAM_ID_ZERO,
  compareStreamIds,
  decodeClusterEnvelope,
  decodeClusterFrame,
  decodeSnapshotRecord,
  encodeClusterEnvelope,
  encodeClusterFrame,
  encodeSnapshotRecord,
  type ClusterEnvelope,
} from '../../../src/protocol/cluster-envelope.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';

const NODE = 'fc00:0000:0000:0000:0000:0000:0000:0001';
const ann = (fill: number, len = 120): Uint8Array => new Uint8Array(len).fill(fill);

const annEnv: ClusterEnvelope = {
  kind: 'ann',
  origin: 'p1',
  seq: 5,
  acceptedAtMs: 1_700_000_000_000,
  nodeIp: NODE,
  ann: ann(0xaa),
};

/** the exact bytes of annEnv, field by field */
const ANN_ENV_HEX =
  '4342' + // magic "CB"
  '01' + // format version
  '01' + // kind ANN
  '02' +
  '7031' + // origin "p1"
  '0000000000000005' + // seq
  '0000018bcfe56800' + // acceptedAtMs
  'fc000000000000000000000000000001' + // nodeIp
  '0001' + // one announcement
  '00000078' +
  'aa'.repeat(120);

function expectEnvelopeError(bytes: Uint8Array, pattern?: RegExp): void {
  try {
    decodeClusterEnvelope(bytes);
  } catch (e) {
    expect(isRsError(e), String(e)).to.equal(true);
    expect((e as { code: string }).code).to.equal('RS_ERR_CLUSTER_ENVELOPE');
    if (pattern) expect((e as Error).message).to.match(pattern);
    return;
  }
  expect.fail('decoded garbage');
}

describe('cluster-envelope', () => {
  describe('#encodeClusterEnvelope() / #decodeClusterEnvelope()', () => {
    it('encodes an ANN envelope to the documented bytes', () => {
      expect(bytesToHex(encodeClusterEnvelope(annEnv))).to.equal(ANN_ENV_HEX);
    });

    it('round-trips ANN and SNAPSHOT envelopes', () => {
      expect(decodeClusterEnvelope(hexToBytes(ANN_ENV_HEX))).to.deep.equal(annEnv);
      const snap: ClusterEnvelope = {
        kind: 'snapshot',
        origin: 'host-12.a:b@c',
        seq: Number.MAX_SAFE_INTEGER,
        acceptedAtMs: 0,
        nodeIp: 'fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
        resetMsg: ann(1),
        keptOldestFirst: [ann(1), ann(2, 300), ann(3, 65536)],
      };
      expect(decodeClusterEnvelope(encodeClusterEnvelope(snap))).to.deep.equal(snap);
      const bare: ClusterEnvelope = { ...snap, keptOldestFirst: [] };
      expect(decodeClusterEnvelope(encodeClusterEnvelope(bare))).to.deep.equal(bare);
    });

    it('refuses to encode what it could not decode', () => {
      for (const bad of [
        { ...annEnv, origin: '' },
        { ...annEnv, origin: 'x'.repeat(65) },
        { ...annEnv, origin: 'sp ace' },
        { ...annEnv, seq: 0 },
        { ...annEnv, seq: 1.5 },
        { ...annEnv, acceptedAtMs: -1 },
        { ...annEnv, nodeIp: 'fd00::1' },
        { ...annEnv, nodeIp: 'nope' },
        { ...annEnv, ann: ann(0, 119) },
        { ...annEnv, ann: ann(0, 65537) },
      ] as ClusterEnvelope[]) {
        expect(() => encodeClusterEnvelope(bad))
          .to.throw()
          .with.property('code', 'RS_ERR_CLUSTER_ENVELOPE');
      }
    });

    it('fails with RS_ERR_CLUSTER_ENVELOPE on every truncation', () => {
      const full = hexToBytes(ANN_ENV_HEX);
      for (let n = 0; n < full.length; n++) expectEnvelopeError(full.subarray(0, n));
    });

    const patch = (offset: number, bytes: number[]): Uint8Array => {
      const b = hexToBytes(ANN_ENV_HEX);
      b.set(bytes, offset);
      return b;
    };
    const vectors: Array<[string, Uint8Array, RegExp]> = [
      ['bad magic', patch(0, [0x43, 0x43]), /magic/],
      ['unknown format version', patch(2, [2]), /version 2/],
      ['unknown kind', patch(3, [4]), /kind 4/],
      ['zero-length origin', patch(4, [0]), /origin length 0/],
      ['origin outside the alphabet', patch(5, [0x20]), /origin has characters/],
      ['seq 0', patch(7, [0, 0, 0, 0, 0, 0, 0, 0]), /seq 0/],
      ['seq above 2^53-1', patch(7, [0, 0x20, 0, 0, 0, 0, 0, 0]), /exceeds 2\^53-1/],
      ['node outside fc00::/8', patch(23, [0xfd]), /not fc00/],
      ['ANN with 2 announcements', patch(39, [0, 2]), /exactly 1/],
      ['ANN with 0 announcements', patch(39, [0, 0]), /exactly 1/],
      ['announcement shorter than a header', patch(41, [0, 0, 0, 119]), /of 119 bytes/],
      ['announcement longer than the bound', patch(41, [0, 1, 0, 1]), /of 65537 bytes/],
      ['trailing garbage', new Uint8Array([...hexToBytes(ANN_ENV_HEX), 0]), /garbage/],
    ];
    for (const [name, bytes, pattern] of vectors) {
      it(`rejects ${name}`, () => expectEnvelopeError(bytes, pattern));
    }

    it('never throws anything but RS_ERR_CLUSTER_ENVELOPE on arbitrary bytes', () => {
      expectOnlyRsErrorNear(
        hexToBytes(ANN_ENV_HEX),
        decodeClusterEnvelope,
        'RS_ERR_CLUSTER_ENVELOPE',
      );
    });
  });

  describe('#encodeClusterFrame() / #decodeClusterFrame()', () => {
    it('carries the entry id, the previous id and the envelope', () => {
      const envelope = hexToBytes(ANN_ENV_HEX);
      const bytes = encodeClusterFrame({ id: '1700000000000-3', prevId: STREAM_ID_ZERO, envelope });
      expect(Buffer.from(bytes.subarray(0, 18)).toString('latin1')).to.equal('1700000000000-3 0-');
      const f = decodeClusterFrame(bytes);
      expect(f.id).to.equal('1700000000000-3');
      expect(f.prevId).to.equal('0-0');
      expect(bytesToHex(f.envelope)).to.equal(ANN_ENV_HEX);
    });

    it('rejects frames without valid id prefixes', () => {
      for (const text of [
        '',
        'abc',
        '1-1',
        '1-1 2-2',
        'x-1 2-2 e',
        '1-1  e',
        '1-1 2 e',
        `${'9'.repeat(30)}-1 1-1 e`,
      ]) {
        expect(() => decodeClusterFrame(new Uint8Array(Buffer.from(text, 'latin1'))), text)
          .to.throw()
          .with.property('code', 'RS_ERR_CLUSTER_ENVELOPE');
      }
    });
  });

  describe('#encodeSnapshotRecord() / #decodeSnapshotRecord()', () => {
    it('round-trips', () => {
      const envelope = hexToBytes(ANN_ENV_HEX);
      const rec = decodeSnapshotRecord(encodeSnapshotRecord({ id: '5-0', envelope }));
      expect(rec.id).to.equal('5-0');
      expect(bytesToHex(rec.envelope)).to.equal(ANN_ENV_HEX);
    });
  });

  describe('#compareStreamIds()', () => {
    it('orders by milliseconds, then sequence, numerically', () => {
      expect(compareStreamIds('1-0', '1-0')).to.equal(0);
      expect(compareStreamIds('9-0', '10-0')).to.be.lessThan(0);
      expect(compareStreamIds('10-2', '10-10')).to.be.lessThan(0);
      expect(
        compareStreamIds('18446744073709551615-0', '18446744073709551614-99'),
      ).to.be.greaterThan(0);
      expect(() => compareStreamIds('1', '1-0'))
        .to.throw()
        .with.property('code', 'RS_ERR_CLUSTER_ENVELOPE');
    });

    it('agrees with the numeric order of both parts, at any length and with leading zeros', () => {
      const part = fc.oneof(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
        fc.nat(20).map(String),
        fc.tuple(fc.nat(3), fc.nat(99)).map(([z, v]) => '0'.repeat(z) + String(v)),
      );
      const id = fc.tuple(part, part).map(([m, q]) => `${m}-${q}`);
      fc.assert(
        fc.property(id, id, (a, b) => {
          const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
          const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
          const want = am !== bm ? (am < bm ? -1 : 1) : as !== bs ? (as < bs ? -1 : 1) : 0;
          expect(compareStreamIds(a, b)).to.equal(want);
          expect(compareStreamIds(b, a)).to.equal(-want);
        }),
        { numRuns: 2000 },
      );
    });

    it('refuses what is not `digits-digits` (1–20 digits each)', () => {
      for (const bad of [
        '-1',
        '1-',
        '1--2',
        'a-1',
        '1-1-1',
        ' 1-1',
        '1-1 ',
        `${'1'.repeat(21)}-0`,
        `0-${'1'.repeat(21)}`,
        '1-0x1',
        '',
      ])
        expect(() => compareStreamIds(bad, '1-0'), bad)
          .to.throw()
          .with.property('code', 'RS_ERR_CLUSTER_ENVELOPE');
      expect(compareStreamIds(`${'9'.repeat(20)}-${'9'.repeat(20)}`, '1-0')).to.equal(1);
    });
  });
});
