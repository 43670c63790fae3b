/**
 * Which announcement to request from which peer. The original requests every advertised hash it
 * lacks from every peer that advertises it, with no bound and no timeout. Here each missing hash
 * has exactly one owner peer at a time (requests are de-duplicated across peers), a few
 * alternates that advertised it too (used when the owner times out or disconnects), and every
 * structure is bounded:
 *  - per peer, hashes waiting to be requested (`wanted`): above twice `maxWantedPerPeer` hashes
 *    are refused (`discarded`, counted; the peer session reads the inventory again later);
 *  - requests in flight across all peers: `maxInflight`.
 *
 * Pure bookkeeping, no timers and no I/O. It belongs to the replication service, and the peer
 * actors call it synchronously from their handlers: one JS thread, each call runs to completion,
 * so no call observes another half-done. `wake` callbacks only post a message to a peer actor.
 *
 * Storage. A missing hash lives here from the INV that advertised it until it is resolved —
 * through whole syncs, so what it holds is what survives into V8's old generation for every
 * announcement pulled (issue 17). It holds one string (`WantKey`: the key of one Map, also what
 * the peers' queues, the held list and the requests in flight hold) and one slot of a few typed
 * arrays (owner, state, counts, alternates; a freed slot is reused): no object of its own, and
 * no reference to the INV's bytes. The key is a string, not a number taken from the hash,
 * because V8 hashes strings with a per-process random seed: the hashes come from peers, who
 * must not be able to pick ones that collide in the table.
 */
import { Deque } from '../lib/deque.ts';
import { withLength } from '../lib/typed-arrays.ts';

/**
 * A missing hash as the scheduler and the request pipeline hold it: its bytes as a latin1 string
 * (one character a byte; 80 bytes of heap for a 64-byte hash). `take` hands out these keys, and
 * `resolved`, `retry` and `expired` take them back: a request in flight holds no bytes of its own.
 */
export type WantKey = string;

export function wantKeyOf(hash: Uint8Array): WantKey {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1');
}

/** The hash's bytes again (a copy). */
export function hashOfWantKey(key: WantKey): Uint8Array {
  return Buffer.from(key, 'latin1');
}

/** Whether `hash` is the hash `key` stands for. */
export function wantKeyMatches(key: WantKey, hash: Uint8Array): boolean {
  if (key.length !== hash.length) return false;
  for (let i = 0; i < hash.length; i++) if (key.charCodeAt(i) !== hash[i]) return false;
  return true;
}

/** Slot state bits. */
const INFLIGHT = 1;
/** held until nothing else is wanted or in flight (`retry`): neither wanted nor in flight */
const PARKED = 2;

/** Slots allocated at first, and kept when everything is resolved. */
const INITIAL_SLOTS = 256;

interface PeerQueue {
  readonly keys: Deque<string>;
  /** entries owned by this peer and not yet requested (the deque may also hold stale keys) */
  wanted: number;
  readonly wake: () => void;
}

export type OfferResult = 'queued' | 'duplicate' | 'discarded';

/** Times an update that came before its node's reset is held and asked for again (`retry`). */
const MAX_PARKS = 2;

export interface FetchSchedulerLimits {
  readonly maxInflight: number;
  readonly maxWantedPerPeer: number;
  /** alternates remembered per hash (at most 255) */
  readonly maxAlternates?: number;
  /** passing refusals (`retry`) before a hash is given up */
  readonly maxRetries?: number;
}

