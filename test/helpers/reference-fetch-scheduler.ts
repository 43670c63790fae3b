/**
 * The fetch scheduler as it was before its bookkeeping moved into typed arrays (one object per
 * missing hash): kept as the reference model the current one is checked against, call for call
 * (test/unit/replication/fetch-scheduler.model.test.ts). Two changes, both where a held hash
 * (`retry`) was treated as wanted: `take` skips one whose key was still in its owner's queue from
 * before (it handed it out, in flight and held at once), and `expired` leaves one alone (it handed
 * it to an alternate still marked held, to be queued a second time when the held ones were let go).
 */
import { Deque } from '../../src/lib/deque.ts';
import {
  wantKeyOf as keyOf,
  type FetchSchedulerLimits,
  type OfferResult,
} from '../../src/replication/fetch-scheduler.ts';

interface Entry {
  readonly hash: Uint8Array;
  owner: number;
  inflight: boolean;
  /** times the route server refused it for a passing reason (`retry`) */
  retries: number;
  /** other peers that advertised the hash, oldest first */
  alternates: number[];
  /** held until nothing else is wanted or in flight (`retry`): neither wanted nor in flight */
  parked: boolean;
  /** times it was held so */
  parks: number;
}

interface PeerQueue {
  readonly keys: Deque<string>;
  /** entries owned by this peer and not yet requested (the deque may also hold stale keys) */
  wanted: number;
  readonly wake: () => void;
}

/** Times an update that came before its node's reset is held and asked for again (`retry`). */
const MAX_PARKS = 2;

