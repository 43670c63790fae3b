import { expect } from 'chai';
import fc from 'fast-check';
import { ERROR_CODES, isRsError, type RsError } from '../../src/errors.ts';

/**
 * Run `fn` and check it threw an RsError whose code is in the registry (and equals `code`, and
 * whose message equals `message`, when given). Returns the error.
 */
export function expectRsError(fn: () => unknown, code?: string, message?: string): RsError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected an RsError, nothing was thrown').to.not.equal(undefined);
  expect(isRsError(thrown), `expected an RsError, got ${String(thrown)}`).to.equal(true);
  const err = thrown as RsError;
  expect(Object.keys(ERROR_CODES)).to.include(err.code);
  if (code !== undefined) expect(err.code).to.equal(code);
  if (message !== undefined) expect(err.message).to.equal(message);
  return err;
}

/** The error `fn` throws (its code and message), or undefined when it returns. */
export function errorOf(fn: () => unknown): { code?: string; message?: string } | undefined {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message?: string };
  }
  return undefined;
}

/**
 * Fuzz a binary decoder: on arbitrary bytes, and on `valid` with a few bytes overwritten at a
 * random place, `decode` either returns or throws an RsError of `code` — nothing else.
 */
export function expectOnlyRsErrorNear(
  valid: Uint8Array,
  decode: (bytes: Uint8Array) => unknown,
  code: string,
): void {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        fc
          .tuple(fc.nat(valid.length - 1), fc.uint8Array({ minLength: 1, maxLength: 8 }))
          .map(([at, junk]) => {
            const b = new Uint8Array(valid);
            b.set(junk.subarray(0, b.length - at), at);
            return b;
          }),
      ),
      (bytes) => {
        try {
          decode(bytes);
        } catch (e) {
          if (!isRsError(e) || e.code !== code) throw e;
        }
      },
    ),
    { numRuns: 2000, seed: 42 },
  );
}
