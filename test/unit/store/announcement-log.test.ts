import { expect } from 'chai';
import {
  AnnouncementLog,
  type AnnouncementLogOptions,
} from '../../../src/store/announcement-log.ts';
import { encodeLogHeader, LOG_HEADER_BYTES } from '../../../src/store/log-format.ts';
import { openLogContents } from '../../../src/store/log-reader.ts';
import { MemoryLogMedium } from '../../../src/store/memory-log-medium.ts';
import { captureLogger, fakeAnn, GatedMedium, hex, keyHex, LiveMap } from './fixtures.ts';

/**
 * Wait for `cond`, polling on timers: the log's retries wait on backoff timers (milliseconds), so
 * turns of setImmediate alone can run out before the timers fire on a fast, idle event loop.
 */
const until = async (cond: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 5_000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`never: ${what}`);
};

/** The log over a fresh medium with a header, fed like the route server feeds it. */
function setup(medium = new MemoryLogMedium(), opts: Partial<AnnouncementLogOptions> = {}) {
  void medium.append([encodeLogHeader()]);
  const live = new LiveMap();
  const cap = captureLogger();
  const log = new AnnouncementLog({
    medium,
    live,
    log: cap.log,
    initialBytes: LOG_HEADER_BYTES,
    ...opts,
  });
  let n = 0;
  return {
    medium,
    live,
    log,
    lines: cap.lines,
    put(node = n % 7, size = 160) {
      const a = fakeAnn(node, 1000 + n, size, n++);
      live.add(a);
      log.put(a);
      return a;
    },
    del(a: { hash: Uint8Array }) {
      live.delete(a.hash);
      log.delete(a.hash);
    },
  };
}

async function reload(bytes: Uint8Array): Promise<string[]> {
  const r = await openLogContents(MemoryLogMedium.holding(bytes), captureLogger().log);
  return r.live.map(keyHex);
}

