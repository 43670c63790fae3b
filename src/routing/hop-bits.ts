/**
 * How many label bits one hop of a route takes — the resource of the `best` policy's
 * "the label must fit" constraint.
 *
 * Label construction (route-label.ts `spliceSteps`, README 4.8) re-encodes hop i's label to the
 * form of the previous link's label back (`encodingFormNum` of hop i−1) when its own form number
 * is smaller; the first hop is never re-encoded. The spliced label is then valid when
 * Σ log2(label_i) ≤ 59 (C `LabelSplicer_splice`: a 60-bit result is allowed) — for labels ≥ 2,
 * `splice2(go, via)` has exactly log2(go) + log2(via) bits, so the check of every splice step is
 * the check of the running sum. Hence the bits of hop i depend only on its label, its sender's
 * scheme and the *arrival form* at the sender (hop i−1's encodingFormNum), and a path fits iff
 * the sum over its hops is ≤ MAX_DIRECTOR_BITS.
 *
 * A hop whose (re-encoded) label cannot be built (re-encoding throws, the label does not parse),
 * is below 2 (0 or the self route: it would not move the packet), or alone has more than 59
 * bits, is unusable: HOP_UNUSABLE. The `best` policy never uses such a hop.
 */
import type { EncodingScheme } from '../protocol/encoding-scheme-types.ts';
import { getEncodingForm, log2, MAX_LABEL_BITS, reEncode } from '../protocol/routing-label.ts';

/** Largest sum of hop bits a route may have (C splice limit: log2(go) + log2(via) ≤ 59). */
export const MAX_DIRECTOR_BITS = MAX_LABEL_BITS - 1;
/** hopBits of a hop that cannot be used. */
export const HOP_UNUSABLE = 255;

/**
 * The bits of one hop: `label` (undefined: it did not parse) in `scheme` (the sender's),
 * re-encoded when it arrives after a hop whose label back has form `arrivalForm` (undefined on
 * the first hop), as `spliceSteps` does.
 */
export function hopBits(
  label: bigint | undefined,
  scheme: EncodingScheme,
  arrivalForm: number | undefined,
): number {
  if (label === undefined) return HOP_UNUSABLE;
  let l = label;
  if (arrivalForm !== undefined && getEncodingForm(l, scheme) < arrivalForm) {
    try {
      l = reEncode(l, scheme, arrivalForm);
    } catch {
      return HOP_UNUSABLE;
    }
  }
  if (l < 2n) return HOP_UNUSABLE;
  const bits = log2(l);
  return bits > MAX_DIRECTOR_BITS ? HOP_UNUSABLE : bits;
}

/** Where a HopBitsTable reads label values and schemes (the fast engine's shared id tables). */
export interface HopBitsSource {
  labelValue(labelId: number): bigint | undefined;
  scheme(schemeId: number): EncodingScheme;
}

/**
 * hopBits by (label id, sender scheme id, arrival class), computed once and kept: label ids and
 * scheme ids never change meaning (append-only tables), so one table serves every snapshot.
 * Arrival class: 0 = first hop (no re-encoding), f + 1 = arrival form f < the scheme's form count.
 * An arrival form ≥ the form count makes every hop fail (re-encoding to a form the scheme lacks
 * throws; no label has a form number that large): callers treat it as a dead end.
 */
export class HopBitsTable {
  /** per scheme id: one byte per (label id, class); UNKNOWN until computed */
  private readonly bySchemes: Uint8Array[] = [];
  private readonly strides: number[] = [];

  constructor(private readonly source: HopBitsSource) {}

  /** Number of arrival classes for a sender with this scheme: 1 + its form count. */
  classes(schemeId: number): number {
    let s = this.strides[schemeId];
    if (s === undefined) {
      s = 1 + this.source.scheme(schemeId).length;
      this.strides[schemeId] = s;
    }
    return s;
  }

  /** hopBits of label `labelId` sent by a node with scheme `schemeId`, arrival class `cls`. */
  bits(labelId: number, schemeId: number, cls: number): number {
    const stride = this.classes(schemeId);
    let t = this.bySchemes[schemeId];
    const i = labelId * stride + cls;
    if (t === undefined || i >= t.length) t = this.grow(schemeId, (labelId + 1) * stride);
    let b = t[i]!;
    if (b === UNKNOWN) {
      const scheme = this.source.scheme(schemeId);
      b = hopBits(this.source.labelValue(labelId), scheme, cls === 0 ? undefined : cls - 1);
      t[i] = b;
    }
    return b;
  }

  private grow(schemeId: number, needed: number): Uint8Array {
    const old = this.bySchemes[schemeId];
    const t = new Uint8Array(Math.max(needed, 2 * (old?.length ?? 0), 256)).fill(UNKNOWN);
    if (old) t.set(old);
    this.bySchemes[schemeId] = t;
    return t;
  }
}

/** Marks a table entry not computed yet (hop bits are ≤ 59 or HOP_UNUSABLE). */
const UNKNOWN = 254;
