/**
 * Inbound peer allow-list (`replication.allowList`): exact IPv4/IPv6 addresses or CIDR blocks.
 * Empty means everyone may connect, as with the original. IPv4-mapped IPv6 remote addresses
 * (`::ffff:10.1.2.3`, what a dual-stack listener reports) match IPv4 entries.
 */
import { BlockList, isIP } from 'node:net';

function parseEntry(
  entry: string,
): { addr: string; prefix: number | undefined; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = entry.indexOf('/');
  const addr = (slash < 0 ? entry : entry.slice(0, slash)).trim();
  const fam = isIP(addr);
  if (fam === 0) return undefined;
  const family = fam === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) return { addr, prefix: undefined, family };
  const text = entry.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const prefix = Number(text);
  if (prefix > (fam === 4 ? 32 : 128)) return undefined;
  return { addr, prefix, family };
}

/** For config validation. */
export function isValidAllowEntry(entry: string): boolean {
  return parseEntry(entry) !== undefined;
}

export class AllowList {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(entries: readonly string[]) {
    this.empty = entries.length === 0;
    for (const e of entries) {
      const p = parseEntry(e);
      if (!p) throw new Error(`invalid allow-list entry ${e}`); // config validation rejects these first
      if (p.prefix === undefined) this.list.addAddress(p.addr, p.family);
      else this.list.addSubnet(p.addr, p.prefix, p.family);
    }
  }

  /** True when `remote` (a socket's remoteAddress) may connect. */
  allows(remote: string | undefined): boolean {
    if (this.empty) return true;
    if (!remote) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
    if (mapped) return this.list.check(mapped[1]!, 'ipv4') || this.list.check(remote, 'ipv6');
    const fam = isIP(remote);
    if (fam === 0) return false;
    return this.list.check(remote, fam === 4 ? 'ipv4' : 'ipv6');
  }
}
