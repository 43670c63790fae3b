/**
 * Two of our route servers replicate (issue "done when" 1): announcements fed to A appear in B's
 * /dump, /ni and routes, first by B's initial sync, then live; B's /readyz waits for the sync.
 */
import { expect } from 'chai';
import type { App } from '../../../src/app.ts';
import { hexToBytes } from '../../../src/protocol/hex.ts';
import { ManualClock, type Clock } from '../../../src/lib/clock.ts';
import { startTestApp } from '../../helpers/app.ts';
import { referenceServer } from '../../helpers/reference-server.ts';
import { httpRequest } from '../../helpers/http.ts';
import { routeVectors, waitUntil } from '../../unit/replication/fixtures.ts';

const { routes, identity } = routeVectors();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Step = any;
const annSteps: Step[] = routes.steps.filter((s: Step) => s.action === 'ann');
const liveStep = annSteps[annSteps.length - 1]!; // carol withdraws the bob->carol link
const initialSteps = annSteps.slice(0, -1);
const routePairs: Array<[string, string]> = routes.steps
  .filter((s: Step) => s.action === 'getRoute')
  .map((s: Step) => [s.srcIp as string, s.dstIp as string]);

/** Real time shifted so that "now" is the scenario's time when the test starts. */
function shiftedClock(at: number): Clock {
  const offset = Date.now() - at;
  return { now: () => Date.now() - offset };
}

async function feed(app: App, clock: ManualClock, step: Step): Promise<void> {
  clock.set(step.now_ms);
  const o = await app.server.submitAnnouncement(hexToBytes(step.ann_hex), 'node');
  expect(o.error, `feeding ${step.ann_hash}`).to.equal(step.expected.error);
}

async function get(app: App, path: string): Promise<{ status: number; text: string; hex: string }> {
  const r = await httpRequest(app.address().port, path);
  return { status: r.status, text: r.body.toString(), hex: r.body.toString('hex') };
}

/** /dump as a sorted list of records (the order of nodes may differ with overlapping applies). */
function dumpRecords(hex: string): string[] {
  const b = Buffer.from(hex, 'hex');
  const out: string[] = [];
  for (let i = 0; i + 4 <= b.length;) {
    const len = b.readUInt32BE(i);
    if (len === 0) break;
    out.push(b.subarray(i + 4, i + 4 + len).toString('hex'));
    i += 4 + len;
  }
  return out.sort();
}

function withoutPeerInfo(niBody: string): unknown {
  const v = JSON.parse(niBody) as Record<string, unknown>;
  delete v.peerInfo;
  return v;
}

