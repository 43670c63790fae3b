/**
 * Concurrency slots per client address, with a total: how many heavy requests (whole-table
 * streams) or replication websockets one client may hold at once. Refused at once when full —
 * never queued — so a client that holds its slots cannot make anyone else wait for them.
 *
 * Clients are grouped by `addressKey`: an IPv4 address (IPv4-mapped IPv6 included) is its own
 * group; an IPv6 address counts as its /64, the block one subscriber usually holds, so one host
 * cannot multiply its share by picking other addresses of its own prefix.
 */
import ipaddr from 'ipaddr.js';

/** The group a remote address counts in; an unparsable address is its own group. */
export function addressKey(remote: string | undefined): string {
  if (!remote) return '?';
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(remote.replace(/%.*$/, ''));
  } catch {
    return remote;
  }
  if (addr.kind() === 'ipv4') return addr.toString();
  const p = (addr as ipaddr.IPv6).parts;
  return `${p
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

export interface SlotLimits {
  /** slots one address group may hold */
  readonly perAddress: number;
  /** slots all clients together may hold */
  readonly total: number;
}

/** Why a slot was refused: the client's own share is used up, or everyone's. */
export type SlotRefusal = 'address' | 'total';

export class AddressSlots {
  private readonly byKey = new Map<string, number>();
  private inUse = 0;

  constructor(readonly limits: SlotLimits) {}

  /** Slots held now. */
  get active(): number {
    return this.inUse;
  }

  /** Slots held by the group of `remote`. */
  heldBy(remote: string | undefined): number {
    return this.byKey.get(addressKey(remote)) ?? 0;
  }

  /** Whether `remote` could take a slot now (nothing is taken). */
  check(remote: string | undefined): SlotRefusal | undefined {
    if ((this.byKey.get(addressKey(remote)) ?? 0) >= this.limits.perAddress) return 'address';
    if (this.inUse >= this.limits.total) return 'total';
    return undefined;
  }

  /** Take a slot for `remote`: the release function (idempotent), or why not. */
  tryAcquire(remote: string | undefined): (() => void) | SlotRefusal {
    const refusal = this.check(remote);
    if (refusal) return refusal;
    const key = addressKey(remote);
    this.byKey.set(key, (this.byKey.get(key) ?? 0) + 1);
    this.inUse++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse--;
      const left = (this.byKey.get(key) ?? 1) - 1;
      if (left > 0) this.byKey.set(key, left);
      else this.byKey.delete(key);
    };
  }
}
