/**
 * The seeder's state (docs/seeder.md): one entry per (sender IPv6, exact credential), in
 * insertion order (the selection hands out the oldest first).
 *
 * Bounded, unlike the Rust port's (which keeps every entry forever):
 * - an entry whose node has not posted it for `expireAfterSec` is dropped (cjdns re-posts every
 *   few seconds; the intended interval is 5 minutes);
 * - at most `maxPerNode` entries per node (a node that changes its address or port makes a new
 *   entry each time): past it, that node's entry reported longest ago is dropped;
 * - at most `maxEntries` in all: past it, the entry reported longest ago is dropped.
 * Memory is therefore bounded by `maxEntries` entries of ~300 bytes each.
 */
import {
  credentialKey,
  isIpv6Peer,
  type PeeringCredential,
} from '../protocol/peering-credentials.ts';

export interface SeederEntry {
  /** the posting node's IPv6 (39-character form) */
  readonly ip: string;
  readonly creds: PeeringCredential;
  /** credentialKey(creds), the identity of the credential */
  readonly credsKey: string;
  readonly ipv6: boolean;
  peerId: Uint8Array;
  ring: number;
  /** the tester's last verdict (null = passed or never tested) */
  checkError: string | null;
  /** not handed out: its PeerID does not start with `PUB_` (decided when the entry is created) */
  readonly private: boolean;
  /** unix seconds of the tester's last verdict, 0 = never */
  lastCheckSec: number;
  /** unix seconds of the node's last post of this credential */
  lastReportSec: number;
}

export interface SeederTableLimits {
  readonly maxEntries: number;
  readonly maxPerNode: number;
  readonly expireAfterSec: number;
}

const PUBLIC_PREFIX = new TextEncoder().encode('PUB_');

/** `PUB_…` (bytes, case-sensitive) is public; anything else is private. */
export function isPublicPeerId(id: Uint8Array): boolean {
  if (id.length < PUBLIC_PREFIX.length) return false;
  for (let i = 0; i < PUBLIC_PREFIX.length; i++) if (id[i] !== PUBLIC_PREFIX[i]) return false;
  return true;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export class SeederTable {
  private list: SeederEntry[] = [];
  private readonly byKey = new Map<string, SeederEntry>();
  private readonly perNode = new Map<string, number>();
  private lastSweepSec = -Infinity;

  constructor(private readonly limits: SeederTableLimits) {}

  get size(): number {
    return this.list.length;
  }

  /** Every entry, oldest first. Do not keep the array across a change. */
  entries(): readonly SeederEntry[] {
    return this.list;
  }

  find(ip: string, creds: PeeringCredential): SeederEntry | undefined {
    return this.byKey.get(`${ip}|${credentialKey(creds)}`);
  }

  /**
   * A node posted `creds` with `peerId` (docs/seeder.md): refresh its entry, or append a
   * new one at ring `ring`. A changed PeerID replaces the old one and clears the test verdict;
   * `private` stays as it was decided (the Rust port's behaviour).
   */
  report(
    ip: string,
    creds: PeeringCredential,
    peerId: Uint8Array,
    nowSec: number,
    ring: number,
  ): SeederEntry {
    const existing = this.find(ip, creds);
    if (existing) {
      if (!bytesEqual(existing.peerId, peerId)) {
        existing.peerId = peerId;
        existing.checkError = null;
        existing.lastCheckSec = 0;
      }
      existing.lastReportSec = nowSec;
      return existing;
    }
    const credsKey = credentialKey(creds);
    const entry: SeederEntry = {
      ip,
      creds,
      credsKey,
      ipv6: isIpv6Peer(creds),
      peerId,
      ring,
      checkError: null,
      private: !isPublicPeerId(peerId),
      lastCheckSec: 0,
      lastReportSec: nowSec,
    };
    this.makeRoomFor(ip);
    this.list.push(entry);
    this.byKey.set(`${ip}|${credsKey}`, entry);
    this.perNode.set(ip, (this.perNode.get(ip) ?? 0) + 1);
    return entry;
  }

  /**
   * Drop entries not reported for `expireAfterSec`. Runs at most once per second of `nowSec`
   * (every post calls it; a sweep is one pass over the entries).
   */
  expire(nowSec: number): number {
    if (nowSec === this.lastSweepSec) return 0;
    this.lastSweepSec = nowSec;
    const cutoff = nowSec - this.limits.expireAfterSec;
    const before = this.list.length;
    if (this.list.every((e) => e.lastReportSec >= cutoff)) return 0;
    this.removeWhere((e) => e.lastReportSec < cutoff);
    return before - this.list.length;
  }

  private makeRoomFor(ip: string): void {
    if ((this.perNode.get(ip) ?? 0) >= this.limits.maxPerNode)
      this.removeStalest((e) => e.ip === ip);
    if (this.list.length >= this.limits.maxEntries) this.removeStalest(() => true);
  }

  /** Remove the matching entry reported longest ago (the oldest inserted among equals). */
  private removeStalest(match: (e: SeederEntry) => boolean): void {
    let victim: SeederEntry | undefined;
    for (const e of this.list)
      if (match(e) && (victim === undefined || e.lastReportSec < victim.lastReportSec)) victim = e;
    if (victim) this.removeWhere((e) => e === victim);
  }

  private removeWhere(drop: (e: SeederEntry) => boolean): void {
    const kept: SeederEntry[] = [];
    for (const e of this.list) {
      if (!drop(e)) {
        kept.push(e);
        continue;
      }
      this.byKey.delete(`${e.ip}|${e.credsKey}`);
      const n = (this.perNode.get(e.ip) ?? 1) - 1;
      if (n > 0) this.perNode.set(e.ip, n);
      else this.perNode.delete(e.ip);
    }
    this.list = kept;
  }
}
