/**
 * The cluster actor on a real redis-server (started by the test on a free port): simulated
 * processes in this test process, each a CoreSink with its own RedisClusterBus (two ioredis
 * connections each), one key prefix per test.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { ClusterActor, type PublishResult } from '../../../src/cluster/cluster-actor.ts';
import {
  EnvelopeAuth,
  generateClusterKey,
  parseClusterKey,
} from '../../../src/cluster/envelope-auth.ts';
import { RedisClusterBus } from '../../../src/cluster/redis-bus.ts';
import { annHash } from '../../../src/protocol/announcement.ts';
import { encodeClusterEnvelope } from '../../../src/protocol/cluster-envelope.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import {
  CoreSink,
  RecordingSink,
  TreeNetwork,
  eventually,
  fcIdentities,
  sleep,
} from '../../helpers/cluster-fixtures.ts';
import { captureLog } from '../../helpers/log-capture.ts';
import { startTestRedis, type TestRedis } from '../../helpers/redis.ts';
import { checkSnapshotCondition } from '../../helpers/snapshot-condition.ts';

const SNODE = fcIdentities(1, 99)[0]!.ipv6;
/** the cluster key of these simulated processes (a Redis bus is always authenticated) */
const KEY = parseClusterKey(generateClusterKey());
const sealed = (envelope: Uint8Array): Uint8Array => new EnvelopeAuth(KEY).seal(envelope);

interface Proc {
  readonly sink: CoreSink;
  readonly actor: ClusterActor;
}

