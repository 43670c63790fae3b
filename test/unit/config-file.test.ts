/**
 * Config files as the originals wrote them: the original cjdnsnode's config.js (a CommonJS module
 * that computes its values) evaluated in its own context, the Rust port's config.json, the
 * original's stale `postgres` key dropped with a warning; and where snode looks without --config.
 */
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_JS_TIMEOUT_MS, evaluateConfigJs } from '../../src/config-js.ts';
import {
  DEFAULT_CONFIG_PATHS,
  locateConfigFile,
  readConfigFile,
  type ConfigWarning,
} from '../../src/config-file.ts';

function rejected(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string };
  }
  return expect.fail('expected a refusal');
}

const SYDNEY = 'ws://[fc50:71b5:aebf:7b70:6577:ec8:2542:9dd9]:3333/cjdnsnode_websocket';

/** An original cjdnsnode config.js as an operator keeps it: variables, a helper, the environment. */
const ORIGINAL_CONFIG_JS = `/*@flow*/
// cjdnsnode: the sydney snode and a local test peer
'use strict';
const Os = require('os');
const PEER_IPS = [
    'fc50:71b5:aebf:7b70:6577:ec8:2542:9dd9', // sydney
];
const wsUrl = (ip) => 'ws://[' + ip + ']:3333/cjdnsnode_websocket';
const extra = process.env.CJDNSNODE_EXTRA_PEER;
module.exports = {
    postgres: {
        user: 'cjdnsnode_user',
        database: 'cjdnsnode',
        password: 'cjdnsnode_passwd',
        host: 'localhost',
        port: 5432
    },
    connectCjdns: Os.platform() === 'linux',
    peers: PEER_IPS.map(wsUrl).concat(extra ? [wsUrl(extra)] : []),
};
`;

/** The Rust port's config.json (its config.example.json with passwords filled in). */
const RUST_CONFIG_JSON = `{
    "connectCjdns": false,
    "peers": [
        "ws://[fc50:71b5:aebf:7b70:6577:ec8:2542:9dd9]:3333/cjdnsnode_websocket"
    ],
    "seeder": {
        "tester_passwds": ["tester-secret"],
        "nameserver_passwds": ["ns-secret"],
        "max_connection_count": 128,
        "share_peers_with_nameserver": 50
    }
}`;

