/**
 * A Redis Sentinel deployment for one test suite, on free loopback ports: a primary, replicas and
 * sentinels (Debian's redis-server and redis-sentinel), all with one password. Throws with a clear
 * message when a binary is missing — never a skip (CI installs them: .ci/run).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  freePort,
  startRedisSentinel,
  startRedisServer,
  waitFor,
  type RedisSentinel,
  type RedisServer,
} from '../../src/cluster/native/processes.ts';

export interface TestSentinelRedis {
  readonly masterName: string;
  readonly password: string;
  readonly servers: RedisServer[];
  readonly sentinels: RedisSentinel[];
  /** `host:port` of every sentinel (cluster.sentinels) */
  readonly sentinelAddresses: string[];
  /** the port the sentinels name as primary now */
  primaryPort(): Promise<number>;
  /** kill -9 the current primary; resolves once the sentinels named another one (and its port) */
  failOver(): Promise<{ from: number; to: number }>;
  stop(): Promise<void>;
}

export async function startSentinelRedis(
  opts: { replicas?: number; sentinels?: number; masterName?: string } = {},
): Promise<TestSentinelRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'snode-test-sentinel-'));
  const password = randomBytes(12).toString('hex');
  const masterName = opts.masterName ?? 'snode';
  const servers: RedisServer[] = [];
  const sentinels: RedisSentinel[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(sentinels.map((s) => s.process.stop('SIGTERM', 5000)));
    await Promise.all(servers.map((s) => s.process.stop('SIGTERM', 5000)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const primaryPort = await freePort();
    servers.push(
      await startRedisServer({ port: primaryPort, dir: join(dir, 'primary'), password }),
    );
    for (let i = 0; i < (opts.replicas ?? 1); i++) {
      servers.push(
        await startRedisServer({
          port: await freePort(),
          dir: join(dir, `replica${i}`),
          password,
          replicaOf: { host: '127.0.0.1', port: primaryPort },
        }),
      );
    }
    // replicas in sync before the sentinels look
    const primary = new Redis({ port: primaryPort, password, lazyConnect: true });
    await primary.connect();
    await waitFor(
      'replicas online',
      async () => {
        const info = await primary.info('replication');
        return (
          Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0) === servers.length - 1 &&
          !/state=(wait_bgsave|send_bulk)/.test(info)
        );
      },
      15_000,
    );
    primary.disconnect();
    for (let i = 0; i < (opts.sentinels ?? 3); i++) {
      sentinels.push(
        await startRedisSentinel({
          port: await freePort(),
          dir: join(dir, 'sentinels'),
          masterName,
          primary: { host: '127.0.0.1', port: primaryPort },
          password,
          quorum: 2,
          downAfterMs: 1000,
          failoverTimeoutMs: 5000,
        }),
      );
    }
    const askSentinel = async (): Promise<number> => {
      for (const s of sentinels) {
        if (!s.process.running) continue;
        const c = new Redis({
          port: s.port,
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          connectTimeout: 500,
        });
        c.on('error', () => undefined);
        try {
          await c.connect();
          const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', masterName)) as
            [string, string] | null;
          if (addr) return Number(addr[1]);
        } catch {
          // the next sentinel
        } finally {
          c.disconnect();
        }
      }
      throw new Error('no sentinel answered');
    };
    // every sentinel sees the replicas and the other sentinels before anyone relies on them
    await waitFor(
      'sentinels ready',
      async () => {
        for (const s of sentinels) {
          const c = new Redis({ port: s.port, lazyConnect: true, maxRetriesPerRequest: 0 });
          c.on('error', () => undefined);
          try {
            await c.connect();
            const m = (await c.call('SENTINEL', 'master', masterName)) as string[];
            const field = (k: string): number => Number(m[m.indexOf(k) + 1]);
            if (
              field('num-slaves') < servers.length - 1 ||
              field('num-other-sentinels') < sentinels.length - 1
            )
              return false;
          } finally {
            c.disconnect();
          }
        }
        return true;
      },
      30_000,
      200,
    );
    return {
      masterName,
      password,
      servers,
      sentinels,
      sentinelAddresses: sentinels.map((s) => `127.0.0.1:${s.port}`),
      primaryPort: askSentinel,
      async failOver() {
        const from = await askSentinel();
        const victim = servers.find((s) => s.port === from && s.process.running);
        if (!victim) throw new Error(`primary :${from} is not one of ours or not running`);
        await victim.process.kill9();
        let to = from;
        await waitFor(
          'the sentinels to promote a replica',
          async () => {
            to = await askSentinel().catch(() => from);
            return to !== from;
          },
          30_000,
          100,
        );
        return { from, to };
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll().catch(() => undefined);
    throw e;
  }
}
