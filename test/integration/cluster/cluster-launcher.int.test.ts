/**
 * The native launcher (`npm run cluster`): real redis-server, real route-server processes and a
 * real haproxy on free loopback ports. What it checks does not need the cluster bus: the topology,
 * the shared identity, per-node affinity through HAProxy, failover of the pool, clean shutdown.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpOk, redisPing, waitFor } from '../../../src/cluster/native/processes.ts';
import { fcIdentities } from '../../helpers/cluster-fixtures.ts';
import { postSubnode, startTestCluster, type TestCluster } from '../../helpers/cluster.ts';
import { httpRequest } from '../../helpers/http.ts';
import { parseSamples, sampleValue } from '../../helpers/metrics.ts';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

async function pnCount(port: number): Promise<number> {
  const text = (await httpRequest(port, '/metrics')).body.toString();
  return sampleValue(text, 'snode_subnode_queries_total', { type: 'pn' }) ?? 0;
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('native cluster launcher', function () {
  this.timeout(60_000);

  describe('launchCluster()', () => {
    let cluster: TestCluster;
    const progress: string[] = [];
    before(async () => {
      cluster = await startTestCluster({ processes: 2, onProgress: (line) => progress.push(line) });
    });
    after(async () => cluster?.stop());

    it('starts redis, the route servers and haproxy on loopback ports', async () => {
      expect(await httpOk(cluster.haproxy.port, '/healthz')).to.equal(true);
      for (const s of cluster.snodes)
        expect(await httpOk(s.port, '/healthz'), s.url).to.equal(true);
      expect(cluster.redis.url).to.match(/^redis:\/\/:[A-Za-z0-9_-]{32}@127\.0\.0\.1:\d+$/);
    });

    it('starts Redis with a password and protected mode, the password off its command line', async () => {
      const { port, host, password } = cluster.redis;
      expect(await redisPing(port, host), 'without the password').to.equal(false);
      expect(await redisPing(port, host, 'not-the-password'), 'with another password').to.equal(
        false,
      );
      expect(await redisPing(port, host, password)).to.equal(true);
      const admin = new Redis(cluster.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await admin.connect();
        expect(await admin.config('GET', 'protected-mode')).to.deep.equal([
          'protected-mode',
          'yes',
        ]);
        // full, it refuses writes rather than evicting acknowledged announcements
        expect(await admin.config('GET', 'maxmemory-policy')).to.deep.equal([
          'maxmemory-policy',
          'noeviction',
        ]);
      } finally {
        admin.disconnect();
      }
      const cmdline = readFileSync(`/proc/${cluster.redis.process.pid}/cmdline`, 'utf8');
      expect(cmdline).to.not.include(password);
    });

    it('gives every process the one cluster identity', async () => {
      for (const s of cluster.snodes) {
        const status = JSON.parse((await httpRequest(s.adminPort, '/status')).body.toString()) as {
          self: { key: string; ipv6: string };
        };
        expect(status.self.ipv6).to.equal(cluster.identity.ipv6);
      }
    });

    it("labels every series of each process with that process's name (distinct; the origin /status shows)", async () => {
      const names: string[] = [];
      for (const s of cluster.snodes) {
        const status = JSON.parse((await httpRequest(s.adminPort, '/status')).body.toString()) as {
          cluster: { origin: string };
        };
        const samples = parseSamples((await httpRequest(s.adminPort, '/metrics')).body.toString());
        expect(new Set(samples.map((x) => x.labels.process)), s.url).to.deep.equal(
          new Set([status.cluster.origin]),
        );
        names.push(status.cluster.origin);
      }
      expect(new Set(names).size).to.equal(cluster.snodes.length);
      // operator endpoints are on each process's admin listener, not behind the public face
      expect((await httpRequest(cluster.haproxy.port, '/metrics')).status).to.equal(404);
    });

    it('routes every subnode query of one node to the same process', async () => {
      const ips = fcIdentities(12, 11).map((x) => x.ipv6);
      const owners = new Set<number>();
      for (const ip of ips) {
        const before = await Promise.all(cluster.snodes.map((s) => pnCount(s.adminPort)));
        for (let k = 0; k < 4; k++)
          expect(
            (
              await postSubnode(
                cluster.haproxy.port,
                { sq: 'pn', txid: Uint8Array.of(k), p: 22 },
                ip,
              )
            ).status,
          ).to.equal(200);
        const after = await Promise.all(cluster.snodes.map((s) => pnCount(s.adminPort)));
        const deltas = after.map((a, i) => a - before[i]!);
        expect(
          deltas.filter((d) => d > 0),
          `node ${ip}: ${deltas}`,
        ).to.deep.equal([4]);
        owners.add(deltas.findIndex((d) => d > 0));
      }
      expect(owners.size, 'nodes are spread over both processes').to.equal(2);
    });

    it('keeps answering through haproxy when a process is killed, and takes it back when restarted', async () => {
      await cluster.kill(0);
      for (let i = 0; i < 6; i++)
        expect((await httpRequest(cluster.haproxy.port, '/healthz')).status).to.equal(200);
      await cluster.start(0, { waitReady: false });
      await waitFor('snode1 healthy again', () => httpOk(cluster.snodes[0]!.port, '/healthz'));
    });

    it('restarts a route server that died on its own, after a backoff, and says so', async () => {
      const s = cluster.snodes[1]!;
      const pid = s.process.pid!;
      process.kill(pid, 'SIGKILL'); // not through cluster.kill: a crash
      await waitFor(
        'snode2 restarted',
        () => progress.some((l) => l.startsWith('snode2 restarted')),
        20_000,
      );
      expect(progress.find((l) => l.startsWith(`snode2 (pid ${pid}) died`))).to.match(
        /died \(SIGKILL\); restarting it in \d+ ms/,
      );
      expect(s.restarts).to.equal(1);
      expect(s.process.pid).to.not.equal(pid);
      await waitFor('snode2 ready again', () => httpOk(s.port, '/readyz'), 30_000);
    });

    it('stops every process', async () => {
      const pids = [
        ...cluster.snodes.map((s) => s.process.pid),
        cluster.haproxy.process.pid,
        cluster.redis.process.pid,
      ];
      await cluster.stop();
      for (const pid of pids) expect(alive(pid), `pid ${pid}`).to.equal(false);
    });
  });

  describe('npm run cluster', () => {
    it('prints its usage', async () => {
      const out = await new Promise<{ code: number | null; stdout: string }>((done) => {
        const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/cluster.ts', '--help'], {
          cwd: ROOT,
        });
        let stdout = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.on('exit', (code) => done({ code, stdout }));
      });
      expect(out.code).to.equal(0);
      expect(out.stdout).to.match(/--processes N/);
    });

    it('refuses a bad --processes with exit code 2', async () => {
      const code = await new Promise<number | null>((done) => {
        const p = spawn(
          process.execPath,
          ['--import', 'tsx', 'scripts/cluster.ts', '--processes', '0'],
          { cwd: ROOT, stdio: 'ignore' },
        );
        p.on('exit', done);
      });
      expect(code).to.equal(2);
    });

    it('starts the topology, prints the URLs and stops everything on SIGINT', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'snode-cluster-script-'));
      const p = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'scripts/cluster.ts',
          '--processes',
          '2',
          '--dir',
          dir,
          '--log-level',
          'warn',
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((done) => p.on('exit', done));
      try {
        try {
          await waitFor(
            'the cluster to come up',
            () => /Ctrl-C stops everything/.test(stdout),
            45_000,
          );
        } catch (e) {
          throw new Error(`${(e as Error).message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        }
        const url = /haproxy \(use this\)\s+(http:\/\/\S+)/.exec(stdout)![1]!;
        const port = Number(new URL(url).port);
        expect(await httpOk(port, '/healthz')).to.equal(true);
        const pids = [...stdout.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
        expect(pids).to.have.length(2);
        p.kill('SIGINT');
        expect(await exited).to.equal(0);
        for (const pid of pids) expect(alive(pid), `route server ${pid} stopped`).to.equal(false);
        expect(await httpOk(port, '/healthz')).to.equal(false);
      } finally {
        if (p.exitCode === null && p.signalCode === null) {
          p.kill('SIGINT'); // let the launcher stop its children
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
