/**
 * Child processes of the native cluster (`npm run cluster`, and the tests that start the same
 * topology): redis-server, haproxy and `snode serve`, each on a loopback port, each stopped
 * cleanly. A missing binary is an error with a clear message — never a silent skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/** A free TCP port on `host` (the kernel picks; released before use, so tiny race). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0 }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Throw a clear error when `bin` is not on PATH. */
export function requireBinary(bin: string, hint: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status !== 0 || path === '') {
    throw new Error(`${bin} is required but was not found on PATH (${hint})`);
  }
  return path;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `check` until it returns true; throw after `timeoutMs` with `what` in the message. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message ?? String(lastError)})` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

/** One request/response exchange on a raw TCP socket (a Redis PING, an HTTP probe). */
function probe(
  port: number,
  host: string,
  payload: string,
  expect: RegExp,
  timeoutMs = 1000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    let buf = '';
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write(payload));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (expect.test(buf)) done(true);
    });
    s.on('end', () => done(expect.test(buf)));
  });
}

/** A command in RESP (each argument a bulk string, so any password is sent as it is). */
function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** PING (after AUTH when a password is given): true on PONG. */
export function redisPing(port: number, host = '127.0.0.1', password?: string): Promise<boolean> {
  const auth = password === undefined ? '' : resp('AUTH', password);
  return probe(port, host, auth + resp('PING'), /\+PONG\r\n/);
}

export function httpOk(port: number, path: string, host = '127.0.0.1'): Promise<boolean> {
  return probe(
    port,
    host,
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    /^HTTP\/1\.[01] 200 /,
  );
}

/** A child process with its output in a log file, stopped by signal with a kill fallback. */
export class ManagedProcess {
  readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  /** the signal that ended it, if one did */
  exitSignal: NodeJS.Signals | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    opts: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string },
  ) {
    const log: WriteStream = createWriteStream(opts.logFile, { flags: 'a' });
    this.child = spawn(command, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.pipe(log, { end: false });
    this.child.stderr?.pipe(log, { end: false });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        this.exitSignal = signal ?? undefined;
        log.end();
        resolve(this.exitCode);
      });
      this.child.once('error', (e) => {
        log.write(`spawn error: ${e.message}\n`);
        this.exitCode = -1;
        log.end();
        resolve(-1);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Resolves with the exit code (null or -1 after a signal). */
  wait(): Promise<number | null> {
    return this.exited;
  }

  /** SIGKILL at once (a crash). */
  async kill9(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** `signal` (default SIGTERM), then SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

// ---- redis-server -------------------------------------------------------------------------------

export interface RedisServerOptions {
  readonly port: number;
  /** data directory (AOF and RDB live here; reuse it to restart with the same data) */
  readonly dir: string;
  readonly host?: string;
  /** append-only file (default true): acknowledged announcements survive a Redis restart */
  readonly appendonly?: boolean;
  /** everysec (default) or always */
  readonly appendfsync?: 'always' | 'everysec' | 'no';
  readonly logFile?: string;
  /** `requirepass` (default: a new random one; pass the old one to restart on the same data);
   *  also `masterauth`, for a replica of a primary with the same password */
  readonly password?: string;
  /** maxmemory in bytes (default none); the policy is always noeviction */
  readonly maxmemoryBytes?: number;
  /** run as a replica of this primary */
  readonly replicaOf?: { readonly host: string; readonly port: number };
}

export interface RedisServer {
  readonly port: number;
  readonly host: string;
  /** `redis://:<password>@host:port`: what the route servers are given */
  readonly url: string;
  readonly password: string;
  readonly dir: string;
  readonly process: ManagedProcess;
}

/** A password for a Redis that only this launcher's processes use (URL-safe). */
export function newRedisPassword(): string {
  return randomBytes(24).toString('base64url');
}

export async function startRedisServer(opts: RedisServerOptions): Promise<RedisServer> {
  const bin = requireBinary('redis-server', 'Debian/Ubuntu: apt-get install redis-server');
  const host = opts.host ?? '127.0.0.1';
  mkdirSync(opts.dir, { recursive: true });
  // Redis never runs open: a password, and protected mode. The password goes in a config file
  // readable by its owner only, not on the command line (which every user can read).
  const password = opts.password ?? newRedisPassword();
  const conf = join(opts.dir, 'redis-auth.conf');
  const quoted = `"${password.replace(/[\\"]/g, '\\$&')}"`;
  writeFileSync(conf, `requirepass ${quoted}\nmasterauth ${quoted}\nprotected-mode yes\n`, {
    mode: 0o600,
  });
  const args = [
    conf,
    '--port',
    String(opts.port),
    '--bind',
    host,
    '--dir',
    opts.dir,
    '--appendonly',
    opts.appendonly === false ? 'no' : 'yes',
    '--appendfsync',
    opts.appendfsync ?? 'everysec',
    '--save',
    '',
    '--daemonize',
    'no',
    // a full Redis refuses writes (OOM) instead of evicting the record: nothing acknowledged is lost
    '--maxmemory-policy',
    'noeviction',
    // a slow subscriber is disconnected rather than growing Redis' memory; the actor repairs
    '--client-output-buffer-limit',
    'pubsub 64mb 16mb 60',
  ];
  if (opts.maxmemoryBytes) args.push('--maxmemory', String(opts.maxmemoryBytes));
  if (opts.replicaOf) args.push('--replicaof', opts.replicaOf.host, String(opts.replicaOf.port));
  const p = new ManagedProcess(`redis:${opts.port}`, bin, args, {
    logFile: opts.logFile ?? join(opts.dir, 'redis.log'),
  });
  try {
    await waitFor(
      `redis-server on ${host}:${opts.port}`,
      async () => {
        if (!p.running)
          throw new Error(
            `redis-server exited (see ${opts.logFile ?? join(opts.dir, 'redis.log')})`,
          );
        return redisPing(opts.port, host, password);
      },
      10_000,
      25,
    );
  } catch (e) {
    await p.stop('SIGKILL');
    throw e;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    port: opts.port,
    host,
    url: `redis://:${encodeURIComponent(password)}@${urlHost}:${opts.port}`,
    password,
    dir: opts.dir,
    process: p,
  };
}

