/**
 * The native cluster (no Docker): redis-server (append-only file in a temp dir, a generated
 * password, protected mode), N route-server
 * processes (`node bin/snode.js serve`) sharing one cjdns identity and one Redis, and HAProxy in
 * front with the configuration rendered from the same template as deploy/haproxy.cfg. Used by
 * `npm run cluster` (scripts/cluster.ts) and by the cluster tests, so the tested topology is the
 * shipped one.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex } from '../../protocol/hex.ts';
import { generateIdentity, identityFromPrivateKey } from '../../server/identity.ts';
import { backoffDelayMs, type Backoff } from '../../lib/backoff.ts';
import { generateClusterKey } from '../envelope-auth.ts';
import { renderHaproxyConfig } from './haproxy-config.ts';
import {
  ManagedProcess,
  freePort,
  httpOk,
  startHaproxy,
  newRedisPassword,
  startRedisServer,
  waitFor,
  type RedisServer,
} from './processes.ts';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const SNODE_BIN = join(REPO_ROOT, 'bin', 'snode.js');
/**
 * The route servers run what the launcher runs: the sources when it runs from them (`npm run
 * cluster`, the tests: bin/snode.js would otherwise prefer a dist/ built earlier), else dist/.
 */
const RUN_SOURCES: NodeJS.ProcessEnv = import.meta.url.endsWith('.ts')
  ? { SNODE_FROM_SOURCE: '1' }
  : {};

export interface LaunchOptions {
  readonly processes: number;
  /** haproxy on P, route servers on P+1…P+N, redis on P+N+1, their admin listeners on P+N+2…P+2N+1 (default: free ports) */
  readonly basePort?: number;
  readonly host?: string;
  /** working directory for logs, the Redis data and the haproxy config (default: a new temp dir) */
  readonly dir?: string;
  /** the cluster's shared curve25519 private key, 64 hex (default: a new identity) */
  readonly privateKeyHex?: string;
  /** SNODE_LOG_LEVEL of the route servers (default info) */
  readonly logLevel?: string;
  /** extra environment for every route server */
  readonly env?: Readonly<Record<string, string>>;
  /** extra node flags for every route server (e.g. --cpu-prof) */
  readonly nodeArgs?: readonly string[];
  /** health-check interval of HAProxy (default 1000 ms) */
  readonly checkIntervalMs?: number;
  /** wait for /readyz of every process before returning (default true) */
  readonly waitReady?: boolean;
  readonly startTimeoutMs?: number;
  /** progress lines (default: none) */
  readonly onProgress?: (line: string) => void;
  /** Redis' requirepass (default: a new random one, in <dir>/redis/redis-auth.conf, mode 0600) */
  readonly redisPassword?: string;
  /** the cluster key (64 hex digits) every route server seals the bus with (default: a new one) */
  readonly clusterKey?: string;
  /** Redis maxmemory in bytes (default none); the policy is always noeviction */
  readonly redisMaxmemoryBytes?: number;
  /** Redis appendfsync (default everysec) */
  readonly redisAppendfsync?: 'always' | 'everysec' | 'no';
  /**
   * restart a route server that died on its own (not through `kill`), after a backoff (0.5 s
   * doubling to 30 s; back to 0.5 s after 30 s up), and say so through onProgress (default true)
   */
  readonly restartDead?: boolean;
}

/** Backoff of the restarts of a route server that died (src/lib/backoff.ts). */
export const RESTART_BACKOFF: Backoff = { baseMs: 500, maxMs: 30_000, jitter: 'equal' };
/** a process up this long counts as healthy again: its next death restarts after the base delay */
const RESTART_RESET_MS = 30_000;

export interface SnodeInstance {
  readonly index: number;
  readonly port: number;
  readonly url: string;
  /** its admin listener (/status, /metrics) */
  readonly adminPort: number;
  readonly adminUrl: string;
  process: ManagedProcess;
  /** times the launcher restarted it after it died on its own */
  restarts: number;
}

export interface LaunchedCluster {
  readonly dir: string;
  readonly host: string;
  readonly identity: {
    readonly privateKeyHex: string;
    readonly key: string;
    readonly ipv6: string;
  };
  /** the cluster key the route servers share (SNODE_CLUSTER_KEY; docs/cluster.md) */
  readonly clusterKey: string;
  readonly redis: RedisServer;
  readonly snodes: SnodeInstance[];
  readonly haproxy: {
    readonly port: number;
    readonly url: string;
    readonly configFile: string;
    readonly process: ManagedProcess;
  };
  /** kill -9 one route server (indices from 0) */
  kill(index: number): Promise<void>;
  /** (re)start one route server on its port; waits for /healthz (and /readyz unless told not to) */
  start(index: number, opts?: { waitReady?: boolean }): Promise<void>;
  /** stop Redis (SIGTERM: it writes its append-only file; SIGKILL: a crash) and start it on the same port and dir */
  restartRedis(opts?: { downMs?: number; signal?: NodeJS.Signals }): Promise<void>;
  /** SIGTERM everything (route servers, haproxy, redis), in that order; idempotent */
  stop(): Promise<void>;
}

