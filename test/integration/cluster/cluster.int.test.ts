/**
 * "Done when" of the cluster issue, end to end: three real route-server processes started by the
 * shipped launcher (src/cluster/native/launcher.ts, i.e. `npm run cluster`), a real redis-server, and a
 * real haproxy with the shipped rules. Announcements go through HAProxy like an edge would send
 * them; a model (the graph core, fed every acknowledged announcement in order) says what each
 * node's stateHash must be after each acknowledgement and what every process must end up holding.
 *
 * Needs the cluster bus wired into the route server (app.ts: startCluster, publishAccepted before
 * the `ann` reply, catchUpBeforeLocalApply before a node's own announcement, a `cluster` check in
 * /readyz). Run:  npx mocha test/integration/cluster/cluster.int.test.ts
 */
import { expect } from 'chai';
import { systemClock } from '../../../src/lib/clock.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import { selfWithIp } from '../../helpers/reference-server.ts';
import { waitFor } from '../../../src/cluster/native/processes.ts';
import { bstr } from '../../../src/protocol/bencode.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { ip6FromString } from '../../../src/protocol/keys.ts';
import { encodeRouteN } from '../../../src/protocol/subnode-message.ts';
import {
  clusterLogs,
  dumpSet,
  postSubnode,
  readyz,
  stateHashAt,
  startTestCluster,
  type TestCluster,
} from '../../helpers/cluster.ts';
import { TreeNetwork, coreState, sleep } from '../../helpers/cluster-fixtures.ts';
import { announceUntilStopped } from '../../helpers/announce-loops.ts';

const NODES = 15;

/** What the nodes were told: every acknowledged announcement applied in acknowledgement order. */
class Model {
  readonly server: RouteServer;
  constructor(snodeIp: string) {
    // the oracle of what the nodes were told: the reference engine
    this.server = new RouteServer({
      self: selfWithIp(snodeIp),
      clock: systemClock,
      routing: { mode: 'reference' },
    });
  }
  async accept(bytes: Uint8Array): Promise<string> {
    const o = await this.server.submitAnnouncement(bytes, 'node');
    if (o.error !== 'none')
      throw new Error(`model refused an announcement the cluster acknowledged: ${o.error}`);
    return bytesToHex(o.stateHash);
  }
}

