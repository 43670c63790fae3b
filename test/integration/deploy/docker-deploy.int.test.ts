/**
 * The Docker deployment files (no Docker engine needed): the image's Dockerfile (two stages, a
 * supported Node LTS, the compiled dist/ and production dependencies only, a non-root user with
 * a HOME), the build context (.dockerignore), the compose
 * files (no obsolete `version:`, the cjdns edge's identity wiring and admin-file mount, read from
 * the YAML; `docker-compose config` merges them when installed, required under CI=true), and the
 * edge setup end to end: the route server and the edge run as the compose runs them (the image's
 * entry point, environment and command) in front of a fake cjdroute, and a node's announcement
 * travels cjdroute → edge → route server and is accepted.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { freePort, waitFor as waitUntil } from '../../../src/cluster/native/processes.ts';
import {
  bencodeDecode,
  bencodeEncode,
  utf8Bytes,
  type BInput,
} from '../../../src/protocol/bencode.ts';
import { ip6FromPublicKey, publicKeyToString } from '../../../src/protocol/keys.ts';
import { buildHandlerFrame, parseHandlerFrame } from '../../../src/protocol/wire-headers.ts';
import { TreeNetwork, fcIdentities } from '../../helpers/cluster-fixtures.ts';
import { postSubnode } from '../../helpers/cluster.ts';
import { FakeCjdroute, captureNodeInfo, type FakeNodeInfo } from '../../helpers/fake-cjdroute.ts';
import { httpRequest } from '../../helpers/http.ts';
import {
  ROOT,
  exitWithin,
  killStartedSnodes,
  startSnode,
  type SnodeProcess,
} from '../../helpers/snode-process.ts';
import { captureBytes } from '../../helpers/vectors.ts';

/** a cluster key for the compose files' SNODE_CLUSTER_KEY (docs/cluster.md) */
const CLUSTER_KEY = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

/* eslint-disable @typescript-eslint/no-explicit-any */
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');
const yamlOf = (rel: string): any => parseYaml(read(rel));

// ---- the Dockerfile, as far as these tests need it ---------------------------------------------

interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  /** instructions after FROM, continuation lines joined */
  readonly lines: string[];
}

function dockerfileStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) stages.push({ from: from[1]!, name: from[2], lines: [] });
    else stages[stages.length - 1]!.lines.push(line);
  }
  return stages;
}

/** `ENV K=V K2=V2` of a stage (values without spaces or quotes, as ours are). */
function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of stage.lines.filter((l) => /^ENV\s/i.test(l)))
    for (const pair of line.replace(/^ENV\s+/i, '').split(/\s+/)) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  return env;
}

const jsonForm = (stage: Stage, instr: string): string[] => {
  const line = stage.lines.find((l) => l.toUpperCase().startsWith(`${instr} `));
  return line ? (JSON.parse(line.slice(instr.length + 1)) as string[]) : [];
};

// ---- compose variable interpolation (the subset the shipped files use) --------------------------

