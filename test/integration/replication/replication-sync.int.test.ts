/**
 * Replication that always completes (issue 12): a server pulls a real route server's whole
 * store through an inventory larger than its want list (the session reads on while requests
 * are outstanding and reads the inventory again), and a hostile peer that answers junk beside
 * an honest one penalises only itself: every announcement arrives from the honest peer, and
 * /readyz is true only once every sync is complete.
 */
import { expect } from 'chai';
import { connect, createServer, type Server, type AddressInfo } from 'node:net';
import type { App } from '../../../src/app.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { decodePeerFrame } from '../../../src/protocol/peer-frame.ts';
import type { Clock } from '../../../src/lib/clock.ts';
import { createLogger } from '../../../src/log.ts';
import { startMeshApp, type MeshApp } from '../../../bench/mesh-app.ts';
import { T0 } from '../../../bench/world.ts';
import { startTestApp } from '../../helpers/app.ts';
import { httpRequest } from '../../helpers/http.ts';
import { meshKeys } from '../../helpers/mesh.ts';
import { sampleValue } from '../../helpers/metrics.ts';
import { RawServer, routeVectors, waitUntil } from '../../unit/replication/fixtures.ts';
import type { ReplicationSettings } from '../../../src/replication/replication-settings.ts';

const { identity } = routeVectors();
const NODES = 120;

function storeKeys(app: App): string[] {
  return [...app.server.store.hashes()].map(bytesToHex).sort();
}

async function metric(
  app: App,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = (await httpRequest(app.adminAddress()!.port, '/metrics')).body.toString();
  return sampleValue(text, name, labels) ?? 0;
}

async function readyz(
  app: App,
): Promise<{ status: number; checks: Record<string, { ok: boolean; detail: string }> }> {
  const r = await httpRequest(app.address().port, '/readyz');
  return { status: r.status, checks: JSON.parse(r.body.toString()).checks };
}

