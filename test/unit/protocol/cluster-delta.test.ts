import { expect } from 'chai';
import { isRsError } from '../../../src/errors.ts';
import { expectOnlyRsErrorNear } from '../../helpers/errors.ts';
import {
  decodeClusterDelta,
  encodeClusterDelta,
  type ClusterDelta,
} from '../../../src/protocol/cluster-delta.ts';
import {
  decodeClusterEnvelope,
  encodeClusterEnvelope,
  type ClusterEnvelope,
} from '../../../src/protocol/cluster-envelope.ts';
import { SCHEMES } from '../../../src/protocol/encoding-scheme.ts';

const delta: ClusterDelta = {
  isReset: false,
  stateHash: new Uint8Array(64).fill(7),
  annHash: new Uint8Array(64).fill(9),
  version: 22,
  scheme: SCHEMES.v358,
  keptAfter: [new Uint8Array(8).fill(1), new Uint8Array(8).fill(2)],
  links: {
    kind: 'all',
    peers: [
      {
        ipv6: 'fc00:0000:0000:0000:0000:0000:0000:0002',
        links: [
          {
            label: '0000.0000.0000.0013',
            encodingFormNum: 0,
            peerNum: 1,
            mtu: 1280,
            flags: 0,
            value: 0.125,
            time: 1_700_000_000_123,
            createTime: 1_700_000_000_000,
            mostRecentLsSlot: 170_000_000,
          },
          {
            label: 'ffff.0000.abcd.0015',
            encodingFormNum: 2,
            peerNum: -5,
            mtu: 0,
            flags: 255,
            value: Number.POSITIVE_INFINITY,
            time: 1,
            createTime: 0,
            mostRecentLsSlot: 0,
          },
        ],
      },
      { ipv6: 'fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', links: [] },
    ],
  },
};

/** the same announcement had it changed fields of existing links only */
const updates: ClusterDelta = {
  ...delta,
  links: {
    kind: 'updates',
    total: 7,
    updates: [
      {
        pos: 0,
        peerNum: 3,
        mtu: 1280,
        flags: 1,
        time: 1_700_000_000_500,
        mostRecentLsSlot: 170_000_050,
        value: 12.5,
      },
      { pos: 6, peerNum: -1, mtu: 0, flags: 255, time: 2, mostRecentLsSlot: 1, value: 0 },
    ],
  },
};

function expectDeltaError(bytes: Uint8Array): void {
  try {
    decodeClusterDelta(bytes);
  } catch (e) {
    expect(isRsError(e) && e.code === 'RS_ERR_CLUSTER_ENVELOPE', String(e)).to.equal(true);
    return;
  }
  expect.fail('decoded garbage');
}

describe('cluster-delta (the record delta of a DELTA envelope)', () => {
  it('round-trips every field, link values as doubles and peerNum signed', () => {
    const back = decodeClusterDelta(encodeClusterDelta(delta));
    expect({ ...back, keptAfter: back.keptAfter.map((k) => [...k]) }).to.deep.equal({
      ...delta,
      keptAfter: delta.keptAfter.map((k) => [...k]),
    });
  });

  it('round-trips the link-updates form (fields of existing links, by position)', () => {
    const back = decodeClusterDelta(encodeClusterDelta(updates));
    expect({ ...back, keptAfter: back.keptAfter.map((k) => [...k]) }).to.deep.equal({
      ...updates,
      keptAfter: updates.keptAfter.map((k) => [...k]),
    });
    expect(encodeClusterDelta(updates).length, 'smaller than every link').to.be.below(
      encodeClusterDelta(delta).length,
    );
  });

  it('refuses every truncation and trailing garbage (RS_ERR_CLUSTER_ENVELOPE)', () => {
    for (const d of [delta, updates]) {
      const bytes = encodeClusterDelta(d);
      for (let n = 0; n < bytes.length; n++) expectDeltaError(bytes.subarray(0, n));
      expectDeltaError(new Uint8Array([...bytes, 0]));
    }
  });

  it('refuses a link update past the link count', () => {
    expect(() =>
      encodeClusterDelta({
        ...updates,
        links: {
          kind: 'updates',
          total: 1,
          updates: [
            { pos: 1, peerNum: 0, mtu: 0, flags: 0, time: 0, mostRecentLsSlot: 0, value: 0 },
          ],
        },
      }),
    )
      .to.throw()
      .with.property('code', 'RS_ERR_CLUSTER_ENVELOPE');
  });

  it("refuses link updates out of the record's link order, or one link twice", () => {
    const u = (pos: number) => ({
      pos,
      peerNum: pos,
      mtu: 0,
      flags: 0,
      time: 0,
      mostRecentLsSlot: 0,
      value: 0,
    });
    const of = (...pos: number[]): ClusterDelta => ({
      ...updates,
      links: { kind: 'updates', total: 5, updates: pos.map(u) },
    });
    for (const bad of [of(3, 1), of(2, 2)])
      expect(() => encodeClusterDelta(bad))
        .to.throw()
        .with.property('code', 'RS_ERR_CLUSTER_ENVELOPE');
    // the same bytes written by hand (the two updates swapped) are refused by the decoder
    const bytes = encodeClusterDelta(of(1, 3));
    const size = 2 + 4 + 4 + 1 + 8 * 3;
    const first = bytes.length - 2 * size;
    const swapped = new Uint8Array(bytes);
    swapped.set(bytes.subarray(first + size), first);
    swapped.set(bytes.subarray(first, first + size), first + size);
    expect(decodeClusterDelta(bytes).links).to.deep.include({ total: 5 });
    expectDeltaError(swapped);
  });

  it('never throws anything but RS_ERR_CLUSTER_ENVELOPE on arbitrary bytes', () => {
    expectOnlyRsErrorNear(encodeClusterDelta(delta), decodeClusterDelta, 'RS_ERR_CLUSTER_ENVELOPE');
  });

  it('travels in a DELTA envelope beside the announcement bytes', () => {
    const env: ClusterEnvelope = {
      kind: 'delta',
      origin: 'p1',
      seq: 3,
      acceptedAtMs: 5,
      nodeIp: 'fc00:0000:0000:0000:0000:0000:0000:0001',
      ann: new Uint8Array(130).fill(0xaa),
      delta: encodeClusterDelta(delta),
    };
    const back = decodeClusterEnvelope(encodeClusterEnvelope(env));
    expect(back).to.deep.equal(env);
    const bytes = encodeClusterEnvelope(env);
    // a DELTA envelope without its delta, or with garbage after it, is refused
    expect(() => decodeClusterEnvelope(bytes.subarray(0, bytes.length - env.delta.length - 4)))
      .to.throw()
      .with.property('code', 'RS_ERR_CLUSTER_ENVELOPE');
    expect(() => decodeClusterEnvelope(new Uint8Array([...bytes, 1])))
      .to.throw()
      .with.property('code', 'RS_ERR_CLUSTER_ENVELOPE');
  });
});
