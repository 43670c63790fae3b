/**
 * Configuration: defaults, the three sources (file, SNODE_* environment, flags) and their
 * precedence, the original cjdnsnode `config.js` shape, and validation errors that name the key.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, mergeConfig, validateConfig } from '../../src/config.ts';
import { configFromEnv } from '../../src/config-env.ts';
import { readConfigFile } from '../../src/config-file.ts';

function configError(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string };
  }
  expect.fail('expected the configuration to be rejected');
}

describe('config', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'snode-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  }

  describe('defaults', () => {
    it('serves on auto (loopback, plus the cjdns address) port 3333, admin on 127.0.0.1:3335, with no peers, no cjdns, log level info', () => {
      const c = loadConfig({ env: {} });
      expect(c.http.host).to.equal('auto');
      expect(c.http.trustedProxies).to.deep.equal([]);
      expect(c.http.heavy).to.deep.equal({
        perAddress: 2,
        total: 16,
        writeTimeoutMs: 30_000,
        deadlineMs: 600_000,
      });
      expect(c.admin).to.deep.equal({ enabled: true, host: '127.0.0.1', port: 3335 });
      expect(c.replication.maxInboundPeersPerAddress).to.equal(4);
      expect(c.http.port).to.equal(3333);
      expect(c.http.maxBodyBytes).to.equal(64 * 1024);
      expect(c.http.requestTimeoutMs).to.equal(10_000);
      expect(c.peers).to.deep.equal([]);
      expect(c.cjdns.enabled).to.equal(false);
      expect(c.log.level).to.equal('info');
      expect(c.identity.file).to.equal('.snode/identity.json');
      expect(c.identity.version).to.equal(22);
      expect(c.identity.privateKey).to.equal(undefined);
    });

    it('an empty object validates to the same defaults', () => {
      expect(validateConfig({})).to.deep.equal(loadConfig({ env: {} }));
    });

    it('ignores unrelated and empty environment variables', () => {
      const c = loadConfig({ env: { PATH: '/bin', SNODE_HTTP_PORT: '', HOME: '/root' } });
      expect(c.http.port).to.equal(3333);
    });
  });

  describe('sources and precedence', () => {
    it('reads a JSON file', () => {
      const p = file(
        'a.json',
        JSON.stringify({
          http: { host: '127.0.0.1', port: 4000 },
          peers: ['ws://[fc00::1]:3333/cjdnsnode_websocket'],
          log: { level: 'warn' },
        }),
      );
      const c = loadConfig({ file: p, env: {} });
      expect(c.http.host).to.equal('127.0.0.1');
      expect(c.http.port).to.equal(4000);
      expect(c.http.maxBodyBytes).to.equal(
        64 * 1024,
        'unset keys of a section keep their defaults',
      );
      expect(c.peers).to.deep.equal(['ws://[fc00::1]:3333/cjdnsnode_websocket']);
      expect(c.log.level).to.equal('warn');
    });

    it('reads every SNODE_* variable', () => {
      const env = {
        SNODE_HTTP_HOST: '127.0.0.2',
        SNODE_HTTP_PORT: '4001',
        SNODE_HTTP_MAX_BODY_BYTES: '1024',
        SNODE_HTTP_TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16,',
        SNODE_ADMIN_HOST: '::1',
        SNODE_ADMIN_PORT: '4002',
        SNODE_ADMIN_TOKEN: 'a-token-of-16-chars-or-more',
        SNODE_IDENTITY_PRIVATE_KEY: 'ab'.repeat(32),
        SNODE_IDENTITY_FILE: '/tmp/x.json',
        SNODE_IDENTITY_VERSION: '21',
        SNODE_LOG_LEVEL: 'debug',
        SNODE_CJDNS_ADMIN_ADDR: '127.0.0.1',
        SNODE_CJDNS_ADMIN_PORT: '11234',
        SNODE_CJDNS_ADMIN_PASSWORD: 'NONE',
        SNODE_CJDNS: 'true',
        SNODE_PEERS: 'ws://a:1/cjdnsnode_websocket, wss://b:2/cjdnsnode_websocket,',
      };
      const c = loadConfig({ env });
      expect(c.http).to.deep.equal({
        host: '127.0.0.2',
        port: 4001,
        maxBodyBytes: 1024,
        requestTimeoutMs: 10_000,
        trustedProxies: ['10.0.0.1', '192.168.0.0/16'],
        heavy: { perAddress: 2, total: 16, writeTimeoutMs: 30_000, deadlineMs: 600_000 },
      });
      expect(c.admin).to.deep.equal({
        enabled: true,
        host: '::1',
        port: 4002,
        token: 'a-token-of-16-chars-or-more',
      });
      expect(loadConfig({ env: { SNODE_ADMIN: '0' } }).admin.enabled).to.equal(false);
      expect(() => loadConfig({ env: { SNODE_HTTP_TRUSTED_PROXIES: 'haproxy' } })).to.throw(
        /http\.trustedProxies\.0/,
      );
      expect(c.identity).to.deep.equal({
        privateKey: 'ab'.repeat(32),
        file: '/tmp/x.json',
        version: 21,
      });
      expect(c.log.level).to.equal('debug');
      expect(c.cjdns).to.deep.equal({
        enabled: true,
        adminAddr: '127.0.0.1',
        adminPort: 11234,
        adminPassword: 'NONE',
      });
      expect(c.peers).to.deep.equal([
        'ws://a:1/cjdnsnode_websocket',
        'wss://b:2/cjdnsnode_websocket',
      ]);
    });

    it('flags > environment > file > defaults, key by key', () => {
      const p = file(
        'prec.json',
        JSON.stringify({
          http: { host: '10.0.0.1', port: 1111, maxBodyBytes: 2048 },
          log: { level: 'error' },
          peers: ['ws://file/x'],
        }),
      );
      const env = { SNODE_HTTP_PORT: '2222', SNODE_LOG_LEVEL: 'warn', SNODE_PEERS: 'ws://env/x' };
      const fileOnly = loadConfig({ file: p, env: {} });
      expect([
        fileOnly.http.host,
        fileOnly.http.port,
        fileOnly.log.level,
        fileOnly.peers,
      ]).to.deep.equal(['10.0.0.1', 1111, 'error', ['ws://file/x']]);

      const fileEnv = loadConfig({ file: p, env });
      expect([
        fileEnv.http.host,
        fileEnv.http.port,
        fileEnv.http.maxBodyBytes,
        fileEnv.log.level,
        fileEnv.peers,
      ]).to.deep.equal(['10.0.0.1', 2222, 2048, 'warn', ['ws://env/x']]);

      const all = loadConfig({
        file: p,
        env,
        overrides: { http: { port: 3333 }, peers: ['ws://flag/x'] },
      });
      expect(all.http.host).to.equal('10.0.0.1', 'file value survives when nobody overrides it');
      expect(all.http.port).to.equal(3333, 'flag beats env and file');
      expect(all.http.maxBodyBytes).to.equal(2048);
      expect(all.log.level).to.equal('warn', 'env beats file');
      expect(all.peers).to.deep.equal(['ws://flag/x'], 'arrays are replaced, not concatenated');
    });

    it('an undefined override does not erase a lower source', () => {
      const c = loadConfig({
        env: { SNODE_HTTP_HOST: '127.0.0.9' },
        overrides: { http: { host: undefined, port: 5000 } },
      });
      expect(c.http.host).to.equal('127.0.0.9');
      expect(c.http.port).to.equal(5000);
    });

    it('flag strings are coerced like environment strings (serve passes --port as text)', () => {
      const c = loadConfig({ env: {}, overrides: { http: { port: '4242' as unknown as number } } });
      expect(c.http.port).to.equal(4242);
    });

    it('mergeConfig deep-merges objects and replaces arrays and scalars', () => {
      expect(
        mergeConfig({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: 2, e: undefined }),
      ).to.deep.equal({ a: { b: 1, c: [3] }, d: 2 });
    });

    it('configFromEnv builds only the keys that are set', () => {
      expect(configFromEnv({})).to.deep.equal({});
      expect(configFromEnv({ SNODE_HTTP_PORT: '1' })).to.deep.equal({ http: { port: '1' } });
    });

    it('SNODE_IDENTITY_PUBLIC_KEY sets identity.publicKey (a cjdns key only)', () => {
      const key = '5tuqmmh7pud922brcpffm81024j0ld2q2wzcb1xz1xfwx85vgl00.k';
      expect(loadConfig({ env: { SNODE_IDENTITY_PUBLIC_KEY: key } }).identity.publicKey).to.equal(
        key,
      );
      const e = configError(() =>
        loadConfig({ env: { SNODE_IDENTITY_PUBLIC_KEY: 'ab'.repeat(32) } }),
      );
      expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(e.message).to.contain('identity.publicKey');
    });

    it('a cluster on Redis needs SNODE_CLUSTER_KEY (64 hex digits); the embedded bus does not', () => {
      const key = 'ab'.repeat(32);
      const url = 'redis://:pw@127.0.0.1:6379';
      expect(
        loadConfig({ env: { SNODE_CLUSTER_REDIS_URL: url, SNODE_CLUSTER_KEY: key } }).cluster.key,
      ).to.equal(key);
      expect(loadConfig({ env: {} }).cluster.key).to.equal(undefined);
      const missing = configError(() => loadConfig({ env: { SNODE_CLUSTER_REDIS_URL: url } }));
      expect(missing.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(missing.message).to.contain('cluster.key');
      const sentinels = configError(() =>
        loadConfig({ env: { SNODE_CLUSTER_SENTINELS: '127.0.0.1:26379' } }),
      );
      expect(sentinels.message).to.contain('cluster.key');
      const bad = configError(() =>
        loadConfig({ env: { SNODE_CLUSTER_REDIS_URL: url, SNODE_CLUSTER_KEY: 'ab'.repeat(16) } }),
      );
      expect(bad.message).to.contain('cluster.key');
    });
  });

  describe('the state directory (systemd StateDirectory=)', () => {
    it('puts the identity file under $STATE_DIRECTORY (the first one when several)', () => {
      expect(loadConfig({ env: { STATE_DIRECTORY: '/var/lib/snode' } }).identity.file).to.equal(
        '/var/lib/snode/identity.json',
      );
      expect(
        loadConfig({ env: { STATE_DIRECTORY: '/var/lib/snode:/var/lib/other' } }).identity.file,
      ).to.equal('/var/lib/snode/identity.json');
    });

    it('is only a default: the file, SNODE_IDENTITY_FILE and --identity-file win', () => {
      const env = { STATE_DIRECTORY: '/var/lib/snode' };
      const p = file('state.json', JSON.stringify({ identity: { file: '/etc/snode/id.json' } }));
      expect(loadConfig({ file: p, env }).identity.file).to.equal('/etc/snode/id.json');
      expect(
        loadConfig({ env: { ...env, SNODE_IDENTITY_FILE: '/srv/id.json' } }).identity.file,
      ).to.equal('/srv/id.json');
      expect(
        loadConfig({ env, overrides: { identity: { file: '/flag/id.json' } } }).identity.file,
      ).to.equal('/flag/id.json');
    });

    it('without it (or empty) the identity stays at .snode/identity.json', () => {
      expect(loadConfig({ env: { STATE_DIRECTORY: '' } }).identity.file).to.equal(
        '.snode/identity.json',
      );
    });

    it('puts the announcement log there too; the file, SNODE_STORE_PATH and --store-path win', () => {
      const env = { STATE_DIRECTORY: '/var/lib/snode:/var/lib/other' };
      expect(loadConfig({ env }).store).to.deep.equal({
        mode: 'file',
        path: '/var/lib/snode/announcements.log',
      });
      expect(loadConfig({ env: {} }).store).to.deep.equal({
        mode: 'file',
        path: '.snode/announcements.log',
      });
      const p = file('store.json', JSON.stringify({ store: { path: '/etc/snode/a.log' } }));
      expect(loadConfig({ file: p, env }).store.path).to.equal('/etc/snode/a.log');
      expect(
        loadConfig({ env: { ...env, SNODE_STORE_PATH: '/srv/a.log', SNODE_STORE_MODE: 'memory' } })
          .store,
      ).to.deep.equal({ mode: 'memory', path: '/srv/a.log' });
      expect(
        loadConfig({ env, overrides: { store: { path: '/flag/a.log', mode: 'off' } } }).store,
      ).to.deep.equal({ mode: 'off', path: '/flag/a.log' });
      const e = configError(() => loadConfig({ env: { SNODE_STORE_MODE: 'disk' } }));
      expect(e.message).to.contain('store.mode');
    });
  });

  describe('the original cjdnsnode config.js', () => {
    it('reads module.exports = {connectCjdns, peers} with comments, single quotes and trailing commas', () => {
      const p = file(
        'config.js',
        [
          '/* cjdnsnode configuration */',
          "'use strict';",
          'module.exports = {',
          '    // talk to the local cjdns node over its admin API',
          '    connectCjdns: true,',
          '    peers: [',
          "        'ws://[fc50:71b5:aebf:7b70:6577:ec8:2542:9dd9]:3333/cjdnsnode_websocket', // sydney",
          '        // "ws://[fc00::2]:3333/cjdnsnode_websocket",',
          '    ],',
          '};',
          '',
        ].join('\n'),
      );
      const raw = readConfigFile(p);
      expect(raw).to.deep.equal({
        cjdns: { enabled: true },
        peers: ['ws://[fc50:71b5:aebf:7b70:6577:ec8:2542:9dd9]:3333/cjdnsnode_websocket'],
      });
      const c = loadConfig({ file: p, env: {} });
      expect(c.cjdns.enabled).to.equal(true);
      expect(c.peers).to.deep.equal([
        'ws://[fc50:71b5:aebf:7b70:6577:ec8:2542:9dd9]:3333/cjdnsnode_websocket',
      ]);
      expect(c.http.port).to.equal(3333);
    });

    it('connectCjdns: false and an empty peer list', () => {
      const p = file('config2.js', 'module.exports = {\n  connectCjdns: false,\n  peers: []\n}\n');
      const c = loadConfig({ file: p, env: {} });
      expect(c.cjdns.enabled).to.equal(false);
      expect(c.peers).to.deep.equal([]);
    });

    it('the same keys in a JSON file are translated too', () => {
      const p = file(
        'orig.json',
        JSON.stringify({ connectCjdns: true, peers: ['wss://x/cjdnsnode_websocket'] }),
      );
      const c = loadConfig({ file: p, env: {} });
      expect(c.cjdns.enabled).to.equal(true);
      expect(c.peers).to.deep.equal(['wss://x/cjdnsnode_websocket']);
    });

    it('a JS file without module.exports is RS_ERR_CONFIG_INVALID', () => {
      const p = file('bad.js', 'const x = 1;\n');
      const e = configError(() => loadConfig({ file: p, env: {} }));
      expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(e.message).to.contain(p);
    });

    it('a config.js whose object is not data is RS_ERR_CONFIG_INVALID', () => {
      const p = file('code.js', 'module.exports = { peers: require("./peers") };\n');
      expect(configError(() => loadConfig({ file: p, env: {} })).code).to.equal(
        'RS_ERR_CONFIG_INVALID',
      );
    });
  });

  describe("the Rust port's config.json", () => {
    // cjdns-snode/config.example.json of the Rust port, with passwords filled in
    const rust = {
      connectCjdns: false,
      peers: ['ws://[fc50:71b5:aebf:7b70:6577:ec8:2542:9dd9]:3333/cjdnsnode_websocket'],
      seeder: {
        tester_passwds: ['t1', 't2'],
        nameserver_passwds: ['n1'],
        max_connection_count: 64,
        share_peers_with_nameserver: 20,
      },
    };

    it('loads as it is: the seeder section keeps its keys, ours get their defaults', () => {
      const c = loadConfig({ file: file('rust.json', JSON.stringify(rust, null, 4)), env: {} });
      expect(c.cjdns.enabled).to.equal(false);
      expect(c.peers).to.deep.equal(rust.peers);
      expect(c.seeder).to.deep.equal({
        ...rust.seeder,
        max_entries: 10_000,
        max_entries_per_node: 4,
        expire_after_sec: 3600,
      });
    });

    it('without a seeder section: the Rust example values and no passwords', () => {
      expect(loadConfig({ env: {} }).seeder).to.include({
        max_connection_count: 128,
        share_peers_with_nameserver: 50,
      });
      expect(loadConfig({ env: {} }).seeder.tester_passwds).to.deep.equal([]);
    });

    it('refuses unknown seeder keys, empty passwords and out-of-range numbers, naming the key', () => {
      const bad: Array<[unknown, string]> = [
        [{ tester_passwd: [] }, 'seeder.tester_passwd'],
        [{ nameserver_passwds: [''] }, 'seeder.nameserver_passwds.0'],
        [{ tester_passwds: 'pw' }, 'seeder.tester_passwds'],
        [{ max_connection_count: -1 }, 'seeder.max_connection_count'],
        [{ expire_after_sec: 1 }, 'seeder.expire_after_sec'],
        [{ max_entries: 0 }, 'seeder.max_entries'],
      ];
      for (const [seeder, key] of bad) {
        const e = configError(() => validateConfig({ seeder }));
        expect(e.code, key).to.equal('RS_ERR_CONFIG_INVALID');
        expect(e.message, key).to.contain(key);
      }
    });
  });

  describe('validation', () => {
    const cases: Array<[string, () => unknown, string]> = [
      [
        'port out of range (flag)',
        () => loadConfig({ env: {}, overrides: { http: { port: 99999 } } }),
        'http.port',
      ],
      [
        'port not a number (env)',
        () => loadConfig({ env: { SNODE_HTTP_PORT: 'eighty' } }),
        'http.port',
      ],
      ['negative port', () => validateConfig({ http: { port: -1 } }), 'http.port'],
      ['fractional port', () => validateConfig({ http: { port: 80.5 } }), 'http.port'],
      ['empty host', () => validateConfig({ http: { host: '' } }), 'http.host'],
      ['tiny body limit', () => validateConfig({ http: { maxBodyBytes: 1 } }), 'http.maxBodyBytes'],
      [
        'unknown log level (env)',
        () => loadConfig({ env: { SNODE_LOG_LEVEL: 'loud' } }),
        'log.level',
      ],
      [
        'private key not hex',
        () => loadConfig({ env: { SNODE_IDENTITY_PRIVATE_KEY: 'zz' } }),
        'identity.privateKey',
      ],
      ['version 0', () => validateConfig({ identity: { version: 0 } }), 'identity.version'],
      ['peer not a websocket URL', () => validateConfig({ peers: ['http://x/'] }), 'peers.0'],
      ['peers not an array', () => validateConfig({ peers: 'ws://x' }), 'peers'],
      [
        'cjdns.enabled not a boolean',
        () => validateConfig({ cjdns: { enabled: 'yes' } }),
        'cjdns.enabled',
      ],
      [
        'admin port out of range',
        () => loadConfig({ env: { SNODE_CJDNS_ADMIN_PORT: '0' } }),
        'cjdns.adminPort',
      ],
      ['section of the wrong type', () => validateConfig({ http: 5 }), 'http'],
    ];
    for (const [name, fn, path] of cases) {
      it(`${name} → RS_ERR_CONFIG_INVALID naming ${path}`, () => {
        const e = configError(fn);
        expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
        expect(e.message).to.contain(`${path}:`);
      });
    }

    it('reports every offending key at once', () => {
      const e = configError(() =>
        validateConfig({ http: { port: 'x', host: '' }, log: { level: 'nope' } }),
      );
      expect(e.message)
        .to.contain('http.port')
        .and.to.contain('http.host')
        .and.to.contain('log.level');
    });

    it('rejects unknown top-level keys, naming the key', () => {
      const e = configError(() => validateConfig({ prot: 3333 }));
      expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(e.message).to.contain('prot: unknown key');
    });

    it('rejects unknown nested keys, naming the section and the key', () => {
      const e = configError(() => validateConfig({ http: { prot: 1 } }));
      expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(e.message).to.contain('http.prot: unknown key');
    });

    it('an unknown key in a config file is rejected', () => {
      const p = file('unknown.json', JSON.stringify({ http: { port: 1 }, colour: 'blue' }));
      const e = configError(() => loadConfig({ file: p, env: {} }));
      expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(e.message).to.contain('colour: unknown key');
    });

    it('a missing file is RS_ERR_CONFIG_INVALID naming the file', () => {
      const p = join(dir, 'nope.json');
      const e = configError(() => loadConfig({ file: p, env: {} }));
      expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(e.message).to.contain(p);
    });

    it('a JSON file that is not an object is RS_ERR_CONFIG_INVALID', () => {
      for (const text of ['[1,2]', '42', 'null', '"x"']) {
        const p = file('notobj.json', text);
        expect(configError(() => loadConfig({ file: p, env: {} })).code, text).to.equal(
          'RS_ERR_CONFIG_INVALID',
        );
      }
    });
  });

  describe('the result', () => {
    it('is deeply frozen', () => {
      const c = loadConfig({ env: { SNODE_PEERS: 'ws://a/x' } });
      expect(Object.isFrozen(c)).to.equal(true);
      expect(Object.isFrozen(c.http)).to.equal(true);
      expect(Object.isFrozen(c.identity)).to.equal(true);
      expect(Object.isFrozen(c.peers)).to.equal(true);
      expect(() => {
        (c.http as { port: number }).port = 1;
      }).to.throw(TypeError);
      expect(() => {
        (c.peers as string[]).push('ws://b/x');
      }).to.throw(TypeError);
      expect(c.http.port).to.equal(3333);
    });

    it('does not share state between loads', () => {
      const a = loadConfig({ env: {} });
      const b = loadConfig({ env: { SNODE_HTTP_PORT: '1234' } });
      expect(a.http.port).to.equal(3333);
      expect(b.http.port).to.equal(1234);
    });
  });
});
