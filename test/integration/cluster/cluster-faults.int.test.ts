/**
 * The cluster's guarantee under faults (issue 12, item 2; docs/cluster.md, "The guarantee"):
 * three real route servers behind a real HAProxy (the shipped launcher), a real redis-server,
 * announcements sent as cjdns sends them (again until acknowledged), and after each fault every
 * acknowledged announcement is in every process's /dump and every stateHash agrees:
 *  - kill -9 of a process mid-ingest, restarted while the record is long: its catch-up takes far
 *    longer than catchUpTimeoutMs (10 ms here), and it must neither get traffic (HAProxy checks
 *    /readyz) nor apply a node's announcement out of order;
 *  - Redis kill -9 mid-ingest (appendfsync everysec may lose the last second of acknowledged
 *    entries from Redis: the processes that accepted them publish them again);
 *  - Redis at maxmemory: nothing is acknowledged that is not durable, every process goes not
 *    ready and says why, and the cluster converges once Redis takes writes again;
 *  - Redis restarted (SIGTERM) mid-ingest.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { waitFor } from '../../../src/cluster/native/processes.ts';
import { clusterLogs, readyz, startTestCluster, type TestCluster } from '../../helpers/cluster.ts';
import { AckedLoad } from '../../helpers/cluster-load.ts';
import { sleep } from '../../helpers/cluster-fixtures.ts';

describe('cluster guarantee under faults (real Redis, real HAProxy, 3 processes)', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let load: AckedLoad;

  // a fresh cluster for each fault, so that one fault's outcome cannot decide another's
  beforeEach(async function () {
    this.timeout(120_000);
    cluster = await startTestCluster({
      processes: 3,
      env: { SNODE_CLUSTER_CATCH_UP_TIMEOUT_MS: '10' },
    });
    load = new AckedLoad(cluster, 24, 41);
    await load.seed(2);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && cluster)
      process.stderr.write(
        `${clusterLogs(cluster, 25)}\nnot acknowledged: ${JSON.stringify([...load.refusals])}\n`,
      );
    await cluster?.stop();
  });

  async function allReady(): Promise<void> {
    for (const s of cluster.snodes) {
      let detail = '';
      await waitFor(
        `snode${s.index + 1} ready`,
        async () => {
          const r = await readyz(s.port);
          detail = JSON.stringify(r?.body.checks ?? 'no answer');
          return r?.status === 200;
        },
        30_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}: ${detail}`);
      });
    }
  }

  /** Run the load while `during` runs; always stop it. */
  async function underLoad(
    opts: { pauseMs: number; attempts: number },
    during: () => Promise<void>,
  ): Promise<void> {
    const run = load.run(opts);
    try {
      await during();
    } finally {
      await run.stop();
    }
  }

  it('kill -9 mid-ingest, restarted while the record is long: no traffic and no out-of-order apply before its catch-up, nothing acknowledged lost', async () => {
    // a long record: its replay takes far longer than catchUpTimeoutMs (10 ms)
    for (let round = 0; round < 40; round++)
      await Promise.all(
        load.net.nodes.map((_n, i) => load.announce(i, load.net.update(i, Date.now()))),
      );
    await underLoad({ pauseMs: 5, attempts: 200 }, async () => {
      await sleep(800);
      await cluster.kill(1);
      await sleep(1500); // its nodes fail over to the other two
      await cluster.start(1, { waitReady: false }); // its catch-up runs while the load goes on
      await waitFor(
        'snode2 ready again',
        async () => (await readyz(cluster.snodes[1]!.port))?.status === 200,
        60_000,
      );
      await sleep(1500); // its nodes come back to it
    });
    expect(
      load.discontinuities,
      "every acknowledgement continued the node's stateHash",
    ).to.deep.equal([]);
    await load.converged();
  });

  it('Redis kill -9 mid-ingest: what Redis lost of the acknowledged announcements is published again', async () => {
    await allReady();
    await underLoad({ pauseMs: 10, attempts: 200 }, async () => {
      await sleep(1200);
      await cluster.restartRedis({ signal: 'SIGKILL', downMs: 500 });
      await sleep(2500);
    });
    expect(load.discontinuities).to.deep.equal([]);
    await load.converged(30_000);
  });

  it('Redis at maxmemory: nothing acknowledged that is not durable (a process killed -9 meanwhile loses none), every process not ready and saying why, converged once Redis takes writes again', async () => {
    await allReady();
    const admin = new Redis(cluster.redis.url, { maxRetriesPerRequest: 1 });
    try {
      // Redis is full a few hundred entries from now (noeviction: it refuses writes)
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
      await admin.config('SET', 'maxmemory', String(used + 256 * 1024));
      await underLoad({ pauseMs: 5, attempts: 600 }, async () => {
        const full: string[] = [];
        await waitFor(
          'every process not ready because Redis refuses writes',
          async () => {
            full.length = 0;
            for (const s of cluster.snodes) {
              const r = await readyz(s.port);
              if (r?.status !== 503) return false;
              full.push(r.body.checks?.cluster?.detail ?? '');
            }
            return true;
          },
          30_000,
          100,
        );
        for (const d of full) expect(d).to.match(/Redis refuses writes \(oom/);
        // a process holding announcements it could not make durable dies: they were never
        // acknowledged, so nothing acknowledged goes with it
        await cluster.kill(0);
        await cluster.start(0, { waitReady: false });
        // the operator gives Redis room: the backlogs go out, everything converges
        await admin.config('SET', 'maxmemory', '0');
        await allReady();
        await sleep(1000);
      });
      expect(load.discontinuities).to.deep.equal([]);
      await load.converged(30_000);
    } finally {
      admin.disconnect();
    }
  });

  it('Redis restarted (SIGTERM) mid-ingest: converged', async () => {
    await allReady();
    await underLoad({ pauseMs: 10, attempts: 200 }, async () => {
      await sleep(1000);
      await cluster.restartRedis({ downMs: 700 });
      await sleep(2000);
    });
    expect(load.discontinuities).to.deep.equal([]);
    await load.converged(30_000);
  });
});
