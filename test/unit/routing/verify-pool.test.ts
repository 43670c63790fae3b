/**
 * The verification pool gives exactly what `parseAnnouncement` gives on the main thread
 * (announcement or error code and JS message), keeps each node's announcements in order across
 * workers, bounds its queue, and survives a worker dying.
 */
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { announcementToJson, parseAnnouncement } from '../../../src/protocol/announcement.ts';
import { hexToBytes } from '../../../src/protocol/hex.ts';
import {
  VerifyPool,
  defaultSyncVerifyWorkers,
  defaultVerifyWorkers,
  verifyPoolOptionsOf,
  type VerifyPoolOptions,
} from '../../../src/routing/verify-pool.ts';
import { ROUTING_DEFAULTS } from '../../../src/routing/routing-settings.ts';
import { SliceScheduler } from '../../../src/lib/slice-scheduler.ts';
import { SCHED_IDLE, threadPolicy } from '../../../src/lib/thread-priority.ts';
import { SIGNED_NODES, signedAnn } from '../../helpers/signed-nodes.ts';
import { threadNice, threadNiceValues } from '../../helpers/thread-nice.ts';
import { loadVectors } from '../../helpers/vectors.ts';
import { SNODE_IP, T0 } from '../graph/fixtures.ts';

const OPTS: VerifyPoolOptions = {
  workers: 2,
  batchSize: 8,
  maxInFlight: 2,
  maxQueued: 10_000,
  verifySignature: true,
};

function syncOutcome(bytes: Uint8Array): unknown {
  try {
    return { ann: announcementToJson(parseAnnouncement(bytes)) };
  } catch (e) {
    const err = e as { code: string; message: string };
    return { code: err.code, message: err.message };
  }
}

function syncOutcomeCode(bytes: Uint8Array): string {
  return (syncOutcome(bytes) as { code: string }).code;
}

/** Scheduling policy of each thread of this process (0 SCHED_OTHER, 5 SCHED_IDLE). */
function threadPolicies(): number[] {
  return readdirSync('/proc/self/task').map((t) => threadPolicy(Number(t)) ?? -1);
}

