/**
 * Shared material for the cluster tests and the cluster bench: deterministic cjdns identities, a
 * small tree-shaped network whose nodes announce signed messages (routes are unique, so `gr`
 * answers do not depend on tie-breaks), and sinks that stand in for a route server:
 *  - CoreSink is a real route server (reference engine) behind the production sink: the ingest
 *    funnel applies the "cluster" source (gossip without the self check, skipping hashes already
 *    stored);
 *  - RecordingSink only records what it was asked to apply.
 */
import { annHash, buildAnnouncement } from '../../src/protocol/announcement.ts';
import { SCHEMES } from '../../src/protocol/encoding-scheme.ts';
import {
  serializeEncodingSchemeEntity,
  serializePeer,
  serializeVersion,
} from '../../src/protocol/entity.ts';
import { bytesToHex, concatBytes } from '../../src/protocol/hex.ts';
import { ip6FromPublicKey, ip6ToString, publicFromPrivate } from '../../src/protocol/keys.ts';
import {
  routeServerSink,
  type ClusterNodeSnapshot,
  type ClusterSink,
} from '../../src/cluster/sink.ts';
import type { NodeDirectory } from '../../src/graph/node-directory.ts';
import { RouteServer } from '../../src/server/route-server.ts';
import { selfWithIp } from './reference-server.ts';
import { prng } from './prng.ts';

export interface TestIdentity {
  readonly privateKey: Uint8Array;
  readonly privateKeyHex: string;
  readonly ipv6: string;
  readonly publicKey: Uint8Array;
}

const identityCache = new Map<string, TestIdentity[]>();

/** `count` curve25519 keys whose cjdns address is in fc00::/8, deterministic per seed. */
export function fcIdentities(count: number, seed: number): TestIdentity[] {
  const key = `${count}:${seed}`;
  const cached = identityCache.get(key);
  if (cached) return cached;
  const rnd = prng(seed);
  const out: TestIdentity[] = [];
  while (out.length < count) {
    const priv = new Uint8Array(32).map(() => Math.floor(rnd() * 256));
    const pub = publicFromPrivate(priv);
    const ip = ip6FromPublicKey(pub);
    if (ip[0] === 0xfc)
      out.push({
        privateKey: priv,
        privateKeyHex: bytesToHex(priv),
        ipv6: ip6ToString(ip),
        publicKey: pub,
      });
  }
  identityCache.set(key, out);
  return out;
}

/** labels 0x13, 0x15, 0x17, 0x19: one-hop v358 form-0 labels */
function labelFor(slot: number): number {
  return 0x13 + 2 * slot;
}

/**
 * A binary tree of `count` nodes: node i peers with its parent (i-1)>>1 and its children 2i+1,
 * 2i+2. Each node announces a reset (Version, EncodingScheme, all its peers), then updates that
 * re-announce one peer with a new MTU (the keep rules then drop older announcements).
 */
export class TreeNetwork {
  readonly nodes: TestIdentity[];
  private readonly lastTs = new Map<string, number>();
  private readonly updates = new Map<string, number>();

  constructor(
    count: number,
    readonly snodeIp: string,
    seed = 7,
  ) {
    this.nodes = fcIdentities(count, seed);
  }

  peersOf(i: number): Array<{ ipv6: string; slot: number }> {
    const out: Array<{ ipv6: string; slot: number }> = [];
    if (i > 0) out.push({ ipv6: this.nodes[(i - 1) >> 1]!.ipv6, slot: 0 });
    for (const [k, c] of [2 * i + 1, 2 * i + 2].entries())
      if (c < this.nodes.length) out.push({ ipv6: this.nodes[c]!.ipv6, slot: k + 1 });
    return out;
  }

  private timestamp(ip: string, now: number): number {
    const t = Math.max(now, (this.lastTs.get(ip) ?? 0) + 1);
    this.lastTs.set(ip, t);
    return t;
  }

