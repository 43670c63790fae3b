/**
 * The verification pool gives exactly what `parseAnnouncement` gives on the main thread
 * (announcement or error code and JS message), keeps each node's announcements in order across
 * workers, bounds its queue, and survives a worker dying.
 */
import { expect } from 'chai';
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
import { SIGNED_NODES, signedAnn } from '../../helpers/signed-nodes.ts';
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
  });
});

describe('defaultVerifyWorkers / defaultSyncVerifyWorkers', () => {
  it('serves with one worker per core but one (at least one), and syncs with one per core', () => {
    expect([1, 2, 3, 4, 8, 64].map(defaultVerifyWorkers)).to.deep.equal([1, 1, 2, 3, 7, 63]);
    expect([1, 2, 3, 4, 8, 64].map(defaultSyncVerifyWorkers)).to.deep.equal([1, 2, 3, 4, 8, 64]);
  });

  it("is what `'auto'` starts; explicit counts win; a sync never runs fewer than `verifyWorkers`", () => {
    const of = (o: Partial<typeof ROUTING_DEFAULTS>, cores: number) =>
      verifyPoolOptionsOf({ ...ROUTING_DEFAULTS, ...o }, cores);
    expect(of({}, 2)).to.include({ workers: 1, syncWorkers: 2 });
    expect(of({}, 8)).to.include({ workers: 7, syncWorkers: 8 });
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
