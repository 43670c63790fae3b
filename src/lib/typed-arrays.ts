/** The typed arrays the arenas and build buffers grow. */
export type GrowableArray = Int32Array | Uint32Array | Uint16Array | Uint8Array | Float64Array;

/**
 * `a`'s contents at the start of a new array of the same type and `length` elements; the rest
 * is `fill` (0 by default). What every growable column of the arenas, the update log and the
 * replica builders does when it runs out of room.
 */
export function withLength<T extends GrowableArray>(a: T, length: number, fill = 0): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  if (fill !== 0) b.fill(fill);
  b.set(a);
  return b;
}
