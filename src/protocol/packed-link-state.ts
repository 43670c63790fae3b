/**
 * A LinkState entity with its three 18-slot arrays packed into one Float64Array (slot i at
 * [3i] lag, [3i+1] drops, [3i+2] kbRecv; NaN = the slot was not sent, JS `null`). The
 * verification workers hand announcements over in this form: the arrays of `number | null`
 * were most of an announcement's size to copy between threads and to collect afterwards. The
 * slot-array getters rebuild the usual arrays on demand, so it is a LinkStateEntity like any
 * other; the route server's link-state code reads the packed form directly.
 */
import type { Entity, LinkStateEntity } from './entity-types.ts';

/** cjdns' ring size (link-state.ts LINK_STATE_SLOTS; repeated here: link-state.ts imports us). */
const LINK_STATE_SLOTS = 18;

/** What crosses the thread boundary (a structured clone keeps own fields, not the class). */
export interface PackedLinkStateData {
  readonly type: 'LinkState';
  readonly nodeId: number;
  readonly startingPoint: number;
  readonly packed: Float64Array;
}

export class PackedLinkState implements LinkStateEntity, PackedLinkStateData {
  readonly type = 'LinkState' as const;

  constructor(
    readonly nodeId: number,
    readonly startingPoint: number,
    readonly packed: Float64Array,
  ) {}

  static pack(e: LinkStateEntity): PackedLinkState {
    const p = new Float64Array(3 * LINK_STATE_SLOTS);
    for (let i = 0; i < LINK_STATE_SLOTS; i++) {
      p[3 * i] = e.lagSlots[i] ?? NaN;
      p[3 * i + 1] = e.dropSlots[i] ?? NaN;
      p[3 * i + 2] = e.kbRecvSlots[i] ?? NaN;
    }
    return new PackedLinkState(e.nodeId, e.startingPoint, p);
  }

  get lagSlots(): ReadonlyArray<number | null> {
    return this.slots(0);
  }

  get dropSlots(): ReadonlyArray<number | null> {
    return this.slots(1);
  }

  get kbRecvSlots(): ReadonlyArray<number | null> {
    return this.slots(2);
  }

  private slots(k: number): Array<number | null> {
    const out: Array<number | null> = new Array<number | null>(LINK_STATE_SLOTS);
    for (let i = 0; i < LINK_STATE_SLOTS; i++) {
      const v = this.packed[3 * i + k]!;
      out[i] = Number.isNaN(v) ? null : v;
    }
    return out;
  }
}

/** Pack the LinkState entities of a list (before sending it to another thread). */
export function packLinkStates(entities: readonly Entity[]): Entity[] {
  return entities.map((e) =>
    e.type === 'LinkState' && !(e instanceof PackedLinkState) ? PackedLinkState.pack(e) : e,
  );
}

/** Give packed LinkState entities received from another thread their class back. */
export function revivePackedLinkStates(entities: readonly Entity[]): Entity[] {
  return entities.map((e) => {
    if (e.type !== 'LinkState' || e instanceof PackedLinkState) return e;
    const d = e as unknown as Partial<PackedLinkStateData>;
    return d.packed instanceof Float64Array
      ? new PackedLinkState(e.nodeId, e.startingPoint, d.packed)
      : e;
  });
}