describe('config files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'snode-config-files-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string, mode = 0o644): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  }

  describe("the original's config.js, evaluated", () => {
    it('reads a config.js that uses variables, a function, require and process.env', () => {
      const warnings: ConfigWarning[] = [];
      const p = file('config.js', ORIGINAL_CONFIG_JS);
      const raw = readConfigFile(p, {
        env: { CJDNSNODE_EXTRA_PEER: 'fc00::1' },
        warn: (w) => warnings.push(w),
      });
      expect(raw).to.deep.equal({
        cjdns: { enabled: process.platform === 'linux' },
        peers: [SYDNEY, 'ws://[fc00::1]:3333/cjdnsnode_websocket'],
      });
      // the original's database settings: dropped, and said so
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include({ event: 'config:key:ignored', key: 'postgres', file: p });
    });

    it('sees the environment it is given, not ours', () => {
      const p = file('env.js', 'module.exports = { peers: process.env.P ? [process.env.P] : [] };');
      expect(readConfigFile(p, { env: {} })).to.deep.equal({ peers: [] });
      expect(readConfigFile(p, { env: { P: 'ws://x/y' } })).to.deep.equal({ peers: ['ws://x/y'] });
    });

    it('exports.key = … works like module.exports = {…}', () => {
      expect(
        evaluateConfigJs('exports.peers = []; exports.connectCjdns = true;', join(dir, 'e.js'), {}),
      ).to.deep.equal({
        peers: [],
        connectCjdns: true,
      });
    });

    it('runs in its own context: no access to our globals, and it cannot change them', () => {
      (globalThis as Record<string, unknown>).__snodeSecret = 'ours';
      try {
        const p = file(
          'globals.js',
          'globalThis.__snodeSecret = "theirs"; module.exports = { seen: typeof __snodeSecret, hasBuffer: typeof Buffer };',
        );
        expect(readConfigFile(p)).to.deep.equal({ seen: 'string', hasBuffer: 'undefined' });
        expect((globalThis as Record<string, unknown>).__snodeSecret).to.equal('ours');
      } finally {
        delete (globalThis as Record<string, unknown>).__snodeSecret;
      }
    });

    it('copies the exports out as data: functions are left behind', () => {
      const p = file('fn.js', 'module.exports = { peers: [], onStart() { return 1; } };');
      expect(readConfigFile(p)).to.deep.equal({ peers: [] });
    });

    const refusals: Array<[string, string, RegExp]> = [
      ['syntax.js', 'module.exports = {', /evaluating it failed/],
      ['throws.js', 'throw new Error("no config for you");', /no config for you/],
      ['pkg.js', 'module.exports = { peers: require("ws") ? [] : [] };', /built-in modules only/],
      ['relative.js', 'module.exports = require("./peers.json");', /built-in modules only/],
      ['promise.js', 'module.exports = Promise.resolve({});', /promise/],
      ['nothing.js', 'const x = 1;', /exports nothing/],
      ['array.js', 'module.exports = [];', /must be an object/],
      ['bigint.js', 'module.exports = { n: 1n };', /not plain data/],
    ];
    for (const [name, text, why] of refusals) {
      it(`refuses ${name} (${why.source}) with RS_ERR_CONFIG_INVALID naming the file`, () => {
        const p = file(name, text);
        const e = rejected(() => readConfigFile(p));
        expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
        expect(e.message).to.contain(p).and.to.match(why);
      });
    }

    it(`stops a config.js that never finishes (after ${CONFIG_JS_TIMEOUT_MS} ms)`, function () {
      this.timeout(CONFIG_JS_TIMEOUT_MS * 10);
      const p = file('loop.js', 'for (;;) {}');
      const e = rejected(() => readConfigFile(p));
      expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(e.message).to.match(/timed out/);
    });

    it('refuses a config.js anybody may write to (it is code snode would run)', () => {
      const p = file('open.js', 'module.exports = {};', 0o646);
      const e = rejected(() => readConfigFile(p));
      expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(e.message).to.contain('chmod o-w');
    });
  });

  describe("the Rust port's config.json", () => {
    it('reads it as it is: connectCjdns translated, the seeder section kept, no warning', () => {
      const warnings: ConfigWarning[] = [];
      const raw = readConfigFile(file('config.json', RUST_CONFIG_JSON), {
        warn: (w) => warnings.push(w),
      });
      expect(raw).to.deep.equal({
        cjdns: { enabled: false },
        peers: [SYDNEY],
        seeder: {
          tester_passwds: ['tester-secret'],
          nameserver_passwds: ['ns-secret'],
          max_connection_count: 128,
          share_peers_with_nameserver: 50,
        },
      });
      expect(warnings).to.deep.equal([]);
    });

    it('a .json file is JSON only: a syntax error says so (no attempt to run it)', () => {
      const e = rejected(() => readConfigFile(file('bad.json', 'module.exports = {};')));
      expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(e.message).to.contain('not valid JSON');
    });

    it('connectCjdns and cjdns.enabled must agree when both are given', () => {
      const p = file(
        'both.json',
        JSON.stringify({ connectCjdns: true, cjdns: { enabled: false } }),
      );
      expect(rejected(() => readConfigFile(p)).message).to.contain('disagree');
    });

    it('a file with another name is JSON when it parses, JavaScript otherwise', () => {
      expect(readConfigFile(file('snode.conf', '{"peers": []}'))).to.deep.equal({ peers: [] });
      expect(readConfigFile(file('snode2.conf', 'module.exports = { peers: [] };'))).to.deep.equal({
        peers: [],
      });
    });
  });

  describe('where snode looks without --config', () => {
    function cwd(name: string, files: Record<string, string>): string {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      for (const [f, text] of Object.entries(files)) {
        if (f.endsWith('/')) mkdirSync(join(d, f), { recursive: true });
        else writeFileSync(join(d, f), text);
      }
      return d;
    }

    it('the flag wins', () => {
      expect(locateConfigFile('/x/y.json', cwd('flag', { 'config.json': '{}' }))).to.deep.equal({
        kind: 'file',
        path: '/x/y.json',
        how: 'flag',
      });
    });

    it('./config.json first, then ./config.js (the original), then /etc/snode/config.json', () => {
      expect(DEFAULT_CONFIG_PATHS).to.deep.equal([
        './config.json',
        './config.js',
        '/etc/snode/config.json',
      ]);
      // the same order, with the last one under a directory of the test's
      const etc = join(dir, 'etc-snode', 'config.json');
      const defaults = ['./config.json', './config.js', etc];
      const both = cwd('both', { 'config.json': '{}', 'config.js': 'module.exports = {};' });
      expect(locateConfigFile(undefined, both, defaults)).to.deep.equal({
        kind: 'file',
        path: join(both, 'config.json'),
        how: 'default',
      });
      const js = cwd('js', { 'config.js': 'module.exports = {};' });
      expect(locateConfigFile(undefined, js, defaults)).to.deep.equal({
        kind: 'file',
        path: join(js, 'config.js'),
        how: 'default',
      });
      const empty = cwd('empty', {});
      expect(locateConfigFile(undefined, empty, defaults)).to.deep.equal({
        kind: 'none',
        lookedFor: [join(empty, 'config.json'), join(empty, 'config.js'), etc],
      });
      cwd('etc-snode', { 'config.json': '{}' });
      expect(locateConfigFile(undefined, empty, defaults)).to.deep.equal({
        kind: 'file',
        path: etc,
        how: 'default',
      });
    });

    for (const [what, files] of [
      ['an extensionless ./config', { config: '{}' }],
      ['./config.node', { 'config.node': '' }],
      ['a ./config/ directory', { 'config/': '' }],
    ] as Array<[string, Record<string, string>]>) {
      it(`refuses to start unconfigured when only ${what} is there (the original would have read it)`, () => {
        const d = cwd(what.replace(/\W+/g, '-'), files);
        const e = rejected(() => locateConfigFile(undefined, d));
        expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
        expect(e.message).to.contain('--config');
      });
    }
  });
});