describe('replication between two route servers', () => {
  let a: App;
  let b: App;
  const clockA = new ManualClock(0);

  before(async () => {
    a = await startTestApp({
      privateKeyHex: routes.self.private_hex,
      version: routes.self.version,
      clock: clockA,
    });
    for (const s of initialSteps) await feed(a, clockA, s);
    b = await startTestApp({
      privateKeyHex: identity('erin').private_hex,
      clock: shiftedClock(liveStep.now_ms),
      // one announcement at a time, as the original: B's node order is then A's exactly
      config: {
        peers: [`ws://127.0.0.1:${a.address().port}/cjdnsnode_websocket`],
        replication: { syncQuietMs: 300, tickMs: 50, applyWindow: 1 },
      },
    });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  describe('initial sync', () => {
    it('pulls every stored announcement of A into B', async () => {
      await waitUntil(() => b.server.store.size === a.server.store.size, "B to hold A's store");
      expect([...b.server.store.hashes()].map((h) => Buffer.from(h).toString('hex'))).to.deep.equal(
        [...a.server.store.hashes()].map((h) => Buffer.from(h).toString('hex')),
      );
    });

    it('serves the same /dump and /ni on B as on A', async () => {
      const [da, db] = [await get(a, '/dump'), await get(b, '/dump')];
      expect(db.hex).to.equal(da.hex);
      expect(da.hex.length).to.be.greaterThan(8);
      const [na, nb] = [await get(a, '/ni'), await get(b, '/ni')];
      expect(withoutPeerInfo(nb.text)).to.deep.equal(withoutPeerInfo(na.text));
    });

    it('computes the same routes on B as on A', async () => {
      await a.server.syncRoutes();
      await b.server.syncRoutes();
      for (const [src, dst] of routePairs) {
        const [ra, rb] = [await get(a, `/path/${src}/${dst}`), await get(b, `/path/${src}/${dst}`)];
        expect(rb.text, `/path/${src}/${dst}`).to.equal(ra.text);
      }
      // and the route the reference engine finds on the same records under the same policy (best)
      const withState = routes.steps.find(
        (s: Step) => s.action === 'getRoute' && String(s.note).startsWith('with link state'),
      );
      const oracle = referenceServer(
        identity('erin').ipv6,
        new ManualClock(liveStep.now_ms),
        'best',
      );
      for (const h of a.server.store.hashes())
        await oracle.server.submitAnnouncement(a.server.store.get(h)!, 'gossip');
      const expected = oracle.server.views.path(withState.srcIp, withState.dstIp);
      await oracle.server.close();
      expect(expected).to.not.equal(null);
      const r = await get(b, `/path/${withState.srcIp}/${withState.dstIp}`);
      expect(JSON.parse(r.text)).to.deep.equal(expected);
    });

    it("reports the peers on / of both servers and the settled sync on B's /readyz", async () => {
      await waitUntil(async () => (await get(b, '/readyz')).status === 200, 'B ready');
      const ready = JSON.parse((await get(b, '/readyz')).text);
      const check = Object.entries(ready.checks).find(([k]) => k.startsWith('peer ws://'));
      expect(check?.[1]).to.include({ ok: true });
      expect((check?.[1] as { detail: string }).detail).to.match(/^synced/);

      const rootB = JSON.parse((await get(b, '/')).text);
      expect(rootB.peer.peers).to.have.length(1);
      expect(rootB.peer.peers[0]).to.include.keys(
        'addr',
        'outstandingRequests',
        'msgsOnWire',
        'msgQueue',
      );
      expect(rootB.peer.peers[0].sync).to.include({
        state: 'done',
        needed: a.server.store.size,
        fetched: a.server.store.size,
        failed: 0,
      });
      expect(rootB.peer.announcements).to.equal(a.server.store.size);
      const rootA = JSON.parse((await get(a, '/')).text);
      expect(rootA.peer.peers).to.have.length(1);
      expect(rootA.peer.peers[0].addr).to.match(/127\.0\.0\.1/);
      expect(Object.keys(rootA.peer.peers[0])).to.deep.equal([
        'addr',
        'outstandingRequests',
        'msgsOnWire',
        'msgQueue',
      ]);
    });
  });

  describe('live propagation', () => {
    it('advertises an announcement accepted by A afterwards and B applies it', async () => {
      const before = b.server.store.size;
      await feed(a, clockA, liveStep);
      await waitUntil(
        () => b.server.store.has(hexToBytes(liveStep.ann_hash)),
        'the live announcement on B',
      );
      expect(b.server.store.size).to.be.greaterThanOrEqual(before);
      const [da, db] = [await get(a, '/dump'), await get(b, '/dump')];
      expect(db.hex).to.equal(da.hex);
      await a.server.syncRoutes();
      await b.server.syncRoutes();
      for (const [src, dst] of routePairs) {
        const [ra, rb] = [await get(a, `/path/${src}/${dst}`), await get(b, `/path/${src}/${dst}`)];
        expect(rb.text, `/path/${src}/${dst}`).to.equal(ra.text);
      }
    });

    it("chains: a third server pulling from B gets A's announcements", async () => {
      const c = await startTestApp({
        privateKeyHex: identity('dave').private_hex,
        clock: shiftedClock(liveStep.now_ms),
        config: {
          peers: [`ws://127.0.0.1:${b.address().port}/cjdnsnode_websocket`],
          replication: { syncQuietMs: 200, tickMs: 50 },
        },
      });
      try {
        await waitUntil(() => c.server.store.size === b.server.store.size, "C to hold B's store");
        // the default apply window overlaps nodes: the same records, in an order that may differ
        expect(dumpRecords((await get(c, '/dump')).hex)).to.deep.equal(
          dumpRecords((await get(a, '/dump')).hex),
        );
      } finally {
        await c.close();
      }
    });
  });
});