export interface RedisSentinelOptions {
  readonly port: number;
  /** where its config file (sentinel rewrites it) and log live */
  readonly dir: string;
  readonly host?: string;
  /** the master name and the primary to monitor */
  readonly masterName: string;
  readonly primary: { readonly host: string; readonly port: number };
  /** the data nodes' password (auth-pass) */
  readonly password?: string;
  /** sentinels that must agree that the primary is down */
  readonly quorum?: number;
  /** down-after-milliseconds (default 1000) */
  readonly downAfterMs?: number;
  /** failover-timeout (default 5000) */
  readonly failoverTimeoutMs?: number;
  readonly logFile?: string;
}

export interface RedisSentinel {
  readonly port: number;
  readonly host: string;
  readonly process: ManagedProcess;
}

/** redis-sentinel (Debian's package) monitoring `primary` as `masterName`. */
export async function startRedisSentinel(opts: RedisSentinelOptions): Promise<RedisSentinel> {
  const bin = requireBinary('redis-sentinel', 'Debian/Ubuntu: apt-get install redis-sentinel');
  const host = opts.host ?? '127.0.0.1';
  mkdirSync(opts.dir, { recursive: true });
  const conf = join(opts.dir, `sentinel-${opts.port}.conf`);
  const m = opts.masterName;
  writeFileSync(
    conf,
    [
      `port ${opts.port}`,
      `bind ${host}`,
      'daemonize no',
      'protected-mode yes',
      `dir ${opts.dir}`,
      `sentinel monitor ${m} ${opts.primary.host} ${opts.primary.port} ${opts.quorum ?? 2}`,
      `sentinel down-after-milliseconds ${m} ${opts.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${m} ${opts.failoverTimeoutMs ?? 5000}`,
      `sentinel parallel-syncs ${m} 1`,
      ...(opts.password !== undefined ? [`sentinel auth-pass ${m} ${opts.password}`] : []),
      '',
    ].join('\n'),
  );
  const p = new ManagedProcess(`sentinel:${opts.port}`, bin, [conf], {
    logFile: opts.logFile ?? join(opts.dir, `sentinel-${opts.port}.log`),
  });
  try {
    await waitFor(
      `redis-sentinel on ${host}:${opts.port}`,
      async () => {
        if (!p.running)
          throw new Error(
            `redis-sentinel exited (see ${opts.logFile ?? join(opts.dir, `sentinel-${opts.port}.log`)})`,
          );
        return redisPing(opts.port, host);
      },
      10_000,
      25,
    );
  } catch (e) {
    await p.stop('SIGKILL');
    throw e;
  }
  return { port: opts.port, host, process: p };
}

// ---- haproxy --------------------------------------------------------------------------------------

/** `haproxy -c -f <file>`: the config check; throws with haproxy's own message on failure. */
export function checkHaproxyConfig(file: string): string {
  const bin = requireBinary('haproxy', 'Debian/Ubuntu: apt-get install haproxy');
  const r = spawnSync(bin, ['-c', '-f', file], { encoding: 'utf8' });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`haproxy -c -f ${file} failed (exit ${r.status}):\n${out}`);
  return out;
}

export interface HaproxyOptions {
  readonly configFile: string;
  /** a frontend port to wait for */
  readonly port: number;
  readonly host?: string;
  readonly logFile: string;
}

export async function startHaproxy(opts: HaproxyOptions): Promise<ManagedProcess> {
  const bin = requireBinary('haproxy', 'Debian/Ubuntu: apt-get install haproxy');
  checkHaproxyConfig(opts.configFile);
  // -db: foreground, no daemon; -Ws would need systemd
  const p = new ManagedProcess('haproxy', bin, ['-db', '-f', opts.configFile], {
    logFile: opts.logFile,
  });
  const host = opts.host ?? '127.0.0.1';
  try {
    await waitFor(
      `haproxy on ${host}:${opts.port}`,
      async () => {
        if (!p.running) throw new Error(`haproxy exited (see ${opts.logFile})`);
        return new Promise<boolean>((resolve) => {
          const s = connect({ port: opts.port, host }, () => {
            s.destroy();
            resolve(true);
          });
          s.on('error', () => resolve(false));
        });
      },
      10_000,
      25,
    );
  } catch (e) {
    await p.stop('SIGKILL');
    throw e;
  }
  return p;
}
