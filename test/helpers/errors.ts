import { expect } from 'chai';
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