/** `${VAR}`, `${VAR:-default}`, `${VAR:?error}` as docker compose substitutes them. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g,
    (_m, name: string, op?: string, arg?: string) => {
      const v = vars[name];
      if (v !== undefined && v !== '') return v;
      if (op === '-') return arg ?? '';
      if (op === '?') throw new Error(`compose refuses: ${name}: ${arg}`);
      return '';
    },
  );
}

function envOf(service: any, vars: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((service.environment ?? {}) as Record<string, unknown>))
    out[k] = interpolate(String(v), vars);
  return out;
}

// ---- .dockerignore ------------------------------------------------------------------------------

/** Whether a .dockerignore pattern excludes `path` (relative, `/`-separated) or a parent of it. */
function ignoredBy(pattern: string, path: string): boolean {
  let re = '';
  const p = pattern.replace(/^\/+/, '');
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (p.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}(?:/.*)?$`).test(path);
}

const dockerignore = (): string[] =>
  read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

const isIgnored = (path: string): boolean => {
  let ignored = false;
  for (const p of dockerignore()) {
    if (p.startsWith('!')) {
      if (ignoredBy(p.slice(1), path)) ignored = false;
    } else if (ignoredBy(p, path)) ignored = true;
  }
  return ignored;
};

function dockerCompose(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

describe('Docker deployment files', function () {
  this.timeout(60_000);
  const stages = dockerfileStages(read('deploy/Dockerfile'));
  const image = stages[stages.length - 1]!;
  const imageEnv = stageEnv(image);
  const base = yamlOf('docker-compose.yml');
  const edgeFile = yamlOf('deploy/docker-compose.edge.yml');

  describe('deploy/Dockerfile', () => {
    it('starts every stage from a supported Node.js LTS line (an even major, 22 or later)', () => {
      expect(stages.length).to.be.greaterThanOrEqual(2);
      for (const s of stages) {
        const m = /^node:(\d+)(?:[.-]|$)/.exec(s.from);
        expect(m, s.from).to.not.equal(null);
        const major = Number(m![1]);
        expect(major % 2, `${s.from}: odd majors are never LTS`).to.equal(0);
        expect(major, `${s.from}: Node 20 left maintenance in April 2026`).to.be.greaterThanOrEqual(
          22,
        );
      }
    });

    it('compiles in a build stage and ships only dist/, bin/ and the pruned production dependencies', () => {
      const build = stages.find((s) => s.name === 'build')!;
      const runs = build.lines.filter((l) => l.startsWith('RUN ')).join('\n');
      expect(runs)
        .to.match(/npm ci\b/)
        .and.match(/npm run build/)
        .and.match(/npm prune --omit=dev/);
      const copies = image.lines.filter((l) => l.startsWith('COPY '));
      expect(copies.filter((l) => !l.includes('--from=build'))).to.deep.equal(['COPY bin ./bin']);
      expect(copies.join('\n'))
        .to.include('/src/dist ./dist')
        .and.include('/src/node_modules ./node_modules');
      expect(copies.join('\n')).to.not.match(/\bsrc \.\/src|tsconfig/);
      expect(jsonForm(image, 'ENTRYPOINT')).to.deep.equal(['node', 'bin/snode.js']);
      expect(jsonForm(image, 'CMD')).to.deep.equal(['serve']);
    });

    it('runs as a non-root user whose HOME exists (where ~/.cjdnsadmin is read)', () => {
      const user = image.lines.find((l) => l.startsWith('USER '))!.slice(5);
      expect(user).to.not.match(/^(root|0)$/);
      const useradd = image.lines.find((l) => l.includes('useradd'))!;
      expect(useradd).to.include(`--home-dir ${imageEnv.HOME}`).and.include('--create-home');
      expect(imageEnv.HOME).to.equal(`/home/${user}`);
    });
  });

  describe('.dockerignore', () => {
    for (const path of [
      '.git/config',
      'node_modules/x/index.js',
      'src/node_modules/y',
      'dist/cli/snode.js',
      '.env',
      '.snode/identity.json',
      'coverage/lcov.info',
      'npm-debug.log',
      'test/unit/config.test.ts',
      'bench/run.ts',
      '.ci/run',
      '.cjdnsadmin',
    ]) {
      it(`keeps ${path} out of the build context`, () => expect(isIgnored(path)).to.equal(true));
    }

    it('keeps every file the Dockerfile copies from the context', () => {
      const sources = stages
        .flatMap((s) => s.lines)
        .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
        .flatMap((l) => l.slice(5).trim().split(/\s+/).slice(0, -1));
      expect(sources).to.include.members(['package.json', 'src', 'bin']);
      for (const src of sources) expect(isIgnored(src), src).to.equal(false);
      for (const file of ['src/cli/snode.ts', 'deploy/Dockerfile', 'tsconfig.build.json'])
        expect(isIgnored(file), file).to.equal(false);
    });
  });

  describe('compose files', () => {
    it('have no obsolete version key', () => {
      expect(base).to.not.have.property('version');
      expect(edgeFile).to.not.have.property('version');
    });

    it("the edge mounts the admin file as the image user's ~/.cjdnsadmin, read-only", () => {
      const mounts = (edgeFile.services.edge.volumes as string[]).map((v) => v.split(':'));
      const admin = mounts.find((m) => m[1]!.endsWith('/.cjdnsadmin'))!;
      expect(admin[0]).to.equal('${HOME}/.cjdnsadmin');
      expect(admin[1]).to.equal(posix.join(imageEnv.HOME!, '.cjdnsadmin'));
      expect(admin[2]).to.equal('ro');
    });

    it("the route servers and the edge take one identity, the cjdns node's public key (required)", () => {
      const vars = {
        CJDNS_PUBLIC_KEY: 'k.k',
        HOME: '/h',
        SNODE_REDIS_PASSWORD: 'p',
        SNODE_CLUSTER_KEY: CLUSTER_KEY,
      };
      const pool = envOf(edgeFile.services.snode, vars);
      const edge = envOf(edgeFile.services.edge, vars);
      expect(pool.SNODE_IDENTITY_PUBLIC_KEY).to.equal('k.k');
      expect(edge.SNODE_IDENTITY_PUBLIC_KEY).to.equal('k.k');
      expect(() => envOf(edgeFile.services.edge, { HOME: '/h' })).to.throw(/CJDNS_PUBLIC_KEY/);
      expect(() =>
        envOf(edgeFile.services.snode, { HOME: '/h', SNODE_CLUSTER_KEY: CLUSTER_KEY }),
      ).to.throw(/CJDNS_PUBLIC_KEY/);
      // nothing else names a key: the identity file of docker-compose.yml is only the fallback
      for (const env of [pool, edge, envOf(base.services.snode, vars)])
        expect(Object.keys(env).filter((k) => /PRIVATE_KEY/.test(k))).to.deep.equal([]);
    });

    it('the edge forwards to the HAProxy port published on the host, and listens elsewhere', () => {
      const cmd = edgeFile.services.edge.command as string[];
      expect(cmd.slice(0, 2)).to.deep.equal(['serve', '--cjdns']);
      const url = new URL(cmd[cmd.indexOf('--forward-subnode') + 1]!);
      expect(url.pathname).to.equal('/subnode');
      expect(base.services.haproxy.ports).to.include(`${url.port}:3333`);
      expect(edgeFile.services.edge.network_mode).to.equal('host');
      const env = envOf(edgeFile.services.edge, { CJDNS_PUBLIC_KEY: 'k.k' });
      expect(env.SNODE_HTTP_PORT).to.not.equal(url.port);
      expect(env.SNODE_HTTP_HOST).to.equal('127.0.0.1');
    });

    const bin = dockerCompose();
    if (!bin && process.env.CI !== 'true') {
      it(
        'docker-compose merges the edge override (PENDING: docker-compose is not installed here; CI=true makes this fail)',
      );
    } else {
      it('docker-compose merges the edge override: one key for every route server and the edge', () => {
        if (!bin)
          throw new Error(
            'docker-compose is required under CI=true (Debian: apt-get install docker-compose)',
          );
        const key = '5tuqmmh7pud922brcpffm81024j0ld2q2wzcb1xz1xfwx85vgl00.k';
        const run = (env: Record<string, string>) =>
          spawnSync(
            bin,
            ['-f', 'docker-compose.yml', '-f', 'deploy/docker-compose.edge.yml', 'config'],
            {
              cwd: ROOT,
              encoding: 'utf8',
              env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/home/op', ...env },
            },
          );
        const ok = run({
          CJDNS_PUBLIC_KEY: key,
          SNODE_REDIS_PASSWORD: 'pw',
          SNODE_CLUSTER_KEY: CLUSTER_KEY,
        });
        expect(ok.status, ok.stderr).to.equal(0);
        const merged = parseYaml(ok.stdout) as any;
        expect(merged.services.snode.environment.SNODE_IDENTITY_PUBLIC_KEY).to.equal(key);
        expect(merged.services.edge.environment.SNODE_IDENTITY_PUBLIC_KEY).to.equal(key);
        expect(merged.services.edge.volumes).to.include(
          '/home/op/.cjdnsadmin:/home/snode/.cjdnsadmin:ro',
        );
        const missing = run({ SNODE_REDIS_PASSWORD: 'pw', SNODE_CLUSTER_KEY: CLUSTER_KEY });
        expect(missing.status).to.not.equal(0);
        expect(missing.stderr).to.match(/CJDNS_PUBLIC_KEY/);
      });

      it('docker-compose starts Redis with a password and protected mode, refuses to start without one, and gives the route servers the password', () => {
        if (!bin)
          throw new Error(
            'docker-compose is required under CI=true (Debian: apt-get install docker-compose)',
          );
        const run = (env: Record<string, string>) =>
          spawnSync(bin, ['-f', 'docker-compose.yml', 'config'], {
            cwd: ROOT,
            encoding: 'utf8',
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/home/op', ...env },
          });
        const ok = run({
          SNODE_REDIS_PASSWORD: 'the-redis-password',
          SNODE_CLUSTER_KEY: CLUSTER_KEY,
        });
        expect(ok.status, ok.stderr).to.equal(0);
        const merged = parseYaml(ok.stdout) as any;
        const command = merged.services.redis.command as string[];
        expect(
          command.slice(command.indexOf('--requirepass'), command.indexOf('--requirepass') + 2),
        ).to.deep.equal(['--requirepass', 'the-redis-password']);
        expect(
          command.slice(
            command.indexOf('--protected-mode'),
            command.indexOf('--protected-mode') + 2,
          ),
        ).to.deep.equal(['--protected-mode', 'yes']);
        expect(merged.services.redis.environment.REDISCLI_AUTH).to.equal('the-redis-password');
        expect(merged.services.snode.environment.SNODE_CLUSTER_REDIS_URL).to.equal(
          'redis://:the-redis-password@redis:6379',
        );
        expect(
          merged.services.snode.environment.SNODE_CLUSTER_KEY,
          'the bus is sealed with the cluster key',
        ).to.equal(CLUSTER_KEY);
        const missing = run({ SNODE_CLUSTER_KEY: CLUSTER_KEY });
        expect(missing.status).to.not.equal(0);
        expect(missing.stderr).to.match(/SNODE_REDIS_PASSWORD/);
        const noKey = run({ SNODE_REDIS_PASSWORD: 'the-redis-password' });
        expect(noKey.status, 'refuses to start without a cluster key').to.not.equal(0);
        expect(noKey.stderr).to.match(/SNODE_CLUSTER_KEY/);
      });
    }
  });

  describe('the edge setup end to end (processes as the compose runs them, a fake cjdroute)', () => {
    // the cjdns node (cjdroute) and a node that announces to it
    const [cjdnsNode] = fcIdentities(1, 4242);
    const cjdnsKey = publicKeyToString(cjdnsNode!.publicKey);
    const net = new TreeNetwork(3, cjdnsNode!.ipv6, 4243);
    const announcer = net.nodes[0]!;
    let dir: string;
    let fake: FakeCjdroute;
    let sink: Socket;
    const replies: Uint8Array[] = [];
    const procs: SnodeProcess[] = [];

    /** `docker compose run <service>` minus the container: the image's environment, then the service's. */
    const containerEnv = (service: any, vars: Record<string, string>): Record<string, string> => ({
      ...imageEnv,
      ...envOf(service, vars),
    });
    const vars = (): Record<string, string> => ({
      CJDNS_PUBLIC_KEY: cjdnsKey,
      HOME: join(dir, 'host-home'),
      SNODE_REDIS_PASSWORD: 'pw',
      SNODE_CLUSTER_KEY: CLUSTER_KEY,
    });

    /** A route server of the pool: docker-compose.yml's snode service (+ the edge override's environment). */
    async function startPool(withEdgeOverride: boolean, name: string): Promise<number> {
      const port = await freePort();
      const env = containerEnv(base.services.snode, vars());
      if (withEdgeOverride) Object.assign(env, envOf(edgeFile.services.snode, vars()));
      // not in a compose network: no Redis (the embedded bus; the identity does not depend on
      // it), this test's loopback port, and the /data volume in a temp dir
      delete env.SNODE_CLUSTER_REDIS_URL;
      Object.assign(env, {
        SNODE_HTTP_HOST: '127.0.0.1',
        SNODE_HTTP_PORT: String(port),
        SNODE_IDENTITY_FILE: join(dir, name, 'identity.json'),
        SNODE_STORE_PATH: join(dir, name, 'announcements.log'),
        SNODE_LOG_LEVEL: 'warn',
      });
      const p = startSnode(jsonForm(image, 'CMD'), env);
      procs.push(p);
      await waitUntil(
        `${name} /healthz`,
        async () =>
          (await httpRequest(port, '/healthz').catch(() => ({ status: 0 }))).status === 200,
      );
      return port;
    }

    function annFrame(txid: Uint8Array): Uint8Array {
      // a captured announcement frame (cjdroute's headers, the query's keys) from our node
      const template = parseHandlerFrame(captureBytes('09-B-ann-reset.bin'));
      const query = bencodeDecode(template.content) as Record<string, BInput>;
      const content = bencodeEncode({ ...query, ann: net.reset(0, Date.now()), p: 22, txid });
      return buildHandlerFrame({
        routeHeader: {
          ...template.routeHeader,
          publicKey: publicKeyToString(announcer.publicKey),
          version: 22,
          ip: announcer.ipv6,
          keyBytes: announcer.publicKey,
          ip6Bytes: ip6FromPublicKey(announcer.publicKey),
        },
        content,
      });
    }

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'snode-docker-edge-'));
      const nodeInfo: FakeNodeInfo = {
        ...captureNodeInfo('A', 22),
        myAddr: `v22.0000.0000.0000.0001.${cjdnsKey}`,
        myIp6: cjdnsNode!.ipv6,
      };
      fake = await FakeCjdroute.start({ nodeInfo, password: 'edge-pw' });
      sink = createSocket('udp6');
      await new Promise<void>((r) => sink.bind(0, '::1', () => r()));
      sink.on('message', (m) => replies.push(new Uint8Array(m)));
      fake.tun = sink; // cjdns sends from where its replies go
    });
    after(async () => {
      for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => exitWithin(p, 10_000).catch(() => undefined)));
      killStartedSnodes();
      await fake?.close();
      sink?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('an announcement travels cjdroute → edge → route server and is accepted (one identity)', async () => {
      const poolPort = await startPool(true, 'pool');

      // the edge service: the image's entry point with the service's command; the host user's
      // ~/.cjdnsadmin appears where the volume mounts it, relative to the image user's HOME
      const edgeService = edgeFile.services.edge;
      const home = join(dir, 'container-home');
      const [hostPath, target] = (edgeService.volumes as string[])
        .map((v) => v.split(':'))
        .find((m) => m[1]!.endsWith('/.cjdnsadmin'))!;
      const hostFile = interpolate(hostPath!, vars());
      mkdirSync(join(dir, 'host-home'), { recursive: true });
      writeFileSync(
        hostFile,
        JSON.stringify({ addr: fake.address, port: fake.port, password: 'edge-pw' }),
        { mode: 0o600 },
      );
      const inHome = join(home, posix.relative(imageEnv.HOME!, target!));
      mkdirSync(join(inHome, '..'), { recursive: true });
      writeFileSync(inHome, readFileSync(hostFile));

      const edgePort = await freePort();
      const edgeAdminPort = await freePort();
      const forward = new URL(
        (edgeService.command as string[])[
          (edgeService.command as string[]).indexOf('--forward-subnode') + 1
        ]!,
      );
      const command = (edgeService.command as string[]).map((a) =>
        a === forward.href ? `http://127.0.0.1:${poolPort}${forward.pathname}` : a,
      );
      // replies go to [fc00::1]:1 through cjdns's TUN device (and frames come from there, at the
      // node's own address); here a loopback socket and loopback
      const cfg = join(dir, 'edge-test.json');
      writeFileSync(
        cfg,
        JSON.stringify({
          cjdns: { replyAddress: '::1', replyPort: sink.address().port, handlerBindAddress: '::1' },
        }),
      );
      const edge = startSnode([...command, '--config', cfg], {
        ...containerEnv(edgeService, vars()),
        HOME: home,
        SNODE_HTTP_PORT: String(edgePort),
        SNODE_ADMIN_PORT: String(edgeAdminPort),
        SNODE_IDENTITY_FILE: join(dir, 'edge', 'identity.json'), // /data of the image: never used with a public key
        SNODE_LOG_LEVEL: 'warn',
      });
      procs.push(edge);
      await waitUntil(
        'the edge attached (/readyz)',
        async () =>
          (await httpRequest(edgePort, '/readyz').catch(() => ({ status: 0 }))).status === 200,
      );
      const status = JSON.parse((await httpRequest(edgeAdminPort, '/status')).body.toString()) as {
        self: { key: string };
      };
      expect(status.self.key).to.equal(cjdnsKey);

      const txid = utf8Bytes('edge-1');
      expect(await fake.deliver(annFrame(txid))).to.equal(1);
      await waitUntil('the reply to cjdroute', () => replies.length > 0);
      const reply = bencodeDecode(parseHandlerFrame(replies[0]!).content) as Record<
        string,
        Uint8Array
      >;
      expect(Buffer.from(reply.txid!).toString()).to.equal('edge-1');
      expect(Buffer.from(reply.error!).toString()).to.equal('none');
      const ni = JSON.parse(
        (await httpRequest(poolPort, `/ni/${announcer.ipv6}`)).body.toString(),
      ) as { node?: unknown };
      expect(ni.node, 'the route server keeps the node').to.not.equal(undefined);
    });

    it("without the override, docker-compose.yml's route servers answer as their own identity: wrong_snode", async () => {
      const port = await startPool(false, 'pool-alone');
      const r = await postSubnode(
        port,
        { sq: utf8Bytes('ann'), ann: net.reset(0, Date.now()), txid: utf8Bytes('alone'), p: 22 },
        announcer.ipv6,
      );
      expect(Buffer.from(r.reply!.error as Uint8Array).toString()).to.equal('wrong_snode');
    });
  });
});