describe('cluster: three processes behind HAProxy (real Redis, real HAProxy)', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let net: TreeNetwork;
  let model: Model;
  /** acknowledgements whose stateHash differed from the model's (a broken chain) */
  const discontinuities: string[] = [];
  let acked = 0;
  let txid = 0;

  before(async function () {
    this.timeout(120_000);
    cluster = await startTestCluster({ processes: 3 });
    const r = await readyz(cluster.snodes[0]!.port);
    if (!r?.body.checks || !('cluster' in r.body.checks)) {
      throw new Error(
        'the route server has no cluster bus wired: /readyz has no "cluster" check (app.ts must call startCluster; docs/cluster.md "Wiring")',
      );
    }
    net = new TreeNetwork(NODES, cluster.identity.ipv6, 21);
    model = new Model(cluster.identity.ipv6);
  });
  after(async () => cluster?.stop());
  afterEach(function () {
    if (this.currentTest?.state === 'failed' && cluster)
      process.stderr.write(`${clusterLogs(cluster)}\n`);
  });

  /** Send one announcement through HAProxy until it is acknowledged (as cjdns would re-send it). */
  async function announce(i: number, bytes: Uint8Array): Promise<void> {
    const ip = net.nodes[i]!.ipv6;
    let last = '';
    for (let attempt = 0; attempt < 60; attempt++) {
      try {
        const r = await postSubnode(
          cluster.haproxy.port,
          { sq: 'ann', ann: bytes, txid: Uint8Array.of(++txid & 0xff, txid >> 8), p: 22 },
          ip,
          5000,
        );
        if (r.reply) {
          const error = bstr(r.reply.error);
          if (error !== 'none') throw new Error(`node ${i}: the cluster answered ${error}`);
          acked++;
          const expected = await model.accept(bytes);
          const got = bytesToHex(r.reply.stateHash as Uint8Array);
          if (got !== expected)
            discontinuities.push(
              `node ${i} ack #${acked}: ${got.slice(0, 16)}… expected ${expected.slice(0, 16)}…`,
            );
          return;
        }
        last = `HTTP ${r.status}`;
      } catch (e) {
        if ((e as Error).message.includes('the cluster answered')) throw e;
        last = (e as Error).message;
      }
      await sleep(100); // not acknowledged: send it again
    }
    throw new Error(`node ${i}: never acknowledged (${last})`);
  }

  /** Every node announces update after update until `stop()`; returns the number acknowledged. */
  function ingest(): { stop: () => Promise<number> } {
    return announceUntilStopped(
      net.nodes.length,
      (i) => announce(i, net.update(i, Date.now())),
      20,
    );
  }

  /** Every process holds exactly the acknowledged state: /dump sets and per-node stateHash. */
  async function converged(timeoutMs = 20_000): Promise<void> {
    const { kept, stateHashes } = coreState(model.server);
    let why = '';
    await waitFor(
      'every process to hold the acknowledged state',
      async () => {
        for (const s of cluster.snodes) {
          const dump = await dumpSet(s.port);
          const missing = [...kept].filter((h) => !dump.has(h)).length;
          const extra = [...dump].filter((h) => !kept.has(h)).length;
          if (missing || extra) {
            why = `snode${s.index + 1}: /dump misses ${missing}, has ${extra} extra`;
            return false;
          }
          for (const [ip, h] of stateHashes) {
            if ((await stateHashAt(s.port, ip)) !== h) {
              why = `snode${s.index + 1}: stateHash of ${ip} differs`;
              return false;
            }
          }
        }
        return true;
      },
      timeoutMs,
      200,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${why}`);
    });
  }

  it('ends announcements sent through HAProxy in identical /dump sets and stateHash on every process; gr answers agree', async () => {
    await Promise.all(net.nodes.map((_n, i) => announce(i, net.reset(i, Date.now()))));
    for (let round = 0; round < 3; round++)
      await Promise.all(net.nodes.map((_n, i) => announce(i, net.update(i, Date.now()))));
    expect(discontinuities).to.deep.equal([]);
    await converged();

    // Routes come from each process's active snapshot (swapped every routing.swapIntervalMs), so
    // answers agree once every snapshot holds the converged state: wait for that, bounded.
    const pairs: Array<[number, number]> = [
      [0, 14],
      [14, 0],
      [3, 9],
      [7, 8],
      [13, 2],
      [5, 5],
    ];
    for (const [a, b] of pairs) {
      const src = net.nodes[a]!.ipv6;
      const tar = net.nodes[b]!.ipv6;
      const route = model.server.routeForGr(src, tar);
      expect(route, `the model has a route ${a}→${b}`).to.not.equal(null);
      const expected = bytesToHex(encodeRouteN(route!.key, route!.label));
      let last: unknown;
      await waitFor(
        `gr ${a}→${b} to agree on every process`,
        async () => {
          const answers = await Promise.all(
            cluster.snodes.map(async (s) => {
              const r = await postSubnode(
                s.port,
                {
                  sq: 'gr',
                  txid: Uint8Array.of(a, b),
                  src: ip6FromString(src),
                  tar: ip6FromString(tar),
                  p: 22,
                },
                src,
              );
              expect(r.reply, `gr ${a}→${b} at snode${s.index + 1}`).to.not.equal(null);
              return {
                n: r.reply!.n ? bytesToHex(r.reply!.n as Uint8Array) : undefined,
                np: r.reply!.np ? bytesToHex(r.reply!.np as Uint8Array) : undefined,
              };
            }),
          );
          last = answers;
          return answers.every((ans) => ans.n === expected && ans.np === answers[0]!.np);
        },
        10_000,
        200,
      ).catch((e: Error) => {
        throw new Error(`${e.message}: ${JSON.stringify(last)} (expected n ${expected})`);
      });
    }
  });

  it('loses no acknowledged announcement when a process is killed -9 during ingest; its nodes fail over with a continuous stateHash; a restarted process catches up before it reports ready', async () => {
    const load = ingest();
    await sleep(1500);
    const ackedBefore = acked;
    await cluster.kill(1);
    await sleep(2500); // its nodes now talk to the other two
    expect(
      acked - ackedBefore,
      'announcements acknowledged while snode2 was down',
    ).to.be.greaterThan(NODES);
    await cluster.start(1, { waitReady: false }); // restarted during ingest: its nodes come back to it
    await waitFor(
      'snode2 ready again',
      async () => (await readyz(cluster.snodes[1]!.port))?.status === 200,
      20_000,
    );
    await sleep(1000);
    const total = await load.stop();
    expect(total).to.be.greaterThan(3 * NODES);
    expect(discontinuities, "every acknowledgement continued the node's stateHash").to.deep.equal(
      [],
    );
    await converged();

    // ready means caught up: kill -9 another one, restart it, and look the moment it says ready
    await cluster.kill(2);
    for (let i = 0; i < NODES; i += 3) await announce(i, net.update(i, Date.now())); // missed by snode3
    await cluster.start(2, { waitReady: false });
    await waitFor(
      'snode3 ready',
      async () => (await readyz(cluster.snodes[2]!.port))?.status === 200,
      20_000,
      20,
    );
    const { kept, stateHashes } = coreState(model.server);
    const dump = await dumpSet(cluster.snodes[2]!.port);
    expect(
      [...kept].filter((h) => !dump.has(h)),
      'acknowledged announcements missing at the moment of ready',
    ).to.deep.equal([]);
    for (const [ip, h] of stateHashes)
      expect(await stateHashAt(cluster.snodes[2]!.port, ip), ip).to.equal(h);
  });

  it('converges on every process after Redis restarts during ingest', async () => {
    const load = ingest();
    await sleep(1000);
    await cluster.restartRedis({ downMs: 700 });
    await sleep(1500);
    await load.stop();
    expect(discontinuities).to.deep.equal([]);
    await converged(25_000);
    for (const s of cluster.snodes) {
      const r = await readyz(s.port);
      expect(r?.body.checks?.cluster?.ok, `snode${s.index + 1} cluster check`).to.equal(true);
    }
  });
});
