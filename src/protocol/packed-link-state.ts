/**
 * A LinkState entity that keeps its samples where they are: in the announcement's bytes. The
 * route server parses one per peer of every announcement and applies it at once, so the parse
 * only checks the samples (the same `runt` as the full parse) and `fillSlots` decodes them into
 * the caller's scratch array when the entity is applied: nothing per sample is allocated. The
 * slot-array getters rebuild the usual arrays on demand, so it is a LinkStateEntity like any
 * other.
 *
 * Slots (`fillSlots`): slot i at [3i] lag, [3i+1] drops, [3i+2] kbRecv; NaN = the slot was not
 * sent (JS `null`). Sample k fills ring slot (startingPoint + k) % 18, except that the first
 * one goes to slot `startingPoint` itself and is dropped when that is ≥ 18 (link-state.ts).
 */
import { RsError } from '../errors.ts';
import type { LinkStateEntity } from './entity-types.ts';

/** cjdns' ring size (link-state.ts LINK_STATE_SLOTS; repeated here: link-state.ts imports us). */
const LINK_STATE_SLOTS = 18;
const SLOT_VALUES = 3 * LINK_STATE_SLOTS;

/**
 * Walk the sample varints of `bytes[from..)` (varint.ts' encoding, read inline: no object per
 * varint), writing every value that lands in a slot into `out` (slot i at [3i] lag, [3i+1]
 * drops, [3i+2] kbRecv); without `out` it only checks the framing. Throws `runt` on a cut varint.
 */
function walkSamples(
  bytes: Uint8Array,
  from: number,
  startingPoint: number,
  out: Float64Array | number[] | undefined,
): void {
  const len = bytes.length;
  let x = from;
  for (let i = startingPoint; x !== len; i = (i + 1) % LINK_STATE_SLOTS) {
    for (let k = 0; k < 3; k++) {
      // readVarIntDouble, inlined
      if (x >= len) throw new RsError('RS_ERR_ENTITY_RUNT', 'runt');
      const first = bytes[x]!;
      let v: number;
      if (first < 0xfd) {
        v = first;
        x += 1;
      } else {
        const n = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
        if (len - x - 1 < n) throw new RsError('RS_ERR_ENTITY_RUNT', 'runt');
        v = 0;
        for (let j = 1; j <= n; j++) v = v * 256 + bytes[x + j]!;
        x += 1 + n;
      }
      if (out !== undefined && i < LINK_STATE_SLOTS) out[3 * i + k] = v;
    }
  }
}

export class PackedLinkState implements LinkStateEntity {
  readonly type = 'LinkState' as const;

  private constructor(
    readonly nodeId: number,
    readonly startingPoint: number,
    /** the entity's bytes and where its samples start, or null for slots given directly */
    private readonly bytes: Uint8Array | null,
    private readonly samplesAt: number,
    private readonly slots: readonly number[] | null,
  ) {}

  /**
   * The entity whose samples are `bytes[samplesAt..)` (the entity's own slice). Throws RsError
   * `runt` when they are cut short, as the full parse does.
   */
  static ofBytes(
    bytes: Uint8Array,
    samplesAt: number,
    nodeId: number,
    startingPoint: number,
  ): PackedLinkState {
    walkSamples(bytes, samplesAt, startingPoint, undefined);
    return new PackedLinkState(nodeId, startingPoint, bytes, samplesAt, null);
  }

  /** The same entity as `e` (tests, and entities built from slot arrays). */
  static pack(e: LinkStateEntity): PackedLinkState {
    const p = new Array<number>(SLOT_VALUES);
    for (let i = 0; i < LINK_STATE_SLOTS; i++) {
      p[3 * i] = e.lagSlots[i] ?? NaN;
      p[3 * i + 1] = e.dropSlots[i] ?? NaN;
      p[3 * i + 2] = e.kbRecvSlots[i] ?? NaN;
    }
    return new PackedLinkState(e.nodeId, e.startingPoint, null, 0, p);
  }

  /** Write the 54 slot values into `out` (NaN for a slot not sent). */
  fillSlots(out: Float64Array | number[]): void {
    if (this.slots) {
      for (let i = 0; i < SLOT_VALUES; i++) out[i] = this.slots[i]!;
      return;
    }
    out.fill(NaN, 0, SLOT_VALUES);
    walkSamples(this.bytes!, this.samplesAt, this.startingPoint, out);
  }

  get lagSlots(): ReadonlyArray<number | null> {
    return this.slotArray(0);
  }

  get dropSlots(): ReadonlyArray<number | null> {
    return this.slotArray(1);
  }

  get kbRecvSlots(): ReadonlyArray<number | null> {
    return this.slotArray(2);
  }

  private slotArray(k: number): Array<number | null> {
    const all = new Array<number>(SLOT_VALUES);
    this.fillSlots(all);
    const out: Array<number | null> = new Array<number | null>(LINK_STATE_SLOTS);
    for (let i = 0; i < LINK_STATE_SLOTS; i++) {
      const v = all[3 * i + k]!;
      out[i] = Number.isNaN(v) ? null : v;
    }
    return out;
  }
}
