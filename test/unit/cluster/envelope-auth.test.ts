import { expect } from 'chai';
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
