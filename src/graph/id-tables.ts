/**
 * Dense integer ids for the fast route engine (issue "double-buffered route trees").
 *
 * Every IPv6 the graph mentions — a node with a record, or only the peer side of a link — gets
 * an id the first time it is seen; ids are never reused, so an id names the same node in every
 * snapshot, in both tree replicas and in a from-scratch build. Encoding schemes are interned the
 * same way (a handful of distinct schemes exist in a real network). Both tables only grow, and
 * an entry never changes once written: a snapshot built earlier can read them without a copy.
 *
 * The key of a node is fixed by its IPv6 (the address is derived from the key), so it is kept
 * here too, set when the node's first record is created.
 */
import type { EncodingScheme } from '../protocol/encoding-scheme-types.ts';
import { schemeKey } from '../protocol/encoding-scheme.ts';
import { parseLabel } from '../protocol/routing-label.ts';

let nextTableSerial = 1;

export class NodeIds {
  /** tells tables apart (links cache their peer's id per table) */
  readonly serial = nextTableSerial++;
  private readonly byIp = new Map<string, number>();
  private readonly ips: string[] = [];
  /** 32 bytes per id (its curve25519 key, once known), and whether it is known */
  private keyBytes = new Uint8Array(32 * 1024);
  private hasKey = new Uint8Array(1024);

  /** The id of `ip`, assigning the next one if it has none yet. */
  intern(ip: string): number {
    let id = this.byIp.get(ip);
    if (id === undefined) {
      id = this.ips.length;
      this.byIp.set(ip, id);
      this.ips.push(ip);
      if (id >= this.hasKey.length) this.grow();
    }
    return id;
  }

  /** The id of `ip`, or undefined if it was never seen. */
  find(ip: string): number | undefined {
    return this.byIp.get(ip);
  }

  ipOf(id: number): string {
    const ip = this.ips[id];
    if (ip === undefined) throw new RangeError(`no node id ${id}`);
    return ip;
  }

  /** Remember the node's curve25519 key (first record); later calls keep the first key. */
  setKey(id: number, key: Uint8Array): void {
    if (id >= this.ips.length || this.hasKey[id] === 1) return;
    this.keyBytes.set(key.subarray(0, 32), 32 * id);
    this.hasKey[id] = 1;
  }

  /** The node's key (a view that never changes), if its record ever existed. */
  keyOf(id: number): Uint8Array | undefined {
    if (id < 0 || id >= this.ips.length || this.hasKey[id] !== 1) return undefined;
    return this.keyBytes.subarray(32 * id, 32 * id + 32);
  }

  /** Number of ids handed out (= the next id). */
  get size(): number {
    return this.ips.length;
  }

  private grow(): void {
    const n = this.hasKey.length * 2;
    const keys = new Uint8Array(32 * n);
    keys.set(this.keyBytes);
    const has = new Uint8Array(n);
    has.set(this.hasKey);
    // views handed out keep the old array, whose bytes never change
    this.keyBytes = keys;
    this.hasKey = has;
  }
}

export class SchemeTable {
  private readonly byKey = new Map<string, number>();
  private readonly schemes: EncodingScheme[] = [];

  intern(scheme: EncodingScheme): number {
    const key = schemeKey(scheme);
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.schemes.length;
      this.byKey.set(key, id);
      this.schemes.push(scheme);
    }
    return id;
  }

  get(id: number): EncodingScheme {
    const s = this.schemes[id];
    if (s === undefined) throw new RangeError(`no scheme id ${id}`);
    return s;
  }

  get size(): number {
    return this.schemes.length;
  }
}

/**
 * Link labels as ids. Labels are stored as the strings the Peer entities gave; the number is
 * what `parseLabel` makes of it, or undefined where it throws (the reference's label
 * construction then fails and the route is null). Keeping the string keeps `/path`'s
 * `origLabel` byte-identical.
 */
export class LabelTable {
  /** tells tables apart (links cache their label's id per table) */
  readonly serial = nextTableSerial++;
  private readonly byText = new Map<string, number>();
  private readonly texts: string[] = [];
  private readonly values: (bigint | undefined)[] = [];

  intern(text: string): number {
    let id = this.byText.get(text);
    if (id === undefined) {
      id = this.texts.length;
      this.byText.set(text, id);
      this.texts.push(text);
      let value: bigint | undefined;
      try {
        value = parseLabel(text);
      } catch {
        value = undefined;
      }
      this.values.push(value);
    }
    return id;
  }

  /** The label as a number, undefined if the reference could not parse it. */
  valueOf(id: number): bigint | undefined {
    return this.values[id];
  }

  textOf(id: number): string {
    const t = this.texts[id];
    if (t === undefined) throw new RangeError(`no label id ${id}`);
    return t;
  }

  get size(): number {
    return this.texts.length;
  }
}

/** The three tables a route snapshot reads names from; shared by every snapshot of a server. */
export interface GraphTables {
  readonly ids: NodeIds;
  readonly schemes: SchemeTable;
  readonly labels: LabelTable;
}

export function newGraphTables(): GraphTables {
  return { ids: new NodeIds(), schemes: new SchemeTable(), labels: new LabelTable() };
}
