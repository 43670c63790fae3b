/**
 * The canonical node order of the `best` policy's tie-break: nodes ordered by IPv6 address
 * (byte order = the order of the fixed-width lower-case strings the records use). Node ids are
 * handed out in arrival order and differ between the processes of a cluster; the address does not,
 * so ties decided by it are decided the same way everywhere.
 *
 * For the search loops, each id gets a number that orders like its address: the 48 bits after
 * the `fc` byte (exact in a double); two ids whose 48-bit keys are equal (about 4·10⁻⁶ for
 * 50,000 random addresses) are compared by their full strings.
 */

/** What the order reads: the IPv6 of an id (NodeIds). */
export interface NodeNames {
  ipOf(id: number): string;
  readonly size: number;
}

export class NodeOrder {
  private keys = new Float64Array(0);
  private filled = 0;

  constructor(private readonly names: NodeNames) {}

  /** The key array, covering at least ids < n (ids never change their address: append only). */
  keysFor(n: number): Float64Array {
    if (n > this.filled) this.fill(Math.max(n, this.names.size));
    return this.keys;
  }

  /** < 0 when node a comes before node b (a ≠ b), by address. */
  compare(a: number, b: number): number {
    const keys = this.keysFor(Math.max(a, b) + 1);
    const d = keys[a]! - keys[b]!;
    if (d !== 0) return d;
    const ia = this.names.ipOf(a);
    const ib = this.names.ipOf(b);
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  }

  /** Whether a comes before b (a tie of the 48-bit keys falls back to the strings). */
  before(keys: Float64Array, a: number, b: number): boolean {
    const ka = keys[a]!;
    const kb = keys[b]!;
    if (ka !== kb) return ka < kb;
    return a !== b && this.compare(a, b) < 0;
  }

  private fill(n: number): void {
    if (n > this.keys.length) {
      const k = new Float64Array(Math.max(n, Math.ceil(this.keys.length * 1.5), 16));
      k.set(this.keys.subarray(0, this.filled));
      this.keys = k;
    }
    for (let id = this.filled; id < n; id++) this.keys[id] = addressKey(this.names.ipOf(id));
    this.filled = n;
  }
}

/**
 * The 48 bits after the first byte of a `fcxx:xxxx:xxxx:xxxx:…` address as a number (orders like
 * the string for addresses in that form; other strings get their first 48 hex bits after 2 chars).
 */
export function addressKey(ip: string): number {
  const hex = ip.replace(/:/g, '');
  const v = Number.parseInt(hex.slice(2, 14), 16);
  return Number.isFinite(v) ? v : 0;
}