describe('verify-pool', () => {
  let pool: VerifyPool;
  afterEach(async () => pool.close());

  describe('VerifyPool#parse()', () => {
    it('gives the same announcements and the same error codes and messages as parsing on the main thread', async () => {
      pool = new VerifyPool(OPTS);
      const vectors = loadVectors<{ op: string; hex?: string }>(
        'announcements.json',
      ).vectors.filter((v) => v.op === 'parse' && v.hex);
      const inputs = vectors.map((v) => hexToBytes(v.hex!));
      // plus corruptions of every kind: truncated, flipped signature, flipped entity byte
      for (const b of inputs.slice(0, 3)) {
        inputs.push(b.subarray(0, 100), b.subarray(0, b.length - 3));
        const sig = b.slice();
        sig[10]! ^= 1;
        const ent = b.slice();
        ent[ent.length - 1]! ^= 0x40;
        inputs.push(sig, ent);
      }
      const got = await Promise.all(inputs.map((b) => pool.parse(b)));
      let failures = 0;
      got.forEach((r, i) => {
        const want = syncOutcome(inputs[i]!);
        if ('ann' in r)
          expect({ ann: announcementToJson(r.ann) }, `input ${i}`).to.deep.equal(want);
        else {
          failures++;
          expect(
            { code: r.parseError.code, message: r.parseError.message },
            `input ${i}`,
          ).to.deep.equal(want);
        }
      });
      expect(failures).to.be.greaterThan(5);
      expect(got.length - failures).to.be.greaterThan(5);
    });

    it('resolves the announcements of each node in submission order across workers and batches', async () => {
      pool = new VerifyPool(OPTS);
      const nodes = [...SIGNED_NODES.values()];
      const msgs: { node: string; i: number; bytes: Uint8Array }[] = [];
      for (let i = 0; i < 12; i++)
        for (const n of nodes)
          msgs.push({
            node: n.name,
            i,
            bytes: signedAnn(n, { timestamp: T0 + i, snodeIp: SNODE_IP, isReset: i === 0 }),
          });
      expect(new Set(msgs.map((m) => pool.workerFor(m.bytes))).size).to.equal(2); // both workers used
      const order = new Map<string, number[]>();
      await Promise.all(
        msgs.map((m) =>
          pool.parse(m.bytes).then((r) => {
            expect('ann' in r).to.equal(true);
            const list = order.get(m.node) ?? [];
            list.push(m.i);
            order.set(m.node, list);
          }),
        ),
      );
      for (const [, list] of order) expect(list).to.deep.equal([...list].sort((a, b) => a - b));
      expect(pool.stats.batches).to.be.lessThan(msgs.length); // messages did travel in batches
    });

    it("hands results back in submission order across workers, a busy worker's before a quick one's", async () => {
      pool = new VerifyPool({ ...OPTS, batchSize: 256, maxInFlight: 4 });
      const nodes = [...SIGNED_NODES.values()];
      const byLane = (lane: number) =>
        nodes.find(
          (n) => pool.workerFor(signedAnn(n, { timestamp: T0, snodeIp: SNODE_IP })) === lane,
        )!;
      const [busy, quick] = [byLane(0), byLane(1)];
      // 200 messages for worker 0 (one long batch), then one for worker 1, then one more for worker 0
      const msgs = [
        ...Array.from({ length: 200 }, (_, i) =>
          signedAnn(busy, { timestamp: T0 + i, snodeIp: SNODE_IP }),
        ),
        signedAnn(quick, { timestamp: T0, snodeIp: SNODE_IP }),
        signedAnn(busy, { timestamp: T0 + 200, snodeIp: SNODE_IP }),
      ];
      const handedBack: number[] = [];
      await Promise.all(msgs.map((b, i) => pool.parse(b).then(() => handedBack.push(i))));
      expect(handedBack).to.deep.equal(msgs.map((_, i) => i));
    });

    it('hands results back in submission order across workers with a slice scheduler, many nodes at once', async () => {
      pool = new VerifyPool({ ...OPTS, workers: 3, batchSize: 5 }, new SliceScheduler(1));
      const nodes = [...SIGNED_NODES.values()];
      const msgs: Uint8Array[] = [];
      for (let i = 0; i < 20; i++)
        for (const n of nodes) msgs.push(signedAnn(n, { timestamp: T0 + i, snodeIp: SNODE_IP }));
      const handedBack: number[] = [];
      await Promise.all(msgs.map((b, i) => pool.parse(b).then(() => handedBack.push(i))));
      expect(handedBack).to.deep.equal(msgs.map((_, i) => i));
    });

    it('refuses with RS_ERR_VERIFY_QUEUE_FULL beyond maxQueued and counts it', async () => {
      pool = new VerifyPool({ ...OPTS, workers: 1, maxInFlight: 1, batchSize: 1, maxQueued: 2 });
      const bytes = signedAnn(SIGNED_NODES.get('alice')!, { timestamp: T0, snodeIp: SNODE_IP });
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => pool.parse(bytes)));
      const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(refused.length).to.be.greaterThan(0);
      for (const r of refused) expect(r.reason.code).to.equal('RS_ERR_VERIFY_QUEUE_FULL');
      expect(pool.stats.rejected).to.equal(refused.length);
    });

    it('tells `settled` once per parse, before the caller sees the outcome, refused ones included', async () => {
      const settled: Uint8Array[] = [];
      pool = new VerifyPool(
        { ...OPTS, workers: 1, maxInFlight: 1, batchSize: 1, maxQueued: 2 },
        undefined,
        (b) => settled.push(b),
      );
      const alice = SIGNED_NODES.get('alice')!;
      const inputs = Array.from({ length: 6 }, (_, i) =>
        signedAnn(alice, { timestamp: T0 + i, snodeIp: SNODE_IP }),
      );
      const seenBefore: number[] = [];
      const results = await Promise.allSettled(
        inputs.map((b) =>
          pool.parse(b).then(
            () => seenBefore.push(settled.filter((x) => x === b).length),
            (e: unknown) => {
              seenBefore.push(settled.filter((x) => x === b).length);
              throw e;
            },
          ),
        ),
      );
      expect(results.some((r) => r.status === 'rejected')).to.equal(true);
      expect(seenBefore).to.deep.equal(inputs.map(() => 1));
      expect(settled).to.have.length(inputs.length);
      expect(new Set(settled)).to.deep.equal(new Set(inputs));
    });

    it('hands the parse to `then` in its delivery turn, and the promise carries what `then` returns, waits for or throws', async () => {
      const settled: Uint8Array[] = [];
      pool = new VerifyPool({ ...OPTS, workers: 1 }, new SliceScheduler(1), (b) => settled.push(b));
      const alice = SIGNED_NODES.get('alice')!;
      const good = signedAnn(alice, { timestamp: T0, snodeIp: SNODE_IP });
      const forged = good.slice();
      forged[10]! ^= 1;
      const seen: Array<{ input: unknown; settledBefore: boolean }> = [];
      const record = (b: Uint8Array) => (input: unknown) => {
        seen.push({ input, settledBefore: settled.includes(b) });
        return 'value';
      };
      const [value, waited, thrown, refused] = await Promise.allSettled([
        pool.parse(good, record(good)),
        pool.parse(good, () => new Promise((r) => setTimeout(() => r('later'), 5))),
        pool.parse(good, () => {
          throw new Error('then threw');
        }),
        pool.parse(forged, record(forged)),
      ]);
      expect(value).to.deep.equal({ status: 'fulfilled', value: 'value' });
      expect(waited).to.deep.equal({ status: 'fulfilled', value: 'later' });
      expect(thrown.status).to.equal('rejected');
      expect((thrown as PromiseRejectedResult).reason.message).to.equal('then threw');
      expect(refused).to.deep.equal({ status: 'fulfilled', value: 'value' });
      // `then` got the announcement (or its parse error), after `settled` was told
      const [first, second] = seen;
      expect(first!.settledBefore).to.equal(true);
      expect((first!.input as { ann: { nodeIp: string } }).ann.nodeIp).to.equal(alice.ipv6);
      expect(second!.settledBefore).to.equal(true);
      expect((second!.input as { parseError: { code: string } }).parseError.code).to.equal(
        syncOutcomeCode(forged),
      );
    });

    it('fails the batches of a worker that died and replaces the worker', async () => {
      pool = new VerifyPool({ ...OPTS, workers: 1 });
      const bytes = signedAnn(SIGNED_NODES.get('alice')!, { timestamp: T0, snodeIp: SNODE_IP });
      expect('ann' in (await pool.parse(bytes))).to.equal(true);
      const pending = pool.parse(bytes);
      await pool.killWorkerForTest(0);
      const r = await pending.then(
        () => 'resolved',
        (e: { code: string }) => e.code,
      );
      expect(['resolved', 'RS_ERR_WORKER_FAILED']).to.include(r);
      expect('ann' in (await pool.parse(bytes))).to.equal(true);
      expect(pool.stats.workerRestarts).to.equal(1);
    });

    it('stops a worker that leaves a batch unanswered for batchTimeoutMs, fails what it held and replaces it', async () => {
      pool = new VerifyPool({ ...OPTS, workers: 1, batchTimeoutMs: 200 });
      const bytes = signedAnn(SIGNED_NODES.get('alice')!, { timestamp: T0, snodeIp: SNODE_IP });
      expect('ann' in (await pool.parse(bytes))).to.equal(true);
      pool.hangWorkerForTest(0);
      // without the watchdog these would wait for good (every later result waits for them)
      const held = [pool.parse(bytes), pool.parse(bytes)].map((p) =>
        p.then(
          () => 'resolved',
          (e: { code: string; message: string }) => `${e.code}: ${e.message}`,
        ),
      );
      for (const r of await Promise.all(held))
        expect(r).to.equal(
          'RS_ERR_WORKER_FAILED: verification worker 0 hung (a batch unanswered for 200 ms)',
        );
      expect(pool.stats).to.include({ workerTimeouts: 1, workerRestarts: 1 });
      expect('ann' in (await pool.parse(bytes))).to.equal(true);
    });

    it('does not count the time a worker waited for a core (its run-queue wait) as unanswered', async () => {
      // a worker kept off the cores (a busy machine; SCHED_IDLE yields to everything) waits on
      // the run queue the whole time: here a reader says so, then says it runs and does not answer
      let starved = true;
      let frozenAt = 0;
      const runQueueWaitMs = (): number => (starved ? performance.now() : frozenAt);
      pool = new VerifyPool({ ...OPTS, workers: 1, batchTimeoutMs: 200, runQueueWaitMs });
      const bytes = signedAnn(SIGNED_NODES.get('alice')!, { timestamp: T0, snodeIp: SNODE_IP });
      expect('ann' in (await pool.parse(bytes))).to.equal(true); // it started and told its tid
      pool.hangWorkerForTest(0);
      const held = pool.parse(bytes).catch((e: Error) => e.message);
      await new Promise((r) => setTimeout(r, 800)); // four timeouts, all of them on the run queue
      expect(pool.stats.workerTimeouts).to.equal(0);
      frozenAt = performance.now();
      starved = false;
      expect(await held).to.equal('verification worker 0 hung (a batch unanswered for 200 ms)');
      expect(pool.stats).to.include({ workerTimeouts: 1, workerRestarts: 1 });
    });

    it('leaves a busy worker alone while its batches are answered within batchTimeoutMs', async () => {
      pool = new VerifyPool({ ...OPTS, workers: 1, batchTimeoutMs: 5_000 });
      const bytes = signedAnn(SIGNED_NODES.get('alice')!, { timestamp: T0, snodeIp: SNODE_IP });
      const all = await Promise.all(Array.from({ length: 200 }, () => pool!.parse(bytes)));
      expect(all.every((r) => 'ann' in r)).to.equal(true);
      expect(pool.stats).to.include({ workerTimeouts: 0, workerRestarts: 0 });
    });

    it('takes routing.verifyBatchTimeoutMs (10 s by default) from the configuration', () => {
      expect(verifyPoolOptionsOf(ROUTING_DEFAULTS, 2)).to.include({ batchTimeoutMs: 10_000 });
      expect(verifyPoolOptionsOf({ ...ROUTING_DEFAULTS, verifyBatchTimeoutMs: 250 }, 2)).to.include(
        { batchTimeoutMs: 250 },
      );
      pool = new VerifyPool({ ...OPTS, workers: 1 }); // afterEach closes one
    });
  });
});

