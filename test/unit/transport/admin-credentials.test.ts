import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN_DEFAULT_ADDR,
  ADMIN_DEFAULT_PASSWORD,
  ADMIN_DEFAULT_PORT,
  formatAdminEndpoint,
  parseAdminEndpoint,
  resolveAdminCredentials,
} from '../../../src/transport/admin-credentials.ts';

describe('transport/admin-credentials', () => {
  describe('#resolveAdminCredentials()', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'snode-cjdnsadmin-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('falls back to 127.0.0.1:11234 / NONE without a ~/.cjdnsadmin', () => {
      expect(resolveAdminCredentials({ home: dir })).to.deep.equal({
        addr: ADMIN_DEFAULT_ADDR,
        port: ADMIN_DEFAULT_PORT,
        password: ADMIN_DEFAULT_PASSWORD,
        source: 'defaults',
      });
    });

    it('reads ~/.cjdnsadmin (extra keys such as config are ignored)', () => {
      const file = join(dir, '.cjdnsadmin');
      writeFileSync(
        file,
        JSON.stringify({
          addr: '127.0.0.1',
          port: 11235,
          password: 'pw',
          config: '/etc/cjdroute.conf',
        }),
      );
      expect(resolveAdminCredentials({ home: dir })).to.deep.equal({
        addr: '127.0.0.1',
        port: 11235,
        password: 'pw',
        source: file,
      });
    });

    it('lets explicit values win field by field over the file', () => {
      writeFileSync(
        join(dir, '.cjdnsadmin'),
        JSON.stringify({ addr: '127.0.0.1', port: 11235, password: 'pw' }),
      );
      const c = resolveAdminCredentials({ home: dir, password: 'flag' });
      expect(c).to.include({ addr: '127.0.0.1', port: 11235, password: 'flag' });
    });

    it('does not read the file when addr, port and password are all given', () => {
      writeFileSync(join(dir, '.cjdnsadmin'), 'not json');
      expect(
        resolveAdminCredentials({ home: dir, addr: '[::1]', port: 1, password: 'x' }),
      ).to.deep.equal({
        addr: '::1',
        port: 1,
        password: 'x',
        source: 'config',
      });
    });

    it('refuses a file that is not plain JSON (the anchors use JSON.parse)', () => {
      writeFileSync(join(dir, '.cjdnsadmin'), '{ // comment\n "addr": "127.0.0.1" }');
      expect(() => resolveAdminCredentials({ home: dir }))
        .to.throw()
        .with.property('code', 'RS_ERR_CONFIG_INVALID');
      writeFileSync(join(dir, '.cjdnsadmin'), '{"port": "http"}');
      expect(() => resolveAdminCredentials({ home: dir }))
        .to.throw()
        .with.property('code', 'RS_ERR_CONFIG_INVALID');
    });

    it('refuses an explicit file that does not exist', () => {
      expect(() => resolveAdminCredentials({ file: join(dir, 'missing') }))
        .to.throw()
        .with.property('code', 'RS_ERR_CONFIG_INVALID');
    });
  });

  describe('#parseAdminEndpoint()', () => {
    const ok: Array<[string, { addr: string; port?: number }]> = [
      ['127.0.0.1:11234', { addr: '127.0.0.1', port: 11234 }],
      ['[::1]:11234', { addr: '::1', port: 11234 }],
      ['[fc00::1]', { addr: 'fc00::1' }],
      ['::1', { addr: '::1' }],
      ['localhost:1', { addr: 'localhost', port: 1 }],
      ['10.0.0.1', { addr: '10.0.0.1' }],
    ];
    for (const [text, want] of ok) {
      it(`reads ${text}`, () => expect(parseAdminEndpoint(text)).to.deep.equal(want));
    }
    for (const text of ['', '127.0.0.1:0', '127.0.0.1:65536', '[::1]:x', '[nope]:1', 'a:b:c']) {
      it(`refuses [${text}]`, () =>
        expect(() => parseAdminEndpoint(text))
          .to.throw()
          .with.property('code', 'RS_ERR_CONFIG_INVALID'));
    }
    it('formats IPv6 endpoints in brackets', () => {
      expect(formatAdminEndpoint('::1', 5)).to.equal('[::1]:5');
      expect(formatAdminEndpoint('127.0.0.1', 5)).to.equal('127.0.0.1:5');
    });
  });
});
