/**
 * Issue 16 item 2, end to end: `node bin/snode.js serve` (one process, its announcement log in a
 * temp dir) is killed -9 while nodes announce, and restarted on the same log. Every
 * acknowledged announcement is back (the /dump set and each node's stateHash are what the
 * acknowledgements said, or that plus the one announcement a node had in flight), and every
 * node's next announcements continue its stateHash chain: no `no_encodingScheme`, no reset. A
 * model — the graph core fed every acknowledged announcement in order — says what each reply
 * must be. Then the log gets a torn record appended (what a crash mid-write leaves) and the
 * process still starts, drops it with a log line and keeps every node.
 */
import { expect } from 'chai';
import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/cluster/native/processes.ts';
import { bstr } from '../../../src/protocol/bencode.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { systemClock } from '../../../src/lib/clock.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import { selfWithIp } from '../../helpers/reference-server.ts';
import { identityFromPrivateKey } from '../../../src/server/identity.ts';
import { encodePut } from '../../../src/store/log-format.ts';
import { annHash } from '../../../src/protocol/announcement.ts';
import { coreState, sleep, TreeNetwork } from '../../helpers/cluster-fixtures.ts';
import { dumpSet, postSubnode, stateHashAt } from '../../helpers/cluster.ts';
import {
  exitWithin,
  killStartedSnodes,
  startSnode,
  type SnodeProcess,
} from '../../helpers/snode-process.ts';
import { announceUntilStopped } from '../../helpers/announce-loops.ts';

const NODES = 15;
const PRIVATE_KEY = 'a'.repeat(62) + '42';

