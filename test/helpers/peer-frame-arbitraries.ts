import fc from 'fast-check';

/** A frame's sequence number: small, a millisecond timestamp (what peers send), or the largest safe integer. */
export const seqArb: fc.Arbitrary<number> = fc.oneof(
  fc.nat(),
  fc.integer({ min: 1_500_000_000_000, max: 2_500_000_000_000 }),
  fc.maxSafeInteger(),
);