/** A TCP front for `port` that connects through only after `delayMs` (a slow peer). */
async function slowFront(port: number, delayMs: number): Promise<Server> {
  const srv = createServer((c) => {
    setTimeout(() => {
      const up = connect(port, '127.0.0.1');
      c.pipe(up).pipe(c);
      const end = (): void => {
        c.destroy();
        up.destroy();
      };
      c.on('error', end).on('close', end);
      up.on('error', end).on('close', end);
    }, delayMs);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return srv;
}

/** Real time, starting at `at` (the mesh's timestamps stay fresh). */
function fromEpoch(at: number): Clock {
  const offset = Date.now() - at;
  return { now: () => Date.now() - offset };
}

function wsUrl(port: number): string {
  return `ws://127.0.0.1:${port}/cjdnsnode_websocket`;
}

describe('replication that always completes', function () {
  this.timeout(60_000);
  let a: MeshApp;
  let b: App | undefined;
  let raw: RawServer | undefined;
  let front: Server | undefined;

  before(async () => {
    a = await startMeshApp(NODES, 42, { keys: meshKeys().slice(0, NODES + 1) });
  });
  after(async () => a?.close());
  afterEach(async () => {
    await b?.close();
    await raw?.close();
    await new Promise<void>((r) => (front ? front.close(() => r()) : r()));
    b = raw = front = undefined;
  });

  /** B: another identity (it accepts A's announcements as gossip), real time from A's epoch. */
  async function startB(
    peers: string[],
    replication: Partial<ReplicationSettings>,
    routing: Record<string, unknown> = {},
  ): Promise<App> {
    return startTestApp({
      privateKeyHex: identity('erin').private_hex,
      clock: fromEpoch(T0 + 60_000),
      log: process.env.DBG ? createLogger('debug', process.stderr) : undefined,
      config: {
        routing,
        peers,
        replication: {
          tickMs: 20,
          syncQuietMs: 300,
          reconnectBaseMs: 100,
          reconnectJitter: 0,
          ...replication,
        },
      },
    });
  }

  it('verifies with routing.syncVerifyWorkers workers while the initial sync pulls, with routing.verifyWorkers once ready', async () => {
    const want = storeKeys(a.app);
    b = await startB([wsUrl(a.app.address().port)], {}, { verifyWorkers: 1, syncVerifyWorkers: 3 });
    const pool = b.server.routing!.pool!;
    // not ready for at least syncQuietMs after the last INV: the pool is at its sync size
    expect((await readyz(b)).status).to.equal(503);
    expect(pool.size).to.equal(3);
    // no queries yet: the workers keep the main thread's priority
    expect(pool.priority).to.deep.equal({ nice: 0, idle: false });
    expect(await metric(b, 'snode_verify_pool_workers')).to.equal(3);
    await waitUntil(async () => (await readyz(b!)).status === 200, 'B ready', 40_000, 20);
    expect(storeKeys(b)).to.deep.equal(want);
    // back to one worker; the two retired ones stop once they hold nothing
    await waitUntil(() => pool.size === 1 && pool.threads === 1, 'two workers retired', 10_000, 20);
    expect(await metric(b, 'snode_verify_pool_workers')).to.equal(1);
    // routing.verifyWorkerNice's and verifyWorkerSchedIdle's defaults, once serving
    expect(pool.priority).to.deep.equal({ nice: 10, idle: true });
    expect(pool.stats.workerRestarts).to.equal(0);
  });

  it('starts with routing.verifyWorkers when there is no peer to sync from', async () => {
    b = await startB([], {}, { verifyWorkers: 1, syncVerifyWorkers: 3 });
    expect(Object.keys((await readyz(b)).checks).some((k) => k.startsWith('peer '))).to.equal(
      false,
    );
    expect(b.server.routing!.pool!.size).to.equal(1);
    expect(b.server.routing!.pool!.threads).to.equal(1);
    expect(b.server.routing!.pool!.priority).to.deep.equal({ nice: 10, idle: true });
  });

  it('pulls an inventory larger than the want list: reads on while requests are outstanding, reads the inventory again, ready only when complete', async () => {
    const want = storeKeys(a.app);
    expect(want.length).to.be.greaterThan(NODES);
    // a want list of 20 (hard cap 40) and 10 requests in flight, for an inventory of > 120
    b = await startB([wsUrl(a.app.address().port)], {
      maxWantedPerPeer: 20,
      maxOutstandingPerPeer: 10,
    });
    let sawNotReady = false;
    await waitUntil(
      async () => {
        const r = await readyz(b!);
        if (r.status !== 200) sawNotReady = true;
        else expect(storeKeys(b!)).to.deep.equal(want); // ready means complete
        return r.status === 200;
      },
      'B ready',
      40_000,
      20,
    );
    expect(sawNotReady).to.equal(true);
    expect(storeKeys(b)).to.deep.equal(want);
    expect(await metric(b, 'snode_peer_disconnects_total', { reason: 'Resync' })).to.be.greaterThan(
      0,
    );
    const check = (await readyz(b)).checks[`peer ${wsUrl(a.app.address().port)}`]!;
    expect(check.detail).to.match(/^synced/);
  });

  it('a peer answering junk beside an honest one: only the liar is penalised, every announcement comes from the honest peer', async () => {
    const want = storeKeys(a.app);
    const hashes = [...a.app.server.store.hashes()];
    let junkAnswers = 0;
    // the liar advertises A's whole store at once and answers every request, late, with junk
    // (another announcement's bytes: well-formed, signed, not what was asked)
    const other = a.app.server.store.get(hashes[0]!)!;
    raw = await RawServer.start((p) => {
      p.send({ type: 'HELLO', seq: 0, version: 1 });
      for (let i = 0; i < hashes.length; i += 128)
        p.send({ type: 'INV', seq: 0, hashes: hashes.slice(i, i + 128) });
      p.ws.on('message', (data: Buffer) => {
        const m = decodePeerFrame(new Uint8Array(data));
        if (m.type !== 'GET_DATA') return;
        setTimeout(() => {
          junkAnswers++;
          p.send({ type: 'DATA', seq: m.seq, data: other });
        }, 400);
      });
    });
    // the honest peer (A) is reached a little later: the liar owns the hashes first
    front = await slowFront(a.app.address().port, 150);
    const honestUrl = wsUrl((front.address() as AddressInfo).port);
    b = await startB([raw.url, honestUrl], {});
    await waitUntil(async () => (await readyz(b!)).status === 200, 'B ready', 40_000, 20);
    expect(storeKeys(b)).to.deep.equal(want);
    expect(junkAnswers).to.be.greaterThan(0);
    expect(
      await metric(b, 'snode_peer_disconnects_total', { reason: 'WrongData' }),
    ).to.be.greaterThan(0);
    expect(await metric(b, 'snode_peer_requests_total', { result: 'wrong' })).to.be.greaterThan(0);
    const checks = (await readyz(b)).checks;
    expect(checks[`peer ${honestUrl}`]!.ok).to.equal(true);
    // the liar's retried sync found everything it advertises already present
    expect(checks[`peer ${raw.url}`]!.detail).to.match(/^synced/);
  });
});