describe('defaultVerifyWorkers / defaultSyncVerifyWorkers', () => {
  it('serves and syncs with one worker per core but one (at least one)', () => {
    expect([1, 2, 3, 4, 8, 64].map(defaultVerifyWorkers)).to.deep.equal([1, 1, 2, 3, 7, 63]);
    expect([1, 2, 3, 4, 8, 64].map(defaultSyncVerifyWorkers)).to.deep.equal([1, 1, 2, 3, 7, 63]);
  });

  it("is what `'auto'` starts; explicit counts win; a sync never runs fewer than `verifyWorkers`", () => {
    const of = (o: Partial<typeof ROUTING_DEFAULTS>, cores: number) =>
      verifyPoolOptionsOf({ ...ROUTING_DEFAULTS, ...o }, cores);
    expect(of({}, 2)).to.include({ workers: 1, syncWorkers: 1 });
    expect(of({}, 8)).to.include({ workers: 7, syncWorkers: 7 });
    expect(of({ syncVerifyWorkers: 2 }, 2)).to.include({ workers: 1, syncWorkers: 2 });
    expect(of({ verifyWorkers: 3, syncVerifyWorkers: 2 }, 2)).to.include({
      workers: 3,
      syncWorkers: 3,
    });
    expect(of({ verifyWorkers: 0 }, 2)).to.equal(undefined);
  });
});