export class ReferenceFetchScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly peers = new Map<number, PeerQueue>();
  private inflightCount = 0;
  private readonly maxAlternates: number;
  private readonly maxRetries: number;
  /** hashes discarded because a peer's want list was at its hard cap */
  discarded = 0;
  /** requests handed to another peer after a timeout or disconnect */
  reassigned = 0;
  /** hashes held (`retry`), stale keys included; `parkedCount` are live */
  private parked: string[] = [];
  private parkedCount = 0;
  /** hashes held and asked for again once nothing else was left (`retry`) */
  released = 0;

  constructor(private readonly limits: FetchSchedulerLimits) {
    this.maxAlternates = limits.maxAlternates ?? 4;
    this.maxRetries = limits.maxRetries ?? 3;
  }

  /** Register a peer; `wake` is called when it has something it could now request. */
  addPeer(id: number, wake: () => void): void {
    this.peers.set(id, { keys: new Deque<string>(), wanted: 0, wake });
  }

  /** An INV from `peer` advertised `hash`, which is not in our store. */
  offer(peer: number, hash: Uint8Array): OfferResult {
    const q = this.peers.get(peer);
    if (!q) return 'discarded';
    const key = keyOf(hash);
    const e = this.entries.get(key);
    if (e) {
      if (
        e.owner !== peer &&
        !e.alternates.includes(peer) &&
        e.alternates.length < this.maxAlternates
      )
        e.alternates.push(peer);
      return 'duplicate';
    }
    if (q.wanted >= this.hardCap) {
      this.discarded++;
      return 'discarded';
    }
    this.entries.set(key, {
      hash,
      owner: peer,
      inflight: false,
      retries: 0,
      alternates: [],
      parked: false,
      parks: 0,
    });
    this.enqueue(q, key);
    return 'queued';
  }

  /**
   * Up to `max` hashes for `peer` to request now, oldest first (bounded by the global in-flight
   * limit). The caller must `release` each one when its request ends.
   */
  take(peer: number, max: number): Uint8Array[] {
    const q = this.peers.get(peer);
    const out: Uint8Array[] = [];
    if (!q) return out;
    const n = Math.min(max, this.limits.maxInflight - this.inflightCount);
    while (out.length < n && q.keys.length > 0) {
      const key = q.keys.shift()!;
      const e = this.entries.get(key);
      if (!e || e.owner !== peer || e.inflight || e.parked) continue; // stale, or held
      e.inflight = true;
      q.wanted--;
      out.push(e.hash);
    }
    this.inflightCount += out.length;
    return out;
  }

  /** `n` requests of a peer ended (answered, timed out, or the peer closed). */
  release(n: number): void {
    if (n <= 0) return;
    const wasFull = this.inflightCount >= this.limits.maxInflight;
    this.inflightCount = Math.max(0, this.inflightCount - n);
    if (wasFull && this.inflightCount < this.limits.maxInflight) {
      for (const q of this.peers.values()) if (q.wanted > 0) q.wake();
    }
  }

  /** The hash was handled (DATA applied, nil, or accepted from another way in): forget it. */
  resolved(hash: Uint8Array): void {
    const key = keyOf(hash);
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    if (e.parked) this.unpark();
    else if (!e.inflight) {
      const q = this.peers.get(e.owner);
      if (q) {
        q.wanted--;
        this.compact(q);
      }
    }
    this.releaseIfIdle();
  }

  /**
   * The answer for `hash` could not be applied for a passing reason (the route server was busy):
   * ask for it again — from its owner, or an alternate if the owner is gone — instead of
   * forgetting it for every peer that advertised it. Gives up after `maxRetries` (false).
   * `preferAlternate`: ask a peer that advertised it too, when there is one (the owner goes to
   * the back of the alternates), at the back of that peer's want list — for an update that came
   * before its node's reset, which may be on its way in that peer's stream. Such an update is
   * not given up after `maxRetries` (near the end of a multi-peer sync the want lists are short
   * and the retries can come back before the reset was applied): it is held until nothing else
   * is wanted or in flight — by then every reset any peer advertised has been applied — and
   * asked for once more then, at most twice; beyond `hardCap` held hashes it is given up.
   */
  retry(hash: Uint8Array, preferAlternate = false): boolean {
    const key = keyOf(hash);
    const e = this.entries.get(key);
    if (!e) return false; // handled meanwhile (stored another way)
    if (!e.inflight) return true; // already waiting again (handed to another peer)
    if (++e.retries > this.maxRetries) {
      if (preferAlternate && e.parks < MAX_PARKS && this.parkedCount < this.hardCap) {
        e.inflight = false;
        e.parked = true;
        e.parks++;
        this.parked.push(key);
        this.parkedCount++;
        this.releaseIfIdle();
        return true;
      }
      this.entries.delete(key);
      this.releaseIfIdle();
      return false;
    }
    const q = this.peers.get(e.owner);
    if (q && preferAlternate) {
      for (let alt = e.alternates.shift(); alt !== undefined; alt = e.alternates.shift()) {
        const aq = this.peers.get(alt);
        if (!aq || aq.wanted >= this.hardCap) continue;
        if (e.alternates.length < this.maxAlternates) e.alternates.push(e.owner);
        e.owner = alt;
        e.inflight = false;
        this.enqueue(aq, key);
        this.reassigned++;
        aq.wake();
        return true;
      }
    }
    if (!q) {
      e.inflight = false;
      return this.reassign(key, e);
    }
    e.inflight = false;
    this.enqueue(q, key);
    q.wake();
    return true;
  }

  /**
   * The owner's request for `hash` timed out: hand it to an alternate peer (true) or forget it.
   */
  expired(peer: number, hash: Uint8Array): boolean {
    const key = keyOf(hash);
    const e = this.entries.get(key);
    if (!e || e.owner !== peer) return false;
    if (e.parked) return true;
    const kept = this.reassign(key, e);
    this.releaseIfIdle();
    return kept;
  }

  /**
   * The peer is gone: its wanted and in-flight hashes go to alternates or are forgotten (held
   * ones are handed on when they are released).
   */
  removePeer(peer: number): void {
    if (!this.peers.delete(peer)) return;
    // reassign only deletes or re-keys the entry at hand: iterating the Map itself is safe
    for (const [key, e] of this.entries) if (e.owner === peer && !e.parked) this.reassign(key, e);
    this.releaseIfIdle();
  }

  /** Hashes waiting to be requested from `peer`. */
  wanted(peer: number): number {
    return this.peers.get(peer)?.wanted ?? 0;
  }

  get inflight(): number {
    return this.inflightCount;
  }

  /** Missing hashes tracked (wanted, in flight, or held: `retry`). */
  get size(): number {
    return this.entries.size;
  }

  /** Keys held in a peer's queue, stale ones included (memory bound checks). */
  queueLength(peer: number): number {
    return this.peers.get(peer)?.keys.length ?? 0;
  }

  get hardCap(): number {
    return this.limits.maxWantedPerPeer * 2;
  }

  /** Held hashes (`retry`) listed, stale keys included (memory bound checks). */
  get heldLength(): number {
    return this.parked.length;
  }

  /**
   * A held hash was resolved another way: one fewer live; its key stays listed until the next
   * release, unless the stale keys outnumber the live ones (under a steady stream of INVs no
   * release may come for a long time: the list stays bounded by the live ones).
   */
  private unpark(): void {
    this.parkedCount--;
    if (this.parked.length > 2 * this.parkedCount + 1024)
      this.parked = this.parked.filter((k) => this.entries.get(k)?.parked === true);
  }

  /** Nothing but held hashes left: ask for them again, from their owner or an alternate. */
  private releaseIfIdle(): void {
    if (this.parkedCount === 0 || this.parkedCount !== this.entries.size) return;
    const keys = this.parked;
    this.parked = [];
    this.parkedCount = 0;
    for (const key of keys) {
      const e = this.entries.get(key);
      if (!e?.parked) continue;
      e.parked = false;
      this.released++;
      const q = this.peers.get(e.owner);
      if (q) {
        this.enqueue(q, key);
        q.wake();
      } else this.reassign(key, e);
    }
  }

  private reassign(key: string, e: Entry): boolean {
    const old = this.peers.get(e.owner);
    if (old && !e.inflight) {
      old.wanted--;
      this.compact(old);
    }
    while (e.alternates.length > 0) {
      const alt = e.alternates.shift()!;
      const q = this.peers.get(alt);
      if (!q || q.wanted >= this.hardCap) continue;
      e.owner = alt;
      e.inflight = false;
      this.enqueue(q, key);
      this.reassigned++;
      q.wake();
      return true;
    }
    this.entries.delete(key);
    return false;
  }

  private enqueue(q: PeerQueue, key: string): void {
    q.keys.push(key);
    q.wanted++;
  }

  /** Drop stale keys once they outnumber the live ones (keeps the deque bounded). */
  private compact(q: PeerQueue): void {
    if (q.keys.length > 2 * q.wanted + 1024) {
      q.keys.filter((k) => {
        const e = this.entries.get(k);
        return e !== undefined && !e.inflight && this.peers.get(e.owner) === q;
      });
    }
  }
}