describe('snode serve restarted after kill -9: the announcement log', function () {
  this.timeout(120_000);
  let dir: string;
  let path: string;
  let port: number;
  let selfIp: string;
  let privateKeyHex: string;
  let proc: SnodeProcess | undefined;
  let net: TreeNetwork;
  /** per node, the acknowledged announcements in order (the model is rebuilt from these) */
  const acked: Uint8Array[][] = [];
  /** per node, the announcement sent and not (yet) acknowledged */
  const inFlight: Array<Uint8Array | undefined> = [];
  const discontinuities: string[] = [];
  let model: RouteServer;
  let txid = 0;
  let down = false;
  /** the test ended: loops still running give up quietly */
  let finished = false;

  before(async function () {
    this.timeout(120_000);
    dir = mkdtempSync(join(tmpdir(), 'snode-store-restart-'));
    path = join(dir, 'state', 'announcements.log');
    port = await freePort();
    // a fixed identity whose address is in fc00::/8
    for (let i = 0; ; i++) {
      const hex = PRIVATE_KEY.slice(0, 60) + i.toString(16).padStart(4, '0');
      try {
        selfIp = identityFromPrivateKey(hexToBytes(hex), 22).ipv6;
        privateKeyHex = hex;
        break;
      } catch {
        continue;
      }
    }
    net = new TreeNetwork(NODES, selfIp, 21);
    model = referenceModel();
    for (let i = 0; i < NODES; i++) acked.push([]);
  });
  after(() => {
    finished = true;
    killStartedSnodes();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed' && proc)
      process.stderr.write(`${proc.stderr().slice(-4000)}\n`);
  });

  async function start(): Promise<SnodeProcess> {
    const p = startSnode(
      [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--store-path',
        path,
        '--log-level',
        'info',
      ],
      {
        SNODE_IDENTITY_PRIVATE_KEY: privateKeyHex,
      },
    );
    await p.waitFor('http:server:listening', 60_000);
    proc = p;
    return p;
  }

  /** Send one announcement until it is acknowledged, as cjdns re-sends an unanswered one. */
  async function announce(i: number, bytes: Uint8Array): Promise<void> {
    const ip = net.nodes[i]!.ipv6;
    inFlight[i] = bytes;
    for (let attempt = 0; attempt < 600; attempt++) {
      if (finished) return;
      if (!down) {
        try {
          const r = await postSubnode(
            port,
            {
              sq: 'ann',
              ann: bytes,
              txid: Uint8Array.of(++txid & 0xff, (txid >> 8) & 0xff),
              p: 22,
            },
            ip,
            5000,
          );
          if (r.reply) {
            const error = bstr(r.reply.error);
            if (error !== 'none') throw new Error(`node ${i}: the route server answered ${error}`);
            const o = await model.submitAnnouncement(bytes, 'node');
            if (o.error !== 'none')
              throw new Error(`the model refused an acknowledged announcement: ${o.error}`);
            acked[i]!.push(bytes);
            inFlight[i] = undefined;
            const got = bytesToHex(r.reply.stateHash as Uint8Array);
            if (got !== bytesToHex(o.stateHash))
              discontinuities.push(
                `node ${i}: ${got.slice(0, 16)}… expected ${bytesToHex(o.stateHash).slice(0, 16)}…`,
              );
            return;
          }
        } catch (e) {
          if ((e as Error).message.includes('answered') || (e as Error).message.includes('model'))
            throw e;
        }
      }
      await sleep(50);
    }
    if (!finished) throw new Error(`node ${i}: never acknowledged`);
  }

  function ingest(): { stop: () => Promise<number> } {
    return announceUntilStopped(net.nodes.length, (i) => announce(i, net.update(i, Date.now())), 5);
  }

  /** A reference route server: what the nodes were told is what it answers. */
  function referenceModel(): RouteServer {
    // the oracle of the nodes' chains: the reference engine
    return new RouteServer({
      self: selfWithIp(selfIp),
      clock: systemClock,
      routing: { mode: 'reference' },
    });
  }

  /** The stateHash of node i after its acknowledged announcements (and `extra`). */
  async function expectedHash(i: number, extra?: Uint8Array): Promise<string> {
    // the cluster rules: the node's own order, no clock or snode check
    const ref = referenceModel();
    let h = '';
    for (const a of [...acked[i]!, ...(extra ? [extra] : [])])
      h = bytesToHex((await ref.submitAnnouncement(a, 'cluster')).stateHash);
    await ref.close();
    return h;
  }

  /** Right after a restart: every node holds what it was told, or that plus its announcement in flight. */
  async function everyAcknowledgedAnnouncementBack(): Promise<void> {
    const dump = await dumpSet(port);
    const { kept } = coreState(model);
    const inFlightHashes = new Set(
      inFlight.filter((x) => x !== undefined).map((x) => bytesToHex(annHash(x!))),
    );
    for (let i = 0; i < NODES; i++) {
      const got = await stateHashAt(port, net.nodes[i]!.ipv6);
      const allowed = [await expectedHash(i)];
      if (inFlight[i]) allowed.push(await expectedHash(i, inFlight[i]));
      expect(allowed, `node ${i}: the stateHash after the restart`).to.include(got);
    }
    const missing = [...kept].filter((h) => !dump.has(h));
    // an announcement in flight (durable, not acknowledged) may have replaced an acknowledged one
    const extra = [...dump].filter((h) => !kept.has(h) && !inFlightHashes.has(h));
    expect(extra, 'announcements nobody sent').to.deep.equal([]);
    if (missing.length > 0) {
      expect(
        inFlightHashes.size,
        `acknowledged announcements missing: ${missing.length}`,
      ).to.be.greaterThan(0);
    }
  }

  async function converged(): Promise<void> {
    const { kept, stateHashes } = coreState(model);
    const dump = await dumpSet(port);
    expect(
      [...kept].filter((h) => !dump.has(h)),
      'missing from /dump',
    ).to.deep.equal([]);
    expect(
      [...dump].filter((h) => !kept.has(h)),
      'extra in /dump',
    ).to.deep.equal([]);
    for (const [ip, h] of stateHashes) expect(await stateHashAt(port, ip), ip).to.equal(h);
  }

  it('loses no acknowledged announcement to kill -9 during ingest, and no node needs a reset after the restart', async () => {
    await start();
    await Promise.all(net.nodes.map((_n, i) => announce(i, net.reset(i, Date.now()))));
    const load = ingest();
    await sleep(1500);
    const ackedBefore = acked.reduce((s, a) => s + a.length, 0);
    down = true;
    proc!.child.kill('SIGKILL');
    expect((await exitWithin(proc!, 10_000)).signal).to.equal('SIGKILL');
    expect(ackedBefore, 'announcements acknowledged before the kill').to.be.greaterThan(3 * NODES);

    // the loops wait (their announcements in flight are not acknowledged); the log is as the kill left it
    expect(statSync(path).size).to.be.greaterThan(0);
    const p = await start(); // the loops still wait: first the state is checked
    const reload = await p.waitFor('store:reload:done');
    expect(reload).to.include({ nodes: NODES, expiredNodes: 0 });
    expect(reload.refused).to.deep.equal({});
    expect(p.logs.findIndex((l) => l.event === 'store:reload:done')).to.be.lessThan(
      p.logs.findIndex((l) => l.event === 'http:server:listening'),
      'reloaded before it listened',
    );
    await everyAcknowledgedAnnouncementBack();

    down = false;
    await sleep(1500);
    const total = await load.stop();
    expect(total).to.be.greaterThan(3 * NODES);
    expect(discontinuities, "every acknowledgement continued the node's stateHash").to.deep.equal(
      [],
    );
    await converged();
  });

  it('starts on a log whose last record was torn by the crash, drops it with a log line, and keeps every node', async () => {
    down = true;
    proc!.child.kill('SIGKILL');
    await exitWithin(proc!, 10_000);
    // half a record: what a crash in the middle of a write leaves at the end
    const torn = encodePut(
      new Uint8Array(64).fill(7),
      net.update(0, Date.now()),
      new Uint8Array(32).fill(7),
    );
    appendFileSync(path, torn.subarray(0, Math.floor(torn.length / 2)));
    const before = statSync(path).size;
    const p = await start();
    down = false;
    const dropped = p.logs.find((l) => l.event === 'store:log:tail_dropped');
    expect(dropped, 'store:log:tail_dropped logged').to.not.equal(undefined);
    expect(dropped).to.include({
      droppedBytes: Math.floor(torn.length / 2),
      offset: before - Math.floor(torn.length / 2),
    });
    await converged();
    // and the next announcement of every node continues its chain
    for (let i = 0; i < NODES; i++) await announce(i, net.update(i, Date.now()));
    expect(discontinuities).to.deep.equal([]);
    await converged();
    p.child.kill('SIGTERM');
    expect((await exitWithin(p, 10_000)).code).to.equal(0);
  });
});
