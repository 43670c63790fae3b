/**
 * The compiled build as production runs it: `tsc -p tsconfig.build.json` (what `npm run build`
 * compiles) into a scratch directory beside copies of bin/snode.js and package.json, with only the
 * production dependencies (package-lock.json's non-dev packages: no tsx, esbuild or typescript)
 * and without SNODE_FROM_SOURCE. `snode --help` answers; `snode serve` starts its worker threads
 * from the compiled modules, verifies and accepts announcements, answers a route, and stops on
 * SIGTERM. (The rest of the suite runs the sources; .ci/run also does the real production
 * install: npm ci, npm run build, npm prune --omit=dev.)
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, waitFor } from '../../../src/cluster/native/processes.ts';
import { utf8Bytes } from '../../../src/protocol/bencode.ts';
import { TreeNetwork } from '../../helpers/cluster-fixtures.ts';
import { postSubnode } from '../../helpers/cluster.ts';
import { httpRequest } from '../../helpers/http.ts';
import {
  ROOT,
  exitWithin,
  killStartedSnodes,
  startSnode,
  type SnodeProcess,
} from '../../helpers/snode-process.ts';

const DEV_TOOLCHAIN = ['tsx', 'esbuild', 'typescript'];

/** Top-level packages `npm prune --omit=dev` keeps (scoped ones as `@scope/name`). */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, meta]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && meta.dev !== true)
    .map(([path]) => path.slice('node_modules/'.length));
}

describe('the compiled build (dist/, production dependencies only)', function () {
  this.timeout(180_000);
  let dir: string;
  let bin: string;
  let server: SnodeProcess | undefined;
  let port: number;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'snode-compiled-'));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(
      process.execPath,
      [
        tsc,
        '-p',
        join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        join(dir, 'dist'),
        '--incremental',
        'false',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, `tsc:\n${r.stdout}${r.stderr}`).to.equal(0);
    mkdirSync(join(dir, 'bin'));
    bin = join(dir, 'bin', 'snode.js');
    copyFileSync(join(ROOT, 'bin', 'snode.js'), bin);
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    for (const name of productionPackages()) {
      mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
    }
  });
  after(async () => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
    killStartedSnodes();
    rmSync(dir, { recursive: true, force: true });
  });

  it('compiles every module, worker entry points included, with source maps', () => {
    const compiled = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? compiled(join(d, e.name)).map((f) => `${e.name}/${f}`) : [e.name],
      );
    const files = compiled(join(dir, 'dist'));
    for (const worker of ['routing/verify-worker.js', 'routing/replica-worker.js', 'cli/snode.js'])
      expect(files, worker).to.include(worker).and.include(`${worker}.map`);
    // relative imports point at the compiled files
    expect(readFileSync(join(dir, 'dist', 'cli', 'snode.js'), 'utf8')).to.not.match(
      /from '\.{1,2}\/[^']*\.ts'/,
    );
  });

  it('needs no TypeScript toolchain at run time', () => {
    const kept = productionPackages();
    for (const p of DEV_TOOLCHAIN) expect(kept, p).to.not.include(p);
    for (const p of DEV_TOOLCHAIN)
      expect(existsSync(join(dir, 'node_modules', p)), p).to.equal(false);
  });

  it('answers --help', () => {
    const r = spawnSync(process.execPath, [bin, '--help'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('Usage: snode').and.include('serve');
  });

  it('serves: workers verify and accept announcements, a route is answered, SIGTERM stops it', async () => {
    port = await freePort();
    server = startSnode(
      [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--identity-file',
        join(dir, 'identity.json'),
      ],
      { SNODE_LOG_LEVEL: 'info' },
      { bin, compiled: true, cwd: dir },
    );
    const listening = await server.waitFor('http:server:listening', 60_000);
    expect((await httpRequest(port, '/healthz')).status).to.equal(200);
    // the compiled server loads libsodium's addon (an install without it would verify with OpenSSL)
    expect(listening.signatures).to.equal('libsodium');

    const net = new TreeNetwork(3, listening.ipv6 as string, 77);
    for (let i = 0; i < 3; i++) {
      const r = await postSubnode(
        port,
        { sq: utf8Bytes('ann'), ann: net.reset(i, Date.now()), txid: utf8Bytes(`t${i}`), p: 22 },
        net.nodes[i]!.ipv6,
      );
      expect(
        r.reply,
        `announcement ${i}: HTTP ${r.status}, no reply (stderr: ${server.stderr().slice(-1000)})`,
      ).to.not.equal(null);
      expect(Buffer.from(r.reply!.error as Uint8Array).toString(), `announcement ${i}`).to.equal(
        'none',
      );
    }
    const [a, b] = [net.nodes[1]!.ipv6, net.nodes[2]!.ipv6];
    let route: { label?: string } | null = null;
    await waitFor('a route between two announced nodes', async () => {
      route = JSON.parse((await httpRequest(port, `/path/${a}/${b}`)).body.toString()) as {
        label?: string;
      } | null;
      return route !== null && typeof route.label === 'string';
    });
    expect(route!.label).to.match(/^[0-9a-f]{4}(\.[0-9a-f]{4}){3}$/);

    server.child.kill('SIGTERM');
    expect((await exitWithin(server, 15_000)).code).to.equal(0);
    const errors = server.logs.filter((l: { level: number }) => l.level >= 50);
    expect(errors, JSON.stringify(errors)).to.deep.equal([]);
  });
});
