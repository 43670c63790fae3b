/**
 * A real redis-server for one test suite: free loopback port, temp data dir (append-only file),
 * a generated password (kept across restarts; `url` carries it), stopped and removed after. Throws with a clear message when redis-server is missing — the
 * cluster tests never skip (CI installs it: .ci/run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  startRedisServer,
  type RedisServer,
} from '../../src/cluster/native/processes.ts';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** the current server process (changes on restart) */
  readonly server: RedisServer;
  /** SIGTERM (Redis writes its AOF), optionally wait, start again on the same port and dir */
  restart(opts?: { downMs?: number; signal?: NodeJS.Signals }): Promise<void>;
  /** stop without restarting (see `start`) */
  stopServer(signal?: NodeJS.Signals): Promise<void>;
  /** start again after stopServer */
  start(): Promise<void>;
  /** stop and delete the data dir */
  stop(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'snode-test-redis-'));
  const port = await freePort();
  let server = await startRedisServer({ port, dir, appendfsync: 'everysec' });
  const self: TestRedis = {
    port,
    url: server.url,
    dir,
    get server() {
      return server;
    },
    async stopServer(signal = 'SIGTERM') {
      await server.process.stop(signal, 10_000);
    },
    async start() {
      server = await startRedisServer({
        port,
        dir,
        appendfsync: 'everysec',
        password: server.password,
      });
    },
    async restart(opts = {}) {
      await self.stopServer(opts.signal);
      if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
      await self.start();
    },
    async stop() {
      await server.process.stop('SIGTERM', 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
