/**
 * The peering seeder (docs/seeder.md): cjdns nodes with public peering post their credentials
 * (`sq: "pc"`) and are handed other public peers to connect to; a tester lists every entry and
 * posts its test verdicts; a nameserver lists the tested-good public peers to serve as DNS seeds.
 *
 * Pure state and policy: no clock (callers pass unix seconds), no I/O. The graph is read through
 * the narrow SeederGraph interface. Expected failures are values: an `err` text for a post (the
 * reply's `err`), `unknown_password` / `bad_ip6` for the HTTP API.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isRsError } from '../errors.ts';
import { ip6FromPublicKey, ip6ToString } from '../protocol/keys.ts';
import {
  decodeCredentialRecord,
  encodeCredentialRecord,
  type PeerAddress,
} from '../protocol/peering-credentials.ts';
import {
  peerAddressEquals,
  peeringLine,
  peerIdToString,
  type PeeringLine,
} from '../protocol/peering-text.ts';
import type { PcOutcome } from '../protocol/seeder-message.ts';
import type { SeederGraph } from './seeder-graph.ts';
import { NAMESERVER_CHECK_WINDOW_SEC, type SeederSettings } from './seeder-settings.ts';
import { SeederTable, type SeederEntry } from './seeder-table.ts';
import { Selection, isAppropriate, selectFor, trimSelection } from './selection.ts';

/** One entry as `GET /seeder-peers` lists it (the Rust port's `SeederListPeer`, same key order). */
export interface SeederListPeer {
  readonly last_check_sec: number;
  readonly last_report_sec: number;
  readonly ring: number;
  readonly check_error: string | null;
  readonly peer: PeeringLine;
  readonly id: string;
}

export interface TestResult {
  readonly addr: PeerAddress;
  /** must be the full form `fcxx:xxxx:…` (checked when applied, as the Rust port does) */
  readonly ip6: string;
  readonly error: string | null;
}

export type ListResult =
  | { readonly ok: true; readonly peers: SeederListPeer[] }
  | { readonly ok: false; readonly reason: 'unknown_password' };
export type TestResultsResult =
  | { readonly ok: true; readonly applied: number }
  | { readonly ok: false; readonly reason: 'unknown_password' }
  | {
      readonly ok: false;
      readonly reason: 'bad_ip6';
      readonly index: number;
      readonly applied: number;
    };

export interface SeederOptions {
  readonly settings: SeederSettings;
  readonly graph: SeederGraph;
  /** uniform in [0, 1): which extra peers are dropped from a long selection (default Math.random) */
  readonly random?: () => number;
}

const FULL_IP6_RE = /^fc[0-9a-f]{2}(:[0-9a-f]{4}){7}$/;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Exact match against every configured password, in time independent of where they differ. */
function passwordIn(list: readonly string[], given: string): boolean {
  const g = digest(given);
  let found = false;
  for (const p of list) found = timingSafeEqual(digest(p), g) || found;
  return found;
}

function listed(e: SeederEntry): SeederListPeer {
  return {
    last_check_sec: e.lastCheckSec,
    last_report_sec: e.lastReportSec,
    ring: e.ring,
    check_error: e.checkError,
    peer: peeringLine(e.creds),
    id: peerIdToString(e.peerId),
  };
}

export class Seeder {
  private readonly table: SeederTable;
  private readonly settings: SeederSettings;
  private readonly graph: SeederGraph;
  private readonly random: () => number;
  /** the ring new entries join; the Rust port never grows it */
  private readonly topRing = 0;

  constructor(opts: SeederOptions) {
    this.settings = opts.settings;
    this.graph = opts.graph;
    this.random = opts.random ?? Math.random;
    this.table = new SeederTable({
      maxEntries: opts.settings.max_entries,
      maxPerNode: opts.settings.max_entries_per_node,
      expireAfterSec: opts.settings.expire_after_sec,
    });
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * A node (`senderIp`, authenticated by cjdns) posted a credential record. Every peer TLV must
   * carry the sender's own key; processing stops at the first failure (entries handled before it
   * stay). On success `pr` is a record of at most 6 peers to connect to (possibly empty).
   */
  post(senderIp: string, record: Uint8Array, nowSec: number): PcOutcome {
    this.table.expire(nowSec);
    let rec;
    try {
      rec = decodeCredentialRecord(record);
    } catch (e) {
      if (isRsError(e)) return { err: e.message };
      throw e;
    }
    if (rec.peerId === undefined) return { err: 'Credential post missing peer ID' };
    const out = new Selection();
    for (const creds of rec.peers) {
      const ip6 = ip6FromPublicKey(creds.publicKey);
      if (ip6[0] !== 0xfc) return { err: 'Peer key does not give a cjdns fc00::/8 address' };
      if (ip6ToString(ip6) !== senderIp) return { err: 'IPv6 of peer data does not match sender' };
      const mine = this.table.report(senderIp, creds, rec.peerId, nowSec, this.topRing);
      selectFor(mine, this.table.entries(), out, this.graph, this.settings.max_connection_count);
    }
    return { pr: encodeCredentialRecord({ peers: trimSelection(out.creds, this.random) }) };
  }

  /**
   * `GET /seeder-peers`: a tester sees every entry; a nameserver the public entries that passed
   * a test in the last hour, highest ring first, still appropriate, at most
   * `share_peers_with_nameserver`.
   */
  list(password: string, nowSec: number): ListResult {
    this.table.expire(nowSec);
    if (passwordIn(this.settings.tester_passwds, password))
      return { ok: true, peers: this.table.entries().map(listed) };
    if (!passwordIn(this.settings.nameserver_passwds, password))
      return { ok: false, reason: 'unknown_password' };
    const cutoff = nowSec - NAMESERVER_CHECK_WINDOW_SEC;
    const ok = this.table
      .entries()
      .filter((e) => !e.private && e.checkError === null && e.lastCheckSec > cutoff)
      .sort((a, b) => b.ring - a.ring); // stable: equal rings keep insertion order
    const peers: SeederListPeer[] = [];
    for (const e of ok) {
      if (peers.length >= this.settings.share_peers_with_nameserver) break;
      if (isAppropriate(e.ip, undefined, this.graph, this.settings.max_connection_count))
        peers.push(listed(e));
    }
    return { ok: true, peers };
  }

  /**
   * `POST /seeder-testres`: record each verdict on the first entry with that address and node.
   * A malformed `ip6` stops there (the verdicts before it stay applied); an unknown entry is
   * ignored.
   */
  testResults(password: string, results: readonly TestResult[], nowSec: number): TestResultsResult {
    if (!passwordIn(this.settings.tester_passwds, password))
      return { ok: false, reason: 'unknown_password' };
    let applied = 0;
    for (const [index, r] of results.entries()) {
      if (!FULL_IP6_RE.test(r.ip6)) return { ok: false, reason: 'bad_ip6', index, applied };
      const e = this.table
        .entries()
        .find((x) => x.ip === r.ip6 && peerAddressEquals(x.creds.address, r.addr));
      if (!e) continue;
      e.checkError = r.error;
      e.lastCheckSec = nowSec;
      applied++;
    }
    return { ok: true, applied };
  }
}
