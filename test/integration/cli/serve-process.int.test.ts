/**
 * `snode serve` as a real process: it starts with no external service, logs JSON lines on stderr
 * (`http:server:listening`), answers HTTP, persists its identity (0600), and on SIGTERM/SIGINT
 * closes and exits 0 (`snode:process:stopped`). Bad configuration exits 1 with an error JSON on stderr.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
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

let stores = 0;
/** each process its own announcement log in the test's directory (not .snode/ of the repository) */
const serve = (args: string[], env: Record<string, string> = {}): SnodeProcess =>
  startSnode(['serve', ...args], {
    SNODE_STORE_PATH: join(dir, `store-${++stores}`, 'announcements.log'),
    ...env,
  });

let dir: string;

describe('snode serve (child process)', function () {
  this.timeout(60_000);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'snode-serve-'));
  });
  after(() => {
    killStartedSnodes();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts without any external service, serves HTTP, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const identityFile = join(dir, 'state', 'identity.json');
    // precedence: the flag beats the environment, which beats the config file
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ http: { host: '127.0.0.1', port: 1 } }));
    const p = serve(
      [
        '--config',
        configFile,
        '--port',
        String(port),
        '--identity-file',
        identityFile,
        '--log-level',
        'info',
      ],
      { SNODE_HTTP_PORT: '2' },
    );

    const listening = await p.waitFor('http:server:listening');
    expect(listening.port).to.equal(port);
    expect(listening.host).to.equal('127.0.0.1', 'host from the config file');
    expect(listening.ipv6).to.match(/^fc[0-9a-f]{2}(:[0-9a-f]{4}){7}$/);
    expect(listening.level).to.equal(30);

    const created = p.logs.find((l) => l.event === 'identity:file:created');
    expect(created, 'identity created log').to.not.equal(undefined);
    expect(statSync(identityFile).mode & 0o777).to.equal(0o600);
    const stored = JSON.parse(readFileSync(identityFile, 'utf8'));
    expect(stored.ipv6).to.equal(listening.ipv6);

    const health = await httpRequest(port, '/healthz');
    expect(health.status).to.equal(200);
    expect(JSON.parse(health.body.toString())).to.deep.equal({ status: 'ok' });
    const root = await httpRequest(port, '/');
    expect(root.status).to.equal(200);
    expect(JSON.parse(root.body.toString())).to.deep.include({ nodesByIp: 0 });
    const ready = await httpRequest(port, '/readyz');
    expect(ready.status).to.equal(200);

    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const { code, signal } = await exitWithin(p, 8000);
    expect(signal).to.equal(null);
    expect(code).to.equal(0);
    expect(Date.now() - t0).to.be.lessThan(8000);
    expect(
      p.logs.some((l) => l.event === 'snode:process:stopping' && l.signal === 'SIGTERM'),
    ).to.equal(true);
    expect(p.logs.some((l) => l.event === 'snode:process:stopped')).to.equal(true);
    expect(p.stdout()).to.equal('', 'serve writes logs to stderr only');
    // every stderr line is a JSON log line
    for (const line of p
      .stderr()
      .split('\n')
      .filter((l) => l.trim() !== ''))
      expect(() => JSON.parse(line), line).to.not.throw();

    // the port is released
    const again = createServer();
    await new Promise<void>((res, rej) => {
      again.once('error', rej);
      again.listen(port, '127.0.0.1', () => res());
    });
    await new Promise<void>((r) => again.close(() => r()));

    // a second start reuses the persisted identity; SIGINT stops it as well
    const port2 = await freePort();
    const p2 = serve([
      '--host',
      '127.0.0.1',
      '--port',
      String(port2),
      '--identity-file',
      identityFile,
    ]);
    const listening2 = await p2.waitFor('http:server:listening');
    expect(listening2.ipv6).to.equal(listening.ipv6);
    expect(listening2.key).to.equal(listening.key);
    expect(p2.logs.some((l) => l.event === 'identity:file:loaded')).to.equal(true);
    expect((await httpRequest(port2, '/healthz')).status).to.equal(200);
    p2.child.kill('SIGINT');
    expect((await exitWithin(p2, 8000)).code).to.equal(0);
    expect(p2.logs.some((l) => l.event === 'snode:process:stopped')).to.equal(true);
  });

  it('serves on 3333 by default (or, when 3333 is taken here, fails on exactly that port)', async function () {
    const probe = createServer();
    const free = await new Promise<boolean>((res) => {
      probe.once('error', () => res(false));
      probe.listen(3333, '127.0.0.1', () => probe.close(() => res(true))); // the default bind (http.host auto)
    });
    if (!free) {
      const busy = serve([
        '--identity-file',
        join(dir, 'default-port-busy.json'),
        '--log-level',
        'info',
      ]);
      expect((await exitWithin(busy, 15_000)).code).to.equal(1);
      expect(busy.stderr())
        .to.match(/EADDRINUSE/)
        .and.to.match(/3333/);
      return;
    }
    const p = serve(['--identity-file', join(dir, 'default-port.json'), '--log-level', 'info']);
    const listening = await p.waitFor('http:server:listening');
    expect(listening.port).to.equal(3333);
    expect((await httpRequest(3333, '/healthz')).status).to.equal(200);
    p.child.kill('SIGTERM');
    expect((await exitWithin(p, 8000)).code).to.equal(0);
  });

  for (const [name, args, env, path] of [
    ['--port 99999', ['--port', '99999'], {}, 'http.port'],
    ['--log-level loud', ['--log-level', 'loud'], {}, 'log.level'],
    ['SNODE_HTTP_PORT=abc', [], { SNODE_HTTP_PORT: 'abc' }, 'http.port'],
    ['--peer http://x', ['--peer', 'http://x'], {}, 'peers.0'],
  ] as Array<[string, string[], Record<string, string>, string]>) {
    it(`invalid configuration (${name}) → exit 1 with RS_ERR_CONFIG_INVALID naming ${path}`, async () => {
      const p = serve([...args, '--identity-file', join(dir, 'never-created.json')], env);
      const { code } = await exitWithin(p, 15_000);
      expect(code, p.stderr()).to.equal(1);
      expect(p.stdout(), 'nothing on stdout').to.equal('');
      const lines = p
        .stderr()
        .split('\n')
        .filter((l) => l !== '');
      expect(lines).to.have.length(1);
      const v = JSON.parse(lines[0]!);
      expect(v.error.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(v.error.message).to.contain(`${path}:`);
      expect(() => statSync(join(dir, 'never-created.json'))).to.throw();
    });
  }

  it('a config file that does not exist → exit 1 with RS_ERR_CONFIG_INVALID', async () => {
    const p = serve(['--config', join(dir, 'missing.json')]);
    expect((await exitWithin(p, 15_000)).code).to.equal(1);
    expect(p.stdout()).to.equal('');
    expect(JSON.parse(p.stderr()).error.code).to.equal('RS_ERR_CONFIG_INVALID');
  });

  it('a port that is already in use → logs snode:process:start_failed and exits 1', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = serve([
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--identity-file',
        join(dir, 'busy.json'),
      ]);
      const { code } = await exitWithin(p, 15_000);
      expect(code).to.equal(1);
      expect(p.logs.some((l) => l.event === 'snode:process:start_failed')).to.equal(true);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