describe('store: the announcement log (group commit, compaction, failures)', () => {
  it('resolves durable() only once the records are synced', async () => {
    const t = setup(new GatedMedium());
    const m = t.medium as GatedMedium;
    m.hold();
    t.put();
    t.put();
    let done = false;
    const p = t.log.durable().then((r) => ((done = true), r));
    await until(() => m.waiting === 1, 'the sync to start');
    expect(done).to.equal(false);
    expect(m.syncedBytes).to.equal(0);
    m.release();
    expect(await p).to.deep.equal({ durable: true });
    expect(m.syncedBytes).to.equal(m.bytes().length);
    expect(await reload(m.crashImage(0))).to.deep.equal(t.live.hexes());
    expect(await t.log.durable()).to.deep.equal({ durable: true }, 'nothing pending: at once');
  });

  it('commits whatever arrived during a sync as one batch (group commit)', async () => {
    const t = setup(new GatedMedium());
    const m = t.medium as GatedMedium;
    m.hold();
    t.put();
    const first = t.log.durable();
    await until(() => m.waiting === 1, 'the first sync');
    const later: Promise<unknown>[] = [];
    for (let turn = 0; turn < 20; turn++) {
      for (let k = 0; k < 50; k++) t.put();
      later.push(t.log.durable());
      await new Promise((r) => setImmediate(r));
    }
    m.release();
    await first;
    await Promise.all(later);
    expect(m.counts.sync, '1,000 records in one more sync').to.equal(2);
    expect(t.log.status().commits).to.equal(2);
    expect(await reload(m.crashImage(0))).to.deep.equal(t.live.hexes());
  });

  it('loses nothing acknowledged whatever a crash leaves of the unsynced bytes', async () => {
    for (let trial = 0; trial < 30; trial++) {
      const t = setup();
      /** the live set after each operation, and how many operations were acknowledged */
      const states: string[][] = [[]];
      let acked = 0;
      const alive: Array<{ hash: Uint8Array }> = [];
      for (let step = 0; step < 40; step++) {
        const r = (trial * 7919 + step * 104729) % 10;
        if (r < 6 || alive.length === 0) alive.push(t.put(step % 5, 120 + ((step * 37) % 400)));
        else t.del(alive.splice((step * 31) % alive.length, 1)[0]!);
        states.push(t.live.hexes());
        if (r === 0) {
          const upTo = states.length - 1;
          await t.log.durable();
          acked = upTo;
        }
        if (r === 1) await new Promise((res) => setImmediate(res));
      }
      // odd trials: the pump has appended the last batch but not synced it yet
      if (trial % 2 === 1) await new Promise((res) => setImmediate(res));
      const unsynced = t.medium.bytes().length - t.medium.syncedBytes;
      const reloaded = await reload(t.medium.crashImage((trial * 131) % (unsynced + 1)));
      // the state after some prefix of the operations that holds every acknowledged one
      const prefix = states.findIndex(
        (s, i) => i >= acked && JSON.stringify(s) === JSON.stringify(reloaded),
      );
      expect(
        prefix,
        `trial ${trial}: reloaded a state no prefix from ${acked} on gives`,
      ).to.be.at.least(acked);
    }
  });

  it('after a failed write: answers not durable at once, reports it, and rewrites the log whole', async () => {
    const t = setup(new MemoryLogMedium(), { retryMs: 5, maxRetryMs: 20 });
    const a = t.put();
    await t.log.durable();
    t.medium.failNext('sync');
    const b = t.put();
    expect(await t.log.durable()).to.deep.equal({ durable: false, reason: 'store_failed' });
    expect(t.log.status().state).to.equal('failed');
    expect(t.lines.map((l) => l.event)).to.include('store:log:write_failed');
    t.del(a);
    const c = t.put();
    // the recovery compaction rewrites the live set; until then nothing is durable
    await until(() => t.log.status().state === 'ok', 'the recovery');
    expect(t.lines.map((l) => l.event)).to.include('store:log:recovered');
    expect(await t.log.durable()).to.deep.equal({ durable: true });
    expect(await reload(t.medium.crashImage(0))).to.deep.equal([hex(b.hash), hex(c.hash)]);
    const d = t.put();
    expect(await t.log.durable()).to.deep.equal({ durable: true });
    expect(await reload(t.medium.crashImage(0))).to.deep.equal([
      hex(b.hash),
      hex(c.hash),
      hex(d.hash),
    ]);
  });

  it('retries a failed recovery with backoff until it succeeds', async () => {
    const t = setup(new MemoryLogMedium(), { retryMs: 2, maxRetryMs: 10 });
    t.put();
    t.medium.failNext('append');
    expect((await t.log.durable()).durable).to.equal(false);
    t.medium.failNext('commit', 2);
    await until(() => t.log.status().state === 'ok', 'the recovery');
    expect(t.lines.filter((l) => l.event === 'store:compaction:failed')).to.have.length(2);
    expect(await reload(t.medium.crashImage(0))).to.deep.equal(t.live.hexes());
  });

  it('compacts to the live set while announcements keep arriving, and a crash at any step leaves a whole log', async () => {
    const t = setup(new GatedMedium(), {
      minCompactBytes: 4096,
      compactFactor: 2,
      compactSliceRecords: 3,
    });
    const m = t.medium as GatedMedium;
    const live: Array<{ hash: Uint8Array }> = [];
    for (let i = 0; i < 60; i++) live.push(t.put(i % 6));
    await t.log.durable();
    // replace most of them, in many turns, while the compaction runs
    let compactedDuring = false;
    for (let round = 0; round < 30; round++) {
      for (let k = 0; k < 4; k++) {
        t.del(live.shift()!);
        live.push(t.put(k));
      }
      if (t.log.status().compacting) compactedDuring = true;
      // a crash now: whatever was synced reloads to a state that holds every acknowledged one
      const image = m.crashImage(0);
      const got = await reload(image);
      expect(got.length).to.be.greaterThan(0);
      await t.log.durable();
      expect(await reload(m.crashImage(0))).to.deep.equal(t.live.hexes(), `round ${round}`);
    }
    expect(compactedDuring, 'compactions overlapped with writes').to.equal(true);
    expect(t.log.status().compactions).to.be.greaterThan(0);
    await t.log.compact('test');
    const size = m.bytes().length;
    const expected =
      LOG_HEADER_BYTES +
      [...t.live.entries()].reduce((s, a) => s + 8 + 65 + a.binary.length + 32, 0);
    expect(size).to.equal(expected, 'a compacted log holds exactly the live announcements');
    expect(await reload(m.bytes())).to.deep.equal(t.live.hexes());
    expect(t.lines.filter((l) => l.event === 'store:compaction:done').length).to.be.greaterThan(1);
  });

  it('keeps the old log whole when a compaction fails', async () => {
    const t = setup(new MemoryLogMedium(), { retryMs: 1000 });
    for (let i = 0; i < 10; i++) t.put();
    await t.log.durable();
    const before = t.medium.bytes();
    t.medium.failNext('commit');
    await t.log.compact('test');
    expect(t.log.status().state).to.equal('ok');
    expect([...t.medium.bytes()]).to.deep.equal([...before]);
    expect(t.lines.map((l) => l.event)).to.include('store:compaction:failed');
    t.put();
    expect(await t.log.durable()).to.deep.equal({ durable: true });
    expect(await reload(t.medium.bytes())).to.deep.equal(t.live.hexes());
    await t.log.close();
  });

  it('writes what is pending when closed, then answers closed', async () => {
    const t = setup();
    for (let i = 0; i < 5; i++) t.put();
    await t.log.close();
    expect(await reload(t.medium.crashImage(0))).to.deep.equal(t.live.hexes());
    t.put();
    expect(await t.log.durable()).to.deep.equal({ durable: false, reason: 'closed' });
  });

  it('does not store an announcement too large for a record, and says so once', async () => {
    const t = setup();
    const big = fakeAnn(1, 1, 1024 * 1024 + 1);
    t.log.put(big);
    t.log.put(big);
    expect(await t.log.durable()).to.deep.equal({ durable: true });
    expect(t.lines.filter((l) => l.event === 'store:log:unstorable')).to.have.length(1);
    expect(t.medium.bytes().length).to.equal(LOG_HEADER_BYTES);
  });
});
