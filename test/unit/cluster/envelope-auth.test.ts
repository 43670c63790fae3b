import { expect } from 'chai';
import { createHmac, randomBytes } from 'node:crypto';
import {
  ENVELOPE_TAG_BYTES,
  EnvelopeAuth,
  UNSEALED,
  generateClusterKey,
  parseClusterKey,
} from '../../../src/cluster/envelope-auth.ts';

describe('cluster envelope authentication (HMAC-SHA256 with the cluster key)', () => {
  const key = parseClusterKey(generateClusterKey());
  const auth = new EnvelopeAuth(key);
  const envelope = new Uint8Array(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff));

  it('opens what it sealed: the envelope, then a 32-byte tag', () => {
    const sealed = auth.seal(envelope);
    expect(sealed.length).to.equal(envelope.length + ENVELOPE_TAG_BYTES);
    expect(Buffer.from(auth.open(sealed)).equals(Buffer.from(envelope))).to.equal(true);
  });

  it('refuses a bare envelope, one sealed with another key, and any flipped bit (RS_ERR_CLUSTER_UNAUTHENTICATED)', () => {
    const other = new EnvelopeAuth(parseClusterKey(generateClusterKey()));
    const sealed = auth.seal(envelope);
    const refused = (b: Uint8Array): void => {
      expect(() => auth.open(b))
        .to.throw()
        .with.property('code', 'RS_ERR_CLUSTER_UNAUTHENTICATED');
    };
    refused(envelope);
    refused(other.seal(envelope));
    refused(new Uint8Array(0));
    refused(sealed.subarray(0, ENVELOPE_TAG_BYTES));
    for (const at of [0, 10, envelope.length - 1, envelope.length, sealed.length - 1]) {
      const t = sealed.slice();
      t[at]! ^= 0x01;
      refused(t);
    }
  });

  it('the tag is HMAC-SHA256(key, context ‖ envelope) at every size, small and large, in any order', () => {
    const context = Buffer.from('snode-cluster-envelope-v1\0', 'latin1');
    const sizes = [1, 55, 56, 63, 64, 65, 300, 1023, 1024, 1025, 5000, 65_536, 65_537, 300_000, 7];
    for (const n of sizes) {
      const e = randomBytes(n);
      const want = createHmac('sha256', key).update(context).update(e).digest();
      const sealed = auth.seal(e);
      expect(Buffer.from(sealed.subarray(n)).equals(want), `${n} bytes`).to.equal(true);
      expect(Buffer.from(auth.open(sealed)).equals(e)).to.equal(true);
    }
  });

  it('takes a key of 64 hex digits only (RS_ERR_CONFIG_INVALID)', () => {
    for (const bad of ['', 'zz'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33)])
      expect(() => parseClusterKey(bad))
        .to.throw()
        .with.property('code', 'RS_ERR_CONFIG_INVALID');
    expect(() => new EnvelopeAuth(new Uint8Array(16)))
      .to.throw()
      .with.property('code', 'RS_ERR_CONFIG_INVALID');
  });

  it('the embedded bus seals nothing', () => {
    expect(UNSEALED.seal(envelope)).to.equal(envelope);
    expect(UNSEALED.open(envelope)).to.equal(envelope);
  });
});