describe('cluster bus on Redis', function () {
  this.timeout(30_000);
  let redis: TestRedis;
  let admin: Redis;
  let prefix: string;
  let net: TreeNetwork;
  let testNo = 0;
  const started: ClusterActor[] = [];

  before(async () => {
    redis = await startTestRedis();
    admin = new Redis(redis.url, {
      lazyConnect: true,
      maxRetriesPerRequest: null,
      retryStrategy: () => 100,
    });
    admin.on('error', () => undefined);
    await admin.connect();
  });
  after(async () => {
    admin.disconnect();
    await redis.stop();
  });
  beforeEach(() => {
    prefix = `t${++testNo}`;
    net = new TreeNetwork(7, SNODE);
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((a) => a.close()));
    if (!redis.server.process.running) await redis.start(); // a failed test must not take Redis with it
  });

  async function proc(
    opts: { streamMaxLen?: number; sink?: CoreSink; url?: string; catchUpTimeoutMs?: number } = {},
  ): Promise<Proc> {
    const sink = opts.sink ?? new CoreSink(SNODE);
    const actor = await ClusterActor.start({
      bus: new RedisClusterBus({
        url: opts.url ?? redis.url,
        prefix,
        streamMaxLen: opts.streamMaxLen,
      }),
      sink,
      key: KEY,
      antiEntropyIntervalMs: 200,
      catchUpTimeoutMs: opts.catchUpTimeoutMs,
    });
    started.push(actor);
    return { sink, actor };
  }

  /**
   * What the funnel does for a node's own announcement. `inFlight`: it was applied before the bus
   * went away (the catch-up check passed): straight to publish.
   */
  async function ingest(
    p: Proc,
    i: number,
    bytes: Uint8Array,
    inFlight = false,
  ): Promise<PublishResult> {
    const ip = net.nodes[i]!.ipv6;
    if (!inFlight) await p.actor.catchUpBeforeLocalApply(ip);
    expect((await p.sink.local(bytes)).error).to.equal('none');
    return p.actor.publishAccepted(bytes, ip);
  }

  /** As a node sends it: again until the cluster takes it (refused while a connection is re-made). */
  async function send(p: Proc, i: number, bytes: Uint8Array): Promise<PublishResult> {
    for (;;) {
      try {
        return await ingest(p, i, bytes);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== 'RS_ERR_CLUSTER_NOT_DURABLE' && code !== 'RS_ERR_CLUSTER_CATCHING_UP') throw e;
        await sleep(50);
      }
    }
  }

  async function round(
    p: Proc,
    nodes: number[],
    kind: 'reset' | 'update',
  ): Promise<PublishResult[]> {
    const out: PublishResult[] = [];
    for (const i of nodes)
      out.push(
        await ingest(p, i, kind === 'reset' ? net.reset(i, Date.now()) : net.update(i, Date.now())),
      );
    return out;
  }

  const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

  function same(a: CoreSink, b: CoreSink): boolean {
    const x = a.state();
    const y = b.state();
    if (x.kept.size !== y.kept.size || x.stateHashes.size !== y.stateHashes.size) return false;
    for (const h of x.kept) if (!y.kept.has(h)) return false;
    for (const [ip, h] of x.stateHashes) if (y.stateHashes.get(ip) !== h) return false;
    return true;
  }

  async function converged(
    a: Proc,
    b: Proc,
    what = 'convergence',
    timeoutMs = 15_000,
  ): Promise<void> {
    await eventually(what, () => same(a.sink, b.sink), timeoutMs);
    expect(b.sink.state().stateHashes).to.deep.equal(a.sink.state().stateHashes);
  }

  it('stores every accepted announcement durably and every process applies it in order', async () => {
    const a = await proc();
    const b = await proc();
    await a.actor.whenReady(5000);
    await b.actor.whenReady(5000);
    const results = [...(await round(a, all(7), 'reset')), ...(await round(a, all(7), 'update'))];
    for (const r of results) expect(r.durable).to.equal(true);
    await converged(a, b);
    expect(await admin.xlen(`${prefix}:record`)).to.equal(14);
    const snapshotKeys = await admin.keys(`${prefix}:node:*`);
    expect(snapshotKeys).to.have.length(7);
    expect(await admin.pttl(snapshotKeys[0]!)).to.be.greaterThan(0);
  });

  it('re-subscribes and repairs from the stream after its subscription was killed', async () => {
    const a = await proc();
    const b = await proc();
    await b.actor.whenReady(5000);
    await round(a, all(7), 'reset');
    await converged(a, b);
    await admin.client('KILL', 'TYPE', 'pubsub');
    for (const i of [...all(7), 0, 1, 2]) await send(a, i, net.update(i, Date.now()));
    await converged(a, b, 'repair after the subscription was killed');
  });

  it('applies an entry that was appended twice only once', async () => {
    const rec = new RecordingSink();
    started.push(
      await ClusterActor.start({
        bus: new RedisClusterBus({ url: redis.url, prefix }),
        sink: rec,
        key: KEY,
        antiEntropyIntervalMs: 200,
      }),
    );
    const writer = new RedisClusterBus({ url: redis.url, prefix: prefix });
    await writer.start({ frame: () => undefined, up: () => undefined, down: () => undefined });
    await eventually('writer connected', () => writer.connected());
    const ip0 = net.nodes[0]!.ipv6;
    const envelope = sealed(
      encodeClusterEnvelope({
        kind: 'ann',
        origin: 'other',
        seq: 1,
        acceptedAtMs: Date.now(),
        nodeIp: ip0,
        ann: net.reset(0, Date.now()),
      }),
    );
    await writer.append({ envelope, nodeIp: ip0 });
    await writer.append({ envelope, nodeIp: ip0 });
    const ip1 = net.nodes[1]!.ipv6;
    await writer.append({
      envelope: sealed(
        encodeClusterEnvelope({
          kind: 'ann',
          origin: 'other',
          seq: 2,
          acceptedAtMs: Date.now(),
          nodeIp: ip1,
          ann: net.reset(1, Date.now()),
        }),
      ),
      nodeIp: ip1,
    });
    await eventually('both entries applied', () => rec.applied.length >= 2);
    await sleep(100);
    expect(rec.applied).to.have.length(2);
    await writer.close();
  });

  it("the append script writes a re-published entry's snapshot only while the node's key names nothing newer than the publisher's watermark, and appends the entry either way", async () => {
    const bus = new RedisClusterBus({ url: redis.url, prefix });
    await bus.start({ frame: () => undefined, up: () => undefined, down: () => undefined });
    try {
      await eventually('bus connected', () => bus.connected());
      await checkSnapshotCondition(bus, 'fc00::');
      // ids compare by number, part by part: 7-10 is newer than 7-9 (not as strings)
      const ip = 'fc00::9';
      const key = `${prefix}:node:${ip}`;
      const env = Uint8Array.of(0);
      await admin.set(key, '7-10 x');
      await bus.append({ envelope: env, nodeIp: ip, snapshot: env, snapshotIf: { upTo: '7-9' } });
      expect(await admin.get(key)).to.equal('7-10 x');
      const id = await bus.append({
        envelope: env,
        nodeIp: ip,
        snapshot: env,
        snapshotIf: { upTo: '7-10' },
      });
      expect(await bus.snapshotId(ip)).to.equal(id);
      // a key whose id cannot be read holds nothing usable: replaced
      await admin.set(key, 'garbage');
      const id2 = await bus.append({
        envelope: env,
        nodeIp: ip,
        snapshot: env,
        snapshotIf: { upTo: undefined },
      });
      expect(await bus.snapshotId(ip)).to.equal(id2);
      expect(await admin.pttl(key), 'the snapshot expires with the node').to.be.greaterThan(0);
    } finally {
      await bus.close();
    }
  });

  it('refuses entries written straight into Redis without the cluster key (record, frame, snapshot): not applied, counted, logged', async () => {
    const rec = new RecordingSink();
    const registry = new Registry();
    const logs = captureLog('info');
    started.push(
      await ClusterActor.start({
        bus: new RedisClusterBus({ url: redis.url, prefix }),
        sink: rec,
        key: KEY,
        registry,
        log: logs.log,
        antiEntropyIntervalMs: 200,
      }),
    );
    // someone who can write to this Redis but does not hold the cluster key
    const writer = new RedisClusterBus({ url: redis.url, prefix });
    await writer.start({ frame: () => undefined, up: () => undefined, down: () => undefined });
    await eventually('writer connected', () => writer.connected());
    const anns = [0, 1, 2, 3, 4].map((i) => net.reset(i, Date.now()));
    const env = (i: number, seq: number): Uint8Array =>
      encodeClusterEnvelope({
        kind: 'ann',
        origin: 'intruder',
        seq,
        acceptedAtMs: Date.now(),
        nodeIp: net.nodes[i]!.ipv6,
        ann: anns[i]!,
      });
    // 1. a bare envelope (XADD + the node's snapshot key + PUBLISH, as the bus writes them)
    const snap = (i: number, seq: number): Uint8Array =>
      encodeClusterEnvelope({
        kind: 'snapshot',
        origin: 'intruder',
        seq,
        acceptedAtMs: Date.now(),
        nodeIp: net.nodes[i]!.ipv6,
        resetMsg: anns[i]!,
        keptOldestFirst: [],
      });
    await writer.append({ envelope: env(0, 1), nodeIp: net.nodes[0]!.ipv6, snapshot: snap(0, 1) });
    // 2. sealed with another key
    const otherKey = new EnvelopeAuth(parseClusterKey(generateClusterKey()));
    await writer.append({ envelope: otherKey.seal(env(1, 2)), nodeIp: net.nodes[1]!.ipv6 });
    // 3. a tag of the right length that is not the tag
    const forged = sealed(env(2, 3));
    forged[forged.length - 1]! ^= 1;
    await writer.append({ envelope: forged, nodeIp: net.nodes[2]!.ipv6 });
    // 4. a raw frame published on the channel, never in the record
    await admin.publish(
      `${prefix}:frames`,
      Buffer.concat([Buffer.from('9999999999999-0 0-0 '), Buffer.from(env(3, 4))]),
    );
    // 5. one entry sealed with the cluster key
    await writer.append({
      envelope: sealed(env(4, 5)),
      nodeIp: net.nodes[4]!.ipv6,
      snapshot: sealed(snap(4, 5)),
    });
    await eventually('the sealed entry applied', () => rec.applied.length >= 1);
    const counted = async (): Promise<number> => {
      const m = await registry.getSingleMetric('snode_cluster_applied_total')!.get();
      return m.values
        .filter((v) => v.labels.result === 'unauthenticated')
        .reduce((a, v) => a + v.value, 0);
    };
    let n = 0;
    await eventually('the unauthenticated entries counted', async () => (n = await counted()) >= 3);
    await sleep(300);
    expect(rec.applied, 'only the sealed entry is applied').to.deep.equal([
      bytesToHex(annHash(anns[4]!)),
    ]);
    expect(n).to.be.at.least(3);
    const line = logs.events('cluster:entry:unauthenticated')[0];
    expect(line, 'a log line says why').to.not.equal(undefined);
    expect(line.msg).to.match(/cluster key/);
    // a process that starts from the snapshots (the record trimmed away) refuses the forged snapshot too
    await admin.xtrim(`${prefix}:record`, 'MAXLEN', 1);
    const rec2 = new RecordingSink();
    const late = await ClusterActor.start({
      bus: new RedisClusterBus({ url: redis.url, prefix }),
      sink: rec2,
      key: KEY,
      antiEntropyIntervalMs: 200,
      fullReplayMaxEntries: 0,
    });
    started.push(late);
    expect(await late.whenReady(10_000)).to.equal(true);
    expect(
      rec2.applied,
      'the forged snapshot (node 0) is not applied; the sealed one (node 4) is',
    ).to.deep.equal([bytesToHex(annHash(anns[4]!))]);
    await writer.close();
  });

  it('a Redis bus needs the cluster key (RS_ERR_CONFIG_INVALID without it)', async () => {
    expect(
      () =>
        new ClusterActor({
          bus: new RedisClusterBus({ url: redis.url, prefix }),
          sink: new RecordingSink(),
        }),
    )
      .to.throw()
      .with.property('code', 'RS_ERR_CONFIG_INVALID');
  });

  it('a process started after the stream was trimmed rebuilds every node from the snapshots', async () => {
    const a = await proc();
    await a.actor.whenReady(5000);
    await round(a, all(7), 'reset');
    for (let k = 0; k < 3; k++) await round(a, all(7), 'update');
    await admin.xtrim(`${prefix}:record`, 'MAXLEN', 1);
    const c = await proc();
    expect(await c.actor.whenReady(10_000)).to.equal(true);
    expect(same(a.sink, c.sink), 'identical kept sets and stateHash').to.equal(true);
    expect(c.actor.status().resyncs).to.be.greaterThan(0);
  });

  it('keeps the stream bounded (XADD MAXLEN ~)', async () => {
    const a = await proc({ streamMaxLen: 50 });
    await a.actor.whenReady(5000);
    await round(a, all(7), 'reset');
    for (let k = 0; k < 40; k++) await round(a, all(7), 'update');
    const len = await admin.xlen(`${prefix}:record`);
    expect(len).to.be.lessThan(287).and.at.least(50);
  });

  it('keeps what it applied when Redis went away in a bounded backlog (never acknowledged) and converges after it returns', async () => {
    const a = await proc();
    const b = await proc();
    await b.actor.whenReady(5000);
    await round(a, all(7), 'reset');
    await converged(a, b);
    await redis.stopServer();
    await eventually('a notices', () => !a.actor.status().connected);
    // a node's next announcement is refused before it is applied …
    let refused = '';
    await ingest(a, 0, net.update(0, Date.now())).catch(
      (e: { code?: string }) => (refused = e.code ?? ''),
    );
    expect(refused).to.equal('RS_ERR_CLUSTER_NOT_DURABLE');
    // … and what was applied when its append failed waits in the backlog
    const results: PublishResult[] = [];
    for (const i of all(7)) results.push(await ingest(a, i, net.update(i, Date.now()), true));
    for (const r of results) expect(r).to.include({ durable: false, reason: 'bus_unavailable' });
    expect(a.actor.status().backlog).to.equal(7);
    await redis.start();
    await converged(a, b, 'convergence after Redis returned');
    expect(a.actor.status().backlog).to.equal(0);
    expect(await admin.xlen(`${prefix}:record`)).to.equal(14);
  });

  it('starts while Redis is down: applies no node announcement before it caught up, and becomes ready once Redis is up', async () => {
    const a = await proc();
    await a.actor.whenReady(5000);
    await round(a, all(7), 'reset');
    await redis.stopServer();
    const c = await proc({ catchUpTimeoutMs: 200 });
    await sleep(300);
    expect(c.actor.status()).to.include({ ready: false, connected: false });
    const bytes = net.update(0, Date.now());
    let refused = '';
    await ingest(c, 0, bytes).catch((e: { code?: string }) => (refused = e.code ?? String(e)));
    expect(refused, 'a node announcement before the catch-up').to.equal(
      'RS_ERR_CLUSTER_CATCHING_UP',
    );
    expect(c.sink.state().stateHashes.size, 'nothing applied out of order').to.equal(0);
    await redis.start();
    expect(await c.actor.whenReady(10_000)).to.equal(true);
    await converged(c, a, 'the late starter caught up');
    // the node sends it again: c takes over node 0 and continues its chain
    expect((await ingest(c, 0, bytes)).durable).to.equal(true);
    await converged(a, c, 'a follows c');
  });

  it('converges when Redis restarts during ingest from two processes', async () => {
    const a = await proc();
    const b = await proc();
    await a.actor.whenReady(5000);
    await b.actor.whenReady(5000);
    await round(a, [0, 1, 2, 3], 'reset');
    await round(b, [4, 5, 6], 'reset');
    let stop = false;
    let deferred = 0;
    const pump = async (p: Proc, nodes: number[]): Promise<number> => {
      let n = 0;
      while (!stop) {
        for (const i of nodes) {
          // refused (not applied) or applied but not durable: not acknowledged; the node sends its next one
          const durable = await ingest(p, i, net.update(i, Date.now())).then(
            (r) => r.durable,
            (e: { code?: string }) => {
              if (
                e.code !== 'RS_ERR_CLUSTER_NOT_DURABLE' &&
                e.code !== 'RS_ERR_CLUSTER_CATCHING_UP'
              )
                throw e;
              return false;
            },
          );
          if (!durable) deferred++;
          n++;
        }
        await sleep(5);
      }
      return n;
    };
    const pumps = [pump(a, [0, 1, 2, 3]), pump(b, [4, 5, 6])];
    await sleep(300);
    await redis.restart({ downMs: 300 });
    await sleep(300);
    stop = true;
    const counts = await Promise.all(pumps);
    expect(counts[0]! + counts[1]!).to.be.greaterThan(20);
    expect(
      deferred,
      'some announcements were not acknowledged while Redis was down',
    ).to.be.greaterThan(0);
    await converged(a, b, 'convergence after the Redis restart', 20_000);
    // an entry Redis stored although the write was reported failed is applied everywhere yet
    // still in its publisher's backlog until re-published: the backlog drains, maybe a moment later
    await eventually(
      'the backlogs drained',
      () => a.actor.status().backlog + b.actor.status().backlog === 0,
      10_000,
    );
    expect(a.actor.status().backlog + b.actor.status().backlog).to.equal(0);
  });

  it('works as a Redis ACL user limited to its prefix (the user docs/security.md gives), which cannot touch other keys', async () => {
    const user = `snode-${prefix}`;
    const password = 'an-acl-password-for-the-test';
    // exactly the rule of docs/security.md, with this test's prefix
    await admin.acl(
      'SETUSER',
      user,
      'on',
      `>${password}`,
      `~${prefix}:*`,
      `&${prefix}:*`,
      '+@all',
      '-@admin',
      '-@dangerous',
      '+info',
    );
    const url = `redis://${user}:${password}@127.0.0.1:${redis.port}`;
    const a = await proc({ url });
    const b = await proc({ url });
    expect(await a.actor.whenReady(5000)).to.equal(true);
    expect(await b.actor.whenReady(5000)).to.equal(true);
    for (const r of await round(a, all(7), 'reset')) expect(r.durable).to.equal(true);
    await converged(a, b);
    const limited = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await limited.connect();
      for (const attempt of [
        () => limited.get('other:key'),
        () => limited.flushall(),
        () => limited.config('GET', 'requirepass'),
      ]) {
        const err = await attempt().then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err?.message).to.match(/^NOPERM/);
      }
    } finally {
      limited.disconnect();
    }
  });

  it('comes up without a reconnect once a check that failed on a ready connection passes (here: INFO refused, then allowed)', async () => {
    const user = `snode-${prefix}`;
    const password = 'an-acl-password-for-the-test';
    const rule = [`~${prefix}:*`, `&${prefix}:*`, '+@all', '-@admin', '-@dangerous'];
    await admin.acl('SETUSER', user, 'on', `>${password}`, ...rule); // without +info
    // ioredis says once that it skips its own ready check (INFO refused); not this test's output
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      const a = await proc({ url: `redis://${user}:${password}@127.0.0.1:${redis.port}` });
      expect(await a.actor.whenReady(1500), 'ready while INFO is refused').to.equal(false);
      expect(a.actor.status().connected).to.equal(false);
      await admin.acl('SETUSER', user, '+info'); // the connection stays as it is
      expect(await a.actor.whenReady(5000), 'ready once INFO is allowed').to.equal(true);
      expect(a.actor.status().writable).to.equal(true);
    } finally {
      console.warn = warn;
    }
  });

  it('connects again when the Redis client gives a connection up (its connector failed, as a sentinel lookup cut short by a failover notice does)', async () => {
    const bus = new RedisClusterBus({ url: redis.url, prefix });
    const actor = await ClusterActor.start({
      bus,
      sink: new CoreSink(SNODE),
      key: KEY,
      antiEntropyIntervalMs: 200,
    });
    started.push(actor);
    expect(await actor.whenReady(5000)).to.equal(true);
    type Connector = { connect: (...args: unknown[]) => Promise<unknown> };
    const cmd = (bus as unknown as { cmd: Redis }).cmd;
    // ioredis's connector (a private field of the client)
    const connector = (cmd as unknown as { connector: Connector }).connector;
    // the next connect fails in the connector, as SentinelConnector's does when the
    // +switch-master notice closes it mid-lookup: ioredis then sets the status `end`, for good
    const connect = connector.connect.bind(connector);
    let connects = 0;
    connector.connect = (...args: unknown[]) =>
      connects++ === 0 ? Promise.reject(new Error('Connection is closed.')) : connect(...args);
    const ended = new Promise((r) => cmd.once('end', r));
    await admin.client('KILL', 'ID', String(await cmd.client('ID')));
    await ended;
    await eventually('the command connection is back', () => actor.status().connected, 10_000);
    expect(cmd.status).to.equal('ready');
    expect(connects).to.be.at.least(2);
    expect(actor.status().writable).to.equal(true);
  });

  it("refuses a client without the password (the test Redis runs like the launcher's: requirepass, protected mode)", async () => {
    const anonymous = new Redis({
      port: redis.port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableReadyCheck: false,
    });
    try {
      await anonymous.connect();
      const err = await anonymous.get(`${prefix}:last`).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(/^NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
  });
});