export class FetchScheduler {
  /** key of each missing hash → its slot */
  private readonly slots = new Map<string, number>();
  // ---- per slot: typed arrays, grown by doubling (`resize`) ----
  /** the peer asked to send it */
  private owner = new Float64Array(INITIAL_SLOTS);
  /** INFLIGHT | PARKED */
  private state = new Uint8Array(INITIAL_SLOTS);
  /** times the route server refused it for a passing reason (`retry`) */
  private retries = new Uint32Array(INITIAL_SLOTS);
  /** times it was held (`retry`) */
  private parks = new Uint8Array(INITIAL_SLOTS);
  /** other peers that advertised the hash, oldest first: `maxAlternates` per slot */
  private alternates: Float64Array;
  private alternateCount = new Uint8Array(INITIAL_SLOTS);
  /** slots below this were used; the free ones among them are listed in `freeSlots` */
  private highWater = 0;
  private freeSlots: number[] = [];
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
    this.maxAlternates = Math.min(255, Math.max(0, limits.maxAlternates ?? 4));
    this.maxRetries = limits.maxRetries ?? 3;
    this.alternates = new Float64Array(INITIAL_SLOTS * this.maxAlternates);
  }

  /** Register a peer; `wake` is called when it has something it could now request. */
  addPeer(id: number, wake: () => void): void {
    this.peers.set(id, { keys: new Deque<string>(), wanted: 0, wake });
  }

  /** An INV from `peer` advertised `hash`, which is not in our store. Keeps no reference to `hash`. */
  offer(peer: number, hash: Uint8Array): OfferResult {
    const q = this.peers.get(peer);
    if (!q) return 'discarded';
    const key = wantKeyOf(hash);
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      if (
        this.owner[slot] !== peer &&
        !this.hasAlternate(slot, peer) &&
        this.alternateCount[slot]! < this.maxAlternates
      )
        this.pushAlternate(slot, peer);
      return 'duplicate';
    }
    if (q.wanted >= this.hardCap) {
      this.discarded++;
      return 'discarded';
    }
    const s = this.allocate();
    this.owner[s] = peer;
    this.slots.set(key, s);
    this.enqueue(q, key);
    return 'queued';
  }

  /**
   * Up to `max` hashes for `peer` to request now, oldest first (bounded by the global in-flight
   * limit). The caller must `release` each one when its request ends.
   */
  take(peer: number, max: number): WantKey[] {
    const q = this.peers.get(peer);
    const out: WantKey[] = [];
    if (!q) return out;
    const n = Math.min(max, this.limits.maxInflight - this.inflightCount);
    while (out.length < n && q.keys.length > 0) {
      const key = q.keys.shift()!;
      const slot = this.slots.get(key);
      // stale: resolved, handed to another peer, or asked for meanwhile; or held (`retry`)
      if (slot === undefined || this.owner[slot] !== peer || this.state[slot] !== 0) continue;
      this.state[slot] = INFLIGHT;
      q.wanted--;
      out.push(key);
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
  resolved(key: WantKey): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    const state = this.state[slot]!;
    const owner = this.owner[slot]!;
    this.forget(key, slot);
    if (state & PARKED) this.unpark();
    else if (!(state & INFLIGHT)) {
      const q = this.peers.get(owner);
      if (q) {
        q.wanted--;
        this.compact(q);
      }
    }
    this.releaseIfIdle();
  }

  /**
   * The answer for `key` could not be applied for a passing reason (the route server was busy):
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
  retry(key: WantKey, preferAlternate = false): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false; // handled meanwhile (stored another way)
    if (!(this.state[slot]! & INFLIGHT)) return true; // already waiting again (handed to another peer)
    if (++this.retries[slot]! > this.maxRetries) {
      if (preferAlternate && this.parks[slot]! < MAX_PARKS && this.parkedCount < this.hardCap) {
        this.state[slot] = PARKED;
        this.parks[slot]!++;
        this.parked.push(key);
        this.parkedCount++;
        this.releaseIfIdle();
        return true;
      }
      this.forget(key, slot);
      this.releaseIfIdle();
      return false;
    }
    const q = this.peers.get(this.owner[slot]!);
    if (q && preferAlternate) {
      for (
        let alt = this.shiftAlternate(slot);
        alt !== undefined;
        alt = this.shiftAlternate(slot)
      ) {
        const aq = this.peers.get(alt);
        if (!aq || aq.wanted >= this.hardCap) continue;
        if (this.alternateCount[slot]! < this.maxAlternates)
          this.pushAlternate(slot, this.owner[slot]!);
        this.owner[slot] = alt;
        this.state[slot] = 0;
        this.enqueue(aq, key);
        this.reassigned++;
        aq.wake();
        return true;
      }
    }
    this.state[slot] = 0;
    if (!q) return this.reassign(key, slot);
    this.enqueue(q, key);
    q.wake();
    return true;
  }

  /**
   * The owner's request for `key` timed out (or was answered nil): hand it to an alternate peer
   * (true) or forget it. A held hash (`retry`) stays held (true): no request of it is out.
   */
  expired(peer: number, key: WantKey): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined || this.owner[slot] !== peer) return false;
    if (this.state[slot]! & PARKED) return true; // held: no request of it is out (`retry`)
    const kept = this.reassign(key, slot);
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
    for (const [key, slot] of this.slots)
      if (this.owner[slot] === peer && !(this.state[slot]! & PARKED)) this.reassign(key, slot);
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
    return this.slots.size;
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

  /** Slots the typed arrays have room for (memory bound checks). */
  get slotCapacity(): number {
    return this.owner.length;
  }

  /**
   * A held hash was resolved another way: one fewer live; its key stays listed until the next
   * release, unless the stale keys outnumber the live ones (under a steady stream of INVs no
   * release may come for a long time: the list stays bounded by the live ones).
   */
  private unpark(): void {
    this.parkedCount--;
    if (this.parked.length > 2 * this.parkedCount + 1024)
      this.parked = this.parked.filter((k) => this.isParked(k));
  }

  private isParked(key: string): boolean {
    const slot = this.slots.get(key);
    return slot !== undefined && (this.state[slot]! & PARKED) !== 0;
  }

  /** Nothing but held hashes left: ask for them again, from their owner or an alternate. */
  private releaseIfIdle(): void {
    if (this.parkedCount === 0 || this.parkedCount !== this.slots.size) return;
    const keys = this.parked;
    this.parked = [];
    this.parkedCount = 0;
    for (const key of keys) {
      const slot = this.slots.get(key);
      if (slot === undefined || !(this.state[slot]! & PARKED)) continue;
      this.state[slot] = 0;
      this.released++;
      const q = this.peers.get(this.owner[slot]!);
      if (q) {
        this.enqueue(q, key);
        q.wake();
      } else this.reassign(key, slot);
    }
  }

  private reassign(key: string, slot: number): boolean {
    const old = this.peers.get(this.owner[slot]!);
    if (old && !(this.state[slot]! & INFLIGHT)) {
      old.wanted--;
      this.compact(old);
    }
    for (let alt = this.shiftAlternate(slot); alt !== undefined; alt = this.shiftAlternate(slot)) {
      const q = this.peers.get(alt);
      if (!q || q.wanted >= this.hardCap) continue;
      this.owner[slot] = alt;
      this.state[slot] = 0;
      this.enqueue(q, key);
      this.reassigned++;
      q.wake();
      return true;
    }
    this.forget(key, slot);
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
        const slot = this.slots.get(k);
        return (
          slot !== undefined &&
          !(this.state[slot]! & INFLIGHT) &&
          this.peers.get(this.owner[slot]!) === q
        );
      });
    }
  }

  // ---- slots -----------------------------------------------------------------------------

  /** A cleared slot (state, counts and alternates zero; the owner is the caller's to set). */
  private allocate(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    if (this.highWater === this.owner.length) this.resize(this.owner.length * 2);
    return this.highWater++;
  }

  /** Drop the hash's key and clear its slot for reuse; once nothing is tracked, shrink back. */
  private forget(key: string, slot: number): void {
    this.slots.delete(key);
    this.state[slot] = 0;
    this.retries[slot] = 0;
    this.parks[slot] = 0;
    this.alternateCount[slot] = 0;
    if (this.slots.size === 0) {
      this.highWater = 0;
      this.freeSlots = [];
      if (this.owner.length > INITIAL_SLOTS) this.resize(INITIAL_SLOTS);
    } else this.freeSlots.push(slot);
  }

  /** Reallocate the slot arrays to `slots` (at least `highWater`), keeping what they hold. */
  private resize(slots: number): void {
    const keep = this.highWater;
    const per = this.maxAlternates;
    this.owner = withLength(this.owner.subarray(0, keep), slots);
    this.state = withLength(this.state.subarray(0, keep), slots);
    this.retries = withLength(this.retries.subarray(0, keep), slots);
    this.parks = withLength(this.parks.subarray(0, keep), slots);
    this.alternateCount = withLength(this.alternateCount.subarray(0, keep), slots);
    this.alternates = withLength(this.alternates.subarray(0, keep * per), slots * per);
  }

  private hasAlternate(slot: number, peer: number): boolean {
    const base = slot * this.maxAlternates;
    for (let i = 0, n = this.alternateCount[slot]!; i < n; i++)
      if (this.alternates[base + i] === peer) return true;
    return false;
  }

  private pushAlternate(slot: number, peer: number): void {
    this.alternates[slot * this.maxAlternates + this.alternateCount[slot]!] = peer;
    this.alternateCount[slot]!++;
  }

  /** The oldest alternate, removed (undefined: none left). */
  private shiftAlternate(slot: number): number | undefined {
    const n = this.alternateCount[slot]!;
    if (n === 0) return undefined;
    const base = slot * this.maxAlternates;
    const first = this.alternates[base]!;
    this.alternates.copyWithin(base, base + 1, base + n);
    this.alternateCount[slot] = n - 1;
    return first;
  }
}
