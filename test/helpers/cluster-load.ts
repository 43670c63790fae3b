/**
 * Load through HAProxy with the cluster's guarantee as the oracle (docs/cluster.md, "The
 * guarantee"): nodes of a TreeNetwork announce update after update as cjdns would — an
 * announcement that is not acknowledged is sent again — and a model (the graph core, fed every
 * acknowledged announcement in acknowledgement order) says what each node's stateHash must be
 * after each acknowledgement and what every process must end up holding.
 */
import { waitFor } from '../../src/cluster/native/processes.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { RouteServer } from '../../src/server/route-server.ts';
import { bstr } from '../../src/protocol/bencode.ts';
import { bytesToHex } from '../../src/protocol/hex.ts';
import { TreeNetwork, coreState, sleep } from './cluster-fixtures.ts';
import { dumpSet, postSubnode, stateHashAt, type TestCluster } from './cluster.ts';
import { selfWithIp } from './reference-server.ts';
import { announceUntilStopped } from './announce-loops.ts';

export class AckedLoad {
  readonly net: TreeNetwork;
  /** a route server (reference engine) fed every acknowledged announcement, in acknowledgement order */
  readonly model: RouteServer;
  /** acknowledgements whose stateHash differed from the model's (a broken chain) */
  readonly discontinuities: string[] = [];
  /** sends that were not acknowledged, by what came back (`HTTP 503`, a timeout, …) */
  readonly refusals = new Map<string, number>();
  acked = 0;
  private txid = 0;

  constructor(
    private readonly cluster: TestCluster,
    nodes: number,
    seed: number,
  ) {
    this.net = new TreeNetwork(nodes, cluster.identity.ipv6, seed);
    // the oracle of the acknowledged state: the reference engine
    this.model = new RouteServer({
      self: selfWithIp(cluster.identity.ipv6),
      clock: systemClock,
      routing: { mode: 'reference' },
    });
  }

  /** Send one announcement through HAProxy until it is acknowledged (as cjdns would send it again). */
  async announce(
    i: number,
    bytes: Uint8Array,
    opts: { attempts?: number; port?: number } = {},
  ): Promise<void> {
    const ip = this.net.nodes[i]!.ipv6;
    let last = '';
    for (let attempt = 0; attempt < (opts.attempts ?? 60); attempt++) {
      try {
        const t = ++this.txid;
        const r = await postSubnode(
          opts.port ?? this.cluster.haproxy.port,
          { sq: 'ann', ann: bytes, txid: Uint8Array.of(t & 0xff, (t >> 8) & 0xff), p: 22 },
          ip,
          5000,
        );
        if (r.reply) {
          const error = bstr(r.reply.error);
          if (error !== 'none') throw new Error(`node ${i}: the cluster answered ${error}`);
          this.acked++;
          const o = await this.model.submitAnnouncement(bytes, 'node');
          if (o.error !== 'none')
            throw new Error(
              `the model refused an announcement the cluster acknowledged: ${o.error}`,
            );
          const got = bytesToHex(r.reply.stateHash as Uint8Array);
          const want = bytesToHex(o.stateHash);
          if (got !== want)
            this.discontinuities.push(
              `node ${i} ack #${this.acked}: ${got.slice(0, 16)}… expected ${want.slice(0, 16)}…`,
            );
          return;
        }
        last = `HTTP ${r.status}`;
      } catch (e) {
        if (
          (e as Error).message.includes('the cluster answered') ||
          (e as Error).message.includes('the model refused')
        )
          throw e;
        last = (e as Error).message;
      }
      this.refusals.set(last, (this.refusals.get(last) ?? 0) + 1);
      await sleep(100); // not acknowledged: send it again
    }
    throw new Error(`node ${i}: never acknowledged (${last})`);
  }

  /** Every node announces update after update until `stop()`; stop resolves with the number acknowledged. */
  run(opts: { pauseMs?: number; attempts?: number } = {}): { stop: () => Promise<number> } {
    return announceUntilStopped(
      this.net.nodes.length,
      (i) => this.announce(i, this.net.update(i, Date.now()), { attempts: opts.attempts }),
      opts.pauseMs ?? 20,
    );
  }

  /** Every node's reset, then `rounds` updates of each, all acknowledged. */
  async seed(rounds: number): Promise<void> {
    await Promise.all(
      this.net.nodes.map((_n, i) => this.announce(i, this.net.reset(i, Date.now()))),
    );
    for (let r = 0; r < rounds; r++)
      await Promise.all(
        this.net.nodes.map((_n, i) => this.announce(i, this.net.update(i, Date.now()))),
      );
  }

  /**
   * Every process holds exactly the acknowledged state: every acknowledged announcement still
   * kept is in its /dump (nothing else is), and every node's stateHash is the model's.
   */
  async converged(
    timeoutMs = 20_000,
    ports = this.cluster.snodes.map((s) => s.port),
  ): Promise<void> {
    const { kept, stateHashes } = coreState(this.model);
    let why = '';
    await waitFor(
      'every process to hold the acknowledged state',
      async () => {
        for (const port of ports) {
          const dump = await dumpSet(port);
          const missing = [...kept].filter((h) => !dump.has(h)).length;
          const extra = [...dump].filter((h) => !kept.has(h)).length;
          if (missing || extra) {
            why = `:${port}: /dump misses ${missing} acknowledged, has ${extra} extra`;
            return false;
          }
          for (const [ip, h] of stateHashes) {
            if ((await stateHashAt(port, ip)) !== h) {
              why = `:${port}: stateHash of ${ip} differs`;
              return false;
            }
          }
        }
        return true;
      },
      timeoutMs,
      200,
    ).catch((e: Error) => {
      throw new Error(`${e.message}${why}`);
    });
  }
}