describe('VerifyPool#resize()', () => {
  let pool: VerifyPool;
  afterEach(async () => pool.close());
  const nodes = [...SIGNED_NODES.values()];
  const burst = (from: number) =>
    nodes.flatMap((n) =>
      Array.from({ length: 6 }, (_, i) =>
        signedAnn(n, { timestamp: T0 + from + i, snodeIp: SNODE_IP }),
      ),
    );

  it('grows: new messages spread over the new workers, every result as before', async () => {
    pool = new VerifyPool({ ...OPTS, workers: 1 });
    expect(pool.size).to.equal(1);
    pool.resize(3);
    expect([pool.size, pool.threads]).to.deep.equal([3, 3]);
    const msgs = burst(0);
    expect(new Set(msgs.map((b) => pool.workerFor(b))).size).to.be.greaterThan(1);
    const got = await Promise.all(msgs.map((b) => pool.parse(b)));
    got.forEach((r, i) =>
      expect(announcementToJson((r as { ann: never }).ann)).to.deep.equal(
        announcementToJson(parseAnnouncement(msgs[i]!)),
      ),
    );
  });

  it('shrinks while busy: retiring workers finish what they hold, results keep submission order, then they stop (not restarted)', async () => {
    pool = new VerifyPool({ ...OPTS, workers: 3, batchSize: 4 });
    const first = burst(0);
    const second = burst(100);
    const handedBack: number[] = [];
    const all = [...first.map((b, i) => pool.parse(b).then((r) => (handedBack.push(i), r)))];
    pool.resize(1); // the first burst is queued on three workers
    expect(pool.size).to.equal(1);
    all.push(
      ...second.map((b, i) => pool.parse(b).then((r) => (handedBack.push(first.length + i), r))),
    );
    const got = await Promise.all(all);
    expect(got.every((r) => 'ann' in r)).to.equal(true);
    expect(handedBack).to.deep.equal([...first, ...second].map((_, i) => i));
    await until(() => pool.threads === 1);
    expect(pool.stats.workerRestarts).to.equal(0);
    expect('ann' in (await pool.parse(second[0]!))).to.equal(true); // the one left still works
  });

  it('does not replace a retiring worker that dies holding work: its batches fail, and it is gone', async () => {
    pool = new VerifyPool({ ...OPTS, workers: 2 });
    const toLast = burst(0).filter((b) => pool.workerFor(b) === 1);
    expect(toLast.length).to.be.greaterThan(0);
    const pending = toLast.map((b) =>
      pool.parse(b).then(
        (r) => ('ann' in r ? 'ann' : 'parseError'),
        (e: { code: string }) => e.code,
      ),
    );
    pool.resize(1); // the last worker retires with the burst's messages in flight
    await pool.killWorkerForTest(1);
    for (const r of await Promise.all(pending))
      expect(['ann', 'RS_ERR_WORKER_FAILED']).to.include(r);
    expect(pool.threads).to.equal(1);
    expect(pool.stats.workerRestarts).to.equal(0);
    expect('ann' in (await pool.parse(toLast[0]!))).to.equal(true); // the one left verifies
  });

  it('a retiring worker is taken back when the pool grows again before it stopped', async () => {
    pool = new VerifyPool({ ...OPTS, workers: 2 });
    const pending = burst(0).map((b) => pool.parse(b));
    pool.resize(1);
    pool.resize(2);
    expect([pool.size, pool.threads]).to.deep.equal([2, 2]);
    expect((await Promise.all(pending)).every((r) => 'ann' in r)).to.equal(true);
    expect(pool.threads).to.equal(2);
  });
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('VerifyPool worker priority', () => {
  let pool: VerifyPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('runs its worker threads at the nice value asked for (routing.verifyWorkerNice), the main thread unchanged', async () => {
    const before = threadNiceValues().filter((n) => n === 7).length;
    pool = new VerifyPool({ ...OPTS, workers: 2, nice: 7 });
    const nodes = [...SIGNED_NODES.values()];
    // a message for each worker: both have started and run their first batch
    for (const lane of [0, 1]) {
      const node = nodes.find(
        (n) => pool!.workerFor(signedAnn(n, { timestamp: T0, snodeIp: SNODE_IP })) === lane,
      )!;
      await pool.parse(signedAnn(node, { timestamp: T0, snodeIp: SNODE_IP }));
    }
    expect(threadNiceValues().filter((n) => n === 7).length - before).to.equal(2);
    expect(threadNice().get(process.pid)).to.equal(0); // the main thread keeps its priority
  });

  it("applies a nice value set before a worker's next batch (priority), raising it later too", async () => {
    const count = (n: number) => threadNiceValues().filter((x) => x === n).length;
    const [at5, at6] = [count(5), count(6)];
    pool = new VerifyPool({ ...OPTS, workers: 1, nice: 5 });
    expect(pool.priority).to.deep.equal({ nice: 5, idle: false });
    // before the first batch: the worker never leaves the main thread's priority
    pool.priority = { nice: 0, idle: false };
    const alice = SIGNED_NODES.get('alice')!;
    await pool.parse(signedAnn(alice, { timestamp: T0, snodeIp: SNODE_IP }));
    expect([count(5) - at5, count(6) - at6]).to.deep.equal([0, 0]);
    pool.priority = { nice: 6, idle: false };
    await pool.parse(signedAnn(alice, { timestamp: T0 + 1, snodeIp: SNODE_IP }));
    expect([count(5) - at5, count(6) - at6]).to.deep.equal([0, 1]);
  });

  it("leaves the workers at the main thread's priority with nice 0, and the configuration defaults to 10", async () => {
    const before = threadNiceValues().filter((n) => n !== 0).length;
    pool = new VerifyPool({ ...OPTS, workers: 2, nice: 0 });
    await pool.parse(signedAnn(SIGNED_NODES.get('alice')!, { timestamp: T0, snodeIp: SNODE_IP }));
    expect(threadNiceValues().filter((n) => n !== 0).length).to.equal(before);
    expect(verifyPoolOptionsOf(ROUTING_DEFAULTS, 2)).to.include({ nice: 10 });
    expect(verifyPoolOptionsOf({ ...ROUTING_DEFAULTS, verifyWorkerNice: 3 }, 2)).to.include({
      nice: 3,
    });
  });

  it('warns once, with the reason, when its workers cannot run under SCHED_IDLE (no chrt), and they verify on at their nice value', async () => {
    const warned: Array<[string, Record<string, unknown>]> = [];
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent'; // a worker's environment is a copy made when it starts
    try {
      pool = new VerifyPool(
        { ...OPTS, workers: 2, nice: 9, schedIdle: true },
        undefined,
        () => undefined,
        (event, fields) => warned.push([event, fields]),
      );
    } finally {
      process.env.PATH = path;
    }
    const nodes = [...SIGNED_NODES.values()];
    for (const lane of [0, 1]) {
      const node = nodes.find(
        (n) => pool!.workerFor(signedAnn(n, { timestamp: T0, snodeIp: SNODE_IP })) === lane,
      )!;
      const r = await pool.parse(signedAnn(node, { timestamp: T0, snodeIp: SNODE_IP }));
      expect('ann' in r).to.equal(true);
    }
    await until(() => warned.length > 0);
    await new Promise((r) => setTimeout(r, 200)); // the other worker's refusal is not told again
    expect(warned).to.have.length(1);
    const [event, fields] = warned[0]!;
    expect(event).to.equal('snode:verify:sched-idle-refused');
    expect(fields).to.deep.include({ reason: 'chrt not found (util-linux)', nice: 9 });
    expect(pool.idleWorkers).to.equal(0);
  });

  it('runs its worker threads under SCHED_IDLE when asked (routing.verifyWorkerSchedIdle, on by default), the main thread unchanged', async () => {
    const idleBefore = threadPolicies().filter((p) => p === SCHED_IDLE).length;
    pool = new VerifyPool({ ...OPTS, workers: 2 });
    const alice = SIGNED_NODES.get('alice')!;
    await pool.parse(signedAnn(alice, { timestamp: T0, snodeIp: SNODE_IP }));
    expect(pool.idleWorkers).to.equal(0); // not asked for: the policy is left alone
    pool.priority = { nice: 10, idle: true };
    const nodes = [...SIGNED_NODES.values()];
    for (const lane of [0, 1]) {
      const node = nodes.find(
        (n) => pool!.workerFor(signedAnn(n, { timestamp: T0, snodeIp: SNODE_IP })) === lane,
      )!;
      await pool.parse(signedAnn(node, { timestamp: T0 + 1, snodeIp: SNODE_IP }));
    }
    await until(() => pool!.idleWorkers === 2);
    expect(threadPolicies().filter((p) => p === SCHED_IDLE).length - idleBefore).to.equal(2);
    expect(threadPolicy(process.pid)).to.equal(0); // SCHED_OTHER
    // and they still verify
    const r = await pool.parse(signedAnn(alice, { timestamp: T0 + 2, snodeIp: SNODE_IP }));
    expect('ann' in r).to.equal(true);
    expect(verifyPoolOptionsOf(ROUTING_DEFAULTS, 2)).to.include({ schedIdle: true });
    expect(
      verifyPoolOptionsOf({ ...ROUTING_DEFAULTS, verifyWorkerSchedIdle: false }, 2),
    ).to.include({ schedIdle: false });
  });
});
