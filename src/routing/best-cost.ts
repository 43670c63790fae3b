/**
 * Link cost of the `best` route policy (docs/compatibility.md "Route policy").
 *
 * A hop costs HOP_COST plus a bounded quality penalty, all integers:
 *  - measured links (value > 0): PENALTY_PER_HALVING for every halving of the link value below
 *    GOOD_LINK_VALUE, at most MAX_QUALITY_PENALTY (a value of 1024 or more costs nothing extra,
 *    a value of 1 or less the full penalty);
 *  - unmeasured links (no link state yet, or samples that give value 0 — lag 0, or drops):
 *    UNMEASURED_PENALTY, the same as the worst measured quality.
 * So every link costs 100..200: a path is never more than twice as long in hops as the fewest-hop
 * one, and on the benchmark meshes the mean hop stretch is about 1.02 (docs/performance.md) — a
 * link of the worst quality is worth avoiding by one extra hop, not by many.
 *
 * Integers make path costs exact (a sum of at most 2^53 / 200 hops), so equal-cost paths are
 * equal in every process and the tie-break (node order, route-policy.ts) decides them the same
 * way everywhere. The thresholds are computed once per process from the same IEEE expressions;
 * the penalty is the number of thresholds the value is below (no logarithm of the value, whose
 * last bit could differ between libm versions).
 */

/** What every hop costs before quality. */
export const HOP_COST = 100;
/** Penalty of the worst measured quality (value ≤ GOOD_LINK_VALUE / 2^10 = 1). */
export const MAX_QUALITY_PENALTY = 100;
/** Penalty of a link without a usable measurement (value 0). */
export const UNMEASURED_PENALTY = 100;
/** A link value at or above this costs no penalty. */
export const GOOD_LINK_VALUE = 1024;
/** Penalty units per halving of the value below GOOD_LINK_VALUE. */
export const PENALTY_PER_HALVING = 10;

/** THRESHOLDS[k] = GOOD_LINK_VALUE · 2^(−k / PENALTY_PER_HALVING), k = 0 … 99 (descending). */
const THRESHOLDS: Float64Array = (() => {
  const t = new Float64Array(MAX_QUALITY_PENALTY);
  for (let k = 0; k < MAX_QUALITY_PENALTY; k++)
    t[k] = GOOD_LINK_VALUE * 2 ** (-k / PENALTY_PER_HALVING);
  return t;
})();

/**
 * The quality penalty of a link value: the number of thresholds it is below, i.e.
 * ⌈10 · log2(1024 / value)⌉ clamped to 0 … 100 (1024 → 0, 512 → 10, 1 → 100).
 */
export function qualityPenalty(value: number): number {
  if (!(value > 0)) return UNMEASURED_PENALTY; // 0, NaN, negative: nothing measured
  // THRESHOLDS is descending: count the k with value < THRESHOLDS[k] by binary search
  let lo = 0;
  let hi = THRESHOLDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value < THRESHOLDS[mid]!) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The `best` cost of a link with this value: an integer in [HOP_COST, HOP_COST + 100]. */
export function bestLinkCost(value: number): number {
  return HOP_COST + qualityPenalty(value);
}
