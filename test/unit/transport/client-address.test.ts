import { expect } from 'chai';
import type { IncomingMessage } from 'node:http';
import { ClientAddress } from '../../../src/transport/client-address.ts';

const req = (remote: string, xff?: string | string[]): IncomingMessage =>
  ({
    socket: { remoteAddress: remote },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  }) as unknown as IncomingMessage;

describe('transport/client-address', () => {
  it('is the socket peer when no proxy is trusted (X-Forwarded-For ignored)', () => {
    expect(new ClientAddress([]).of(req('198.51.100.9', '203.0.113.1'))).to.equal('198.51.100.9');
  });

  it('reads X-Forwarded-For from the right through trusted proxies', () => {
    const c = new ClientAddress(['10.0.0.0/8', '::1']);
    expect(c.of(req('10.0.0.5', '203.0.113.1'))).to.equal('203.0.113.1');
    // the client wrote the left entries: only the first address a proxy saw counts
    expect(c.of(req('10.0.0.5', '1.1.1.1, 203.0.113.1'))).to.equal('203.0.113.1');
    // a chain of trusted proxies
    expect(c.of(req('::1', '203.0.113.1, 10.0.0.7'))).to.equal('203.0.113.1');
    // several header lines are one list
    expect(c.of(req('10.0.0.5', ['1.1.1.1', '203.0.113.2']))).to.equal('203.0.113.2');
  });

  it('stops at the last proxy on a missing or malformed entry', () => {
    const c = new ClientAddress(['10.0.0.0/8']);
    expect(c.of(req('10.0.0.5'))).to.equal('10.0.0.5');
    expect(c.of(req('10.0.0.5', 'garbage'))).to.equal('10.0.0.5');
    expect(c.of(req('10.0.0.5', '203.0.113.1, 10.0.0.6, nonsense'))).to.equal('10.0.0.5');
    expect(c.of(req('10.0.0.5', ''))).to.equal('10.0.0.5');
  });

  it('ignores the header of a sender that is not a trusted proxy', () => {
    expect(new ClientAddress(['10.0.0.1']).of(req('10.0.0.2', '203.0.113.1'))).to.equal('10.0.0.2');
  });
});