interface Ports {
  haproxy: number;
  snodes: number[];
  redis: number;
  admins: number[];
}

async function allocatePorts(n: number, base: number | undefined, host: string): Promise<Ports> {
  if (base !== undefined) {
    const range = (from: number): number[] => Array.from({ length: n }, (_, i) => from + i);
    return {
      haproxy: base,
      snodes: range(base + 1),
      redis: base + n + 1,
      admins: range(base + n + 2),
    };
  }
  const ports = new Set<number>();
  while (ports.size < 2 * n + 2) ports.add(await freePort(host));
  const list = [...ports];
  return {
    haproxy: list[0]!,
    snodes: list.slice(1, n + 1),
    redis: list[n + 1]!,
    admins: list.slice(n + 2),
  };
}

export async function launchCluster(opts: LaunchOptions): Promise<LaunchedCluster> {
  if (!Number.isInteger(opts.processes) || opts.processes < 1 || opts.processes > 64) {
    throw new Error(`--processes must be an integer 1..64, not ${opts.processes}`);
  }
  const host = opts.host ?? '127.0.0.1';
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'snode-cluster-'));
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const progress = opts.onProgress ?? (() => undefined);
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const ports = await allocatePorts(opts.processes, opts.basePort, host);

  const privateKeyHex = opts.privateKeyHex ?? bytesToHex(generateIdentity(22).privateKey!);
  const id = identityFromPrivateKey(new Uint8Array(Buffer.from(privateKeyHex, 'hex')), 22);
  const identity = { privateKeyHex, key: id.key, ipv6: id.ipv6 };
  // the bus is authenticated: every route server seals and checks envelopes with this key
  const clusterKey = opts.clusterKey ?? generateClusterKey();

  const redisDir = join(dir, 'redis');
  // one password across Redis restarts (the route servers keep the URL they were given)
  const redisPassword = opts.redisPassword ?? newRedisPassword();
  const redisOptions = {
    port: ports.redis,
    host,
    dir: redisDir,
    password: redisPassword,
    maxmemoryBytes: opts.redisMaxmemoryBytes,
    appendfsync: opts.redisAppendfsync,
    logFile: join(dir, 'logs', 'redis.log'),
  };
  const started: ManagedProcess[] = [];
  let redis: RedisServer | undefined;
  let haproxyProcess: ManagedProcess | undefined;
  const snodes: SnodeInstance[] = [];
  let stopping = false;
  /** route servers stopped on purpose (kill): never restarted by the supervision */
  const deliberate = new WeakSet<ManagedProcess>();
  const restartTimers = new Set<NodeJS.Timeout>();

  const spawnSnode = (index: number): ManagedProcess => {
    const port = ports.snodes[index]!;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...RUN_SOURCES,
      ...opts.env,
      SNODE_HTTP_HOST: host,
      SNODE_HTTP_PORT: String(port),
      SNODE_ADMIN_HOST: host,
      SNODE_ADMIN_PORT: String(ports.admins[index]!),
      // HAProxy runs on this host: its X-Forwarded-For names the client (per-client limits)
      SNODE_HTTP_TRUSTED_PROXIES: host,
      SNODE_IDENTITY_PRIVATE_KEY: privateKeyHex,
      SNODE_CLUSTER_REDIS_URL: redis!.url,
      SNODE_CLUSTER_KEY: clusterKey,
      SNODE_LOG_LEVEL: opts.logLevel ?? 'info',
    };
    const p = new ManagedProcess(
      `snode${index + 1}`,
      process.execPath,
      [...(opts.nodeArgs ?? []), SNODE_BIN, 'serve'],
      {
        env,
        cwd: dir,
        logFile: join(dir, 'logs', `snode${index + 1}.log`),
      },
    );
    started.push(p);
    return p;
  };

  /** When snode`index`'s process `p` dies on its own, start it again after a backoff, and say so. */
  const supervise = (index: number, p: ManagedProcess, attempt: number): void => {
    if (!(opts.restartDead ?? true)) return;
    const startedAt = Date.now();
    void p.wait().then((code) => {
      const s = snodes[index];
      if (stopping || deliberate.has(p) || !s || s.process !== p) return;
      // up long enough: this death starts the backoff over
      const n = Date.now() - startedAt >= RESTART_RESET_MS ? 0 : attempt;
      const delay = backoffDelayMs(RESTART_BACKOFF, n, Math.random);
      progress(
        `snode${index + 1} (pid ${p.pid}) died (${p.exitSignal ?? `exit code ${code}`}); restarting it in ${delay} ms (see ${join(dir, 'logs', `snode${index + 1}.log`)})`,
      );
      const t = setTimeout(() => {
        restartTimers.delete(t);
        if (stopping || s.process !== p) return;
        s.restarts++;
        s.process = spawnSnode(index);
        progress(
          `snode${index + 1} restarted (pid ${s.process.pid}, restart ${s.restarts}); HAProxy sends it traffic once its /readyz says ready`,
        );
        supervise(index, s.process, n + 1);
      }, delay);
      restartTimers.add(t);
    });
  };

  const waitSnode = async (s: SnodeInstance, waitReady: boolean): Promise<void> => {
    await waitFor(
      `snode${s.index + 1} /healthz on ${host}:${s.port}`,
      async () => {
        if (!s.process.running)
          throw new Error(
            `snode${s.index + 1} exited (see ${join(dir, 'logs', `snode${s.index + 1}.log`)})`,
          );
        return httpOk(s.port, '/healthz', host);
      },
      timeoutMs,
    );
    if (waitReady)
      await waitFor(
        `snode${s.index + 1} /readyz`,
        () => httpOk(s.port, '/readyz', host),
        timeoutMs,
      );
  };

  const stopAll = async (): Promise<void> => {
    stopping = true;
    for (const t of restartTimers) clearTimeout(t);
    restartTimers.clear();
    await Promise.all(snodes.map((s) => s.process.stop('SIGTERM', 10_000)));
    await Promise.all(
      started
        .filter((p) => p.running)
        .map((p) => (p === redis?.process ? Promise.resolve() : p.stop('SIGTERM', 5000))),
    );
    if (haproxyProcess) await haproxyProcess.stop('SIGTERM', 5000);
    if (redis) await redis.process.stop('SIGTERM', 10_000);
  };

  try {
    progress(`starting redis-server on ${host}:${ports.redis} (data in ${redisDir})`);
    redis = await startRedisServer(redisOptions);
    started.push(redis.process);

    progress(`starting ${opts.processes} route server(s) on ${host}:${ports.snodes.join(', ')}`);
    for (let i = 0; i < opts.processes; i++) {
      const adminPort = ports.admins[i]!;
      snodes.push({
        index: i,
        port: ports.snodes[i]!,
        url: `http://${host}:${ports.snodes[i]}`,
        adminPort,
        adminUrl: `http://${host}:${adminPort}`,
        process: spawnSnode(i),
        restarts: 0,
      });
    }
    for (const s of snodes) supervise(s.index, s.process, 0);
    await Promise.all(snodes.map((s) => waitSnode(s, opts.waitReady ?? true)));

    const configFile = join(dir, 'haproxy.cfg');
    writeFileSync(
      configFile,
      renderHaproxyConfig({
        bind: `${host}:${ports.haproxy}`,
        servers: {
          kind: 'static',
          list: snodes.map((s) => ({ name: `snode${s.index + 1}`, host, port: s.port })),
        },
        checkIntervalMs: opts.checkIntervalMs,
        maxconn: 4096,
        header: [
          `native snode cluster rendered by src/cluster/native/launcher.ts for ${opts.processes} process(es)`,
        ],
      }),
    );
    progress(`starting haproxy on ${host}:${ports.haproxy}`);
    haproxyProcess = await startHaproxy({
      configFile,
      port: ports.haproxy,
      host,
      logFile: join(dir, 'logs', 'haproxy.log'),
    });
    started.push(haproxyProcess);
    const haproxyPort = ports.haproxy;
    // HAProxy starts with every server up; wait until one answers through it
    await waitFor(
      'a route server through haproxy',
      () => httpOk(haproxyPort, '/healthz', host),
      timeoutMs,
    );

    let stopped: Promise<void> | undefined;
    const cluster: LaunchedCluster = {
      dir,
      host,
      identity,
      clusterKey,
      get redis() {
        return redis!;
      },
      snodes,
      haproxy: {
        port: haproxyPort,
        url: `http://${host}:${haproxyPort}`,
        configFile,
        process: haproxyProcess,
      },
      kill: async (index) => {
        const p = snodes[index]!.process;
        deliberate.add(p);
        await p.kill9();
      },
      start: async (index, o = {}) => {
        const s = snodes[index]!;
        if (s.process.running) throw new Error(`snode${index + 1} is running`);
        s.process = spawnSnode(index);
        supervise(index, s.process, 0);
        await waitSnode(s, o.waitReady ?? true);
      },
      restartRedis: async (o = {}) => {
        await redis!.process.stop(o.signal ?? 'SIGTERM', 10_000);
        if (o.downMs) await new Promise((r) => setTimeout(r, o.downMs));
        redis = await startRedisServer(redisOptions);
        started.push(redis.process);
      },
      stop: () => (stopped ??= stopAll()),
    };
    return cluster;
  } catch (e) {
    await stopAll().catch(() => undefined);
    throw e;
  }
}