  reset(i: number, now: number): Uint8Array {
    const n = this.nodes[i]!;
    return buildAnnouncement({
      privateKey: n.privateKey,
      snodeIp: this.snodeIp,
      timestamp: this.timestamp(n.ipv6, now),
      isReset: true,
      entities: concatBytes(
        serializeEncodingSchemeEntity(SCHEMES.v358),
        serializeVersion(22),
        ...this.peersOf(i).map((p) =>
          serializePeer({
            ipv6: p.ipv6,
            label: labelFor(p.slot),
            peerNum: p.slot + 1,
            mtu: 1280,
            encodingFormNum: 0,
          }),
        ),
      ),
    });
  }

  /** An update of node i: one of its peers re-announced with a new MTU. */
  update(i: number, now: number): Uint8Array {
    const n = this.nodes[i]!;
    const k = (this.updates.get(n.ipv6) ?? 0) + 1;
    this.updates.set(n.ipv6, k);
    const peers = this.peersOf(i);
    const p = peers[k % peers.length]!;
    return buildAnnouncement({
      privateKey: n.privateKey,
      snodeIp: this.snodeIp,
      timestamp: this.timestamp(n.ipv6, now),
      isReset: false,
      entities: serializePeer({
        ipv6: p.ipv6,
        label: labelFor(p.slot),
        peerNum: p.slot + 1,
        mtu: 1280 + 8 * (k % 100),
        encodingFormNum: 0,
      }),
    });
  }
}

/** Node ip → stateHash hex, and the set of kept announcement hashes (what `/dump` carries). */
export interface CoreState {
  readonly stateHashes: Map<string, string>;
  readonly kept: Set<string>;
}

export function coreState(core: { readonly nodes: NodeDirectory }): CoreState {
  const stateHashes = new Map<string, string>();
  const kept = new Set<string>();
  for (const rec of core.nodes) {
    stateHashes.set(rec.ipv6, bytesToHex(rec.stateHash));
    for (const a of rec.announcements) kept.add(bytesToHex(a.hash));
  }
  return { stateHashes, kept };
}

/**
 * A route server (reference engine) behind the production sink: `local` = an announcement from
 * the node itself, `applyRemote` = the "cluster" source of the ingest funnel. The counters
 * observe what the funnel does with each remote announcement (skipped: already stored).
 */
export class CoreSink implements ClusterSink {
  readonly server: RouteServer;
  private readonly sink: ClusterSink;
  remoteApplied = 0;
  remoteSkipped = 0;

  constructor(
    readonly snodeIp: string,
    now: () => number = Date.now,
  ) {
    // the bus is under test, not routes: the reference engine applies on this thread, in call order
    this.server = new RouteServer({
      self: selfWithIp(snodeIp),
      clock: { now },
      routing: { mode: 'reference' },
    });
    this.sink = routeServerSink(this.server);
  }

  async local(bytes: Uint8Array): Promise<{ error: string; stateHash: string }> {
    const o = await this.server.submitAnnouncement(bytes, 'node');
    return { error: o.error, stateHash: bytesToHex(o.stateHash) };
  }

  async applyRemote(bytes: Uint8Array): Promise<void> {
    if (this.server.store.has(annHash(bytes))) this.remoteSkipped++;
    else this.remoteApplied++;
    await this.sink.applyRemote(bytes);
  }

  nodeSnapshot(ip: string): ClusterNodeSnapshot | undefined {
    return this.sink.nodeSnapshot(ip);
  }

  state(): CoreState {
    return coreState(this.server);
  }
}

/** Records applyRemote calls (hex of the announcement's hash), in order. */
export class RecordingSink implements ClusterSink {
  readonly applied: string[] = [];
  async applyRemote(bytes: Uint8Array): Promise<void> {
    this.applied.push(bytesToHex(annHash(bytes)));
  }
  nodeSnapshot(): ClusterNodeSnapshot | undefined {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until `check` holds (never asserts on elapsed time: STYLE, cluster tests). */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}
