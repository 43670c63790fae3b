/**
 * `snode serve` started the way an operator moving from the originals starts it: in the directory
 * that holds the original's config.js or the Rust port's config.json, with no --config. The file
 * is found and used (and the start-up log says which), the original's stale keys and unknown
 * SNODE_* variables are warned about, and what must not start unconfigured or half-configured
 * exits 1 with one JSON error line on stderr and nothing on stdout.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/cluster/native/processes.ts';
import { httpRequest } from '../../helpers/http.ts';
import {
  exitWithin,
  killStartedSnodes,
  startSnode,
  type SnodeProcess,
} from '../../helpers/snode-process.ts';

describe('snode serve: config files of the originals, defaults, environment (child process)', function () {
  this.timeout(60_000);
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'snode-serve-config-'));
  });
  after(() => {
    killStartedSnodes();
    rmSync(root, { recursive: true, force: true });
  });

  function dirWith(name: string, files: Record<string, string>): string {
    const d = join(root, name);
    mkdirSync(d, { recursive: true });
    for (const [f, text] of Object.entries(files)) {
      if (f.endsWith('/')) mkdirSync(join(d, f), { recursive: true });
      else writeFileSync(join(d, f), text, { mode: 0o644 });
    }
    return d;
  }

  async function stop(p: SnodeProcess): Promise<void> {
    p.child.kill('SIGTERM');
    expect((await exitWithin(p, 10_000)).code).to.equal(0);
  }

  /** Exit 1, nothing on stdout, one JSON error line on stderr. */
  async function refused(p: SnodeProcess): Promise<{ code: string; message: string }> {
    const { code } = await exitWithin(p, 15_000);
    expect(code, p.stderr()).to.equal(1);
    expect(p.stdout()).to.equal('');
    const lines = p
      .stderr()
      .split('\n')
      .filter((l) => l !== '');
    expect(lines, p.stderr()).to.have.length(1);
    return JSON.parse(lines[0]!).error;
  }

  it("finds the original's config.js in its directory, evaluates it, warns about postgres and an unknown SNODE_ variable", async () => {
    const port = await freePort();
    const cwd = dirWith('original', {
      'config.js': [
        '/*@flow*/',
        "const LISTEN = { host: '127.0.0.1', port: Number(process.env.TEST_SNODE_PORT) };",
        'module.exports = {',
        "    postgres: { user: 'cjdnsnode_user', database: 'cjdnsnode', password: 'cjdnsnode_passwd', host: 'localhost' },",
        '    connectCjdns: false,',
        '    peers: [],',
        '    http: LISTEN,',
        '    identity: { file: __dirname + "/identity.json" },',
        '};',
        '',
      ].join('\n'),
    });
    const p = startSnode(
      ['serve'],
      { TEST_SNODE_PORT: String(port), SNODE_HTTP_PROT: '1' },
      { cwd },
    );
    const listening = await p.waitFor('http:server:listening');
    expect(listening.port).to.equal(port, 'the port computed by config.js');
    expect(p.logs.find((l) => l.event === 'config:file:loaded')).to.include({
      file: join(cwd, 'config.js'),
      how: 'default',
    });
    const ignored = p.logs.find((l) => l.event === 'config:key:ignored');
    expect(ignored).to.include({ key: 'postgres', level: 40 });
    const unknown = p.logs.find((l) => l.event === 'config:env:unknown');
    expect(unknown).to.include({
      variable: 'SNODE_HTTP_PROT',
      didYouMean: 'SNODE_HTTP_PORT',
      level: 40,
    });
    expect((await httpRequest(port, '/healthz')).status).to.equal(200);
    await stop(p);
    expect(p.stdout()).to.equal('');
  });

  it("finds the Rust port's config.json and uses its seeder section", async () => {
    const port = await freePort();
    const rust = {
      connectCjdns: false,
      peers: [],
      seeder: {
        tester_passwds: ['tester-secret'],
        nameserver_passwds: [],
        max_connection_count: 128,
        share_peers_with_nameserver: 50,
      },
    };
    const cwd = dirWith('rust', { 'config.json': JSON.stringify(rust, null, 4) });
    const p = startSnode(
      [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--identity-file',
        join(cwd, 'id.json'),
      ],
      {},
      { cwd },
    );
    await p.waitFor('http:server:listening');
    expect(p.logs.find((l) => l.event === 'config:file:loaded')).to.include({
      file: join(cwd, 'config.json'),
      how: 'default',
    });
    expect(
      p.logs.filter((l) => l.level >= 40),
      'no warnings',
    ).to.deep.equal([]);
    expect((await httpRequest(port, '/seeder-peers?passwd=tester-secret')).status).to.equal(200);
    expect((await httpRequest(port, '/seeder-peers?passwd=wrong')).status).to.equal(400);
    await stop(p);
  });

  it('without any config file, says so at info and runs on the defaults', async () => {
    const port = await freePort();
    const cwd = dirWith('none', {});
    const p = startSnode(
      [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--identity-file',
        join(cwd, 'id.json'),
      ],
      {},
      { cwd },
    );
    await p.waitFor('http:server:listening');
    const none = p.logs.find((l) => l.event === 'config:file:none');
    expect(none.level).to.equal(30);
    expect(none.lookedFor).to.include(join(cwd, 'config.json')).and.include(join(cwd, 'config.js'));
    await stop(p);
  });

  it('refuses to start unconfigured beside a file only the original would have read (./config)', async () => {
    const cwd = dirWith('extensionless', {
      config: 'module.exports = { connectCjdns: true, peers: [] };',
    });
    const e = await refused(startSnode(['serve'], {}, { cwd }));
    expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
    expect(e.message).to.contain(join(cwd, 'config')).and.to.contain('--config');
  });

  it('a boolean variable that is neither 1/true nor 0/false stops the start, naming it', async () => {
    const cwd = dirWith('bool', {});
    const e = await refused(startSnode(['serve'], { SNODE_CJDNS: 'yes' }, { cwd }));
    expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
    expect(e.message).to.contain('SNODE_CJDNS');
  });

  it('a config.js that fails to evaluate stops the start, naming the file', async () => {
    const cwd = dirWith('broken-js', {
      'config.js': 'module.exports = { peers: [undefinedVariable] };',
    });
    const e = await refused(startSnode(['serve'], {}, { cwd }));
    expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
    expect(e.message).to.contain(join(cwd, 'config.js')).and.to.contain('undefinedVariable');
  });
});
