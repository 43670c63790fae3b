/**
 * CLI output conventions: results are JSON on stdout (one value, or one line per item); errors
 * are `{"error":{"code","message"}}` lines on stderr, and the exit status is 1.
 */
import { ERROR_CODES, RsError, isRsError } from '../errors.ts';

function jsonLine(value: unknown): string {
  return (
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n'
  );
}

/** A result: one JSON line on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(jsonLine(value));
}

export function errorJson(e: unknown): { error: { code: string; message: string } } {
  if (isRsError(e)) return { error: { code: e.code, message: e.message } };
  return {
    error: {
      code: 'RS_ERR_INTERNAL',
      message: e instanceof Error ? e.message : String(e) || ERROR_CODES.RS_ERR_INTERNAL,
    },
  };
}

/** An error: one JSON line on stderr; the command goes on (the exit status becomes 1). */
export function printError(e: unknown): void {
  process.stderr.write(jsonLine(errorJson(e)));
  process.exitCode = 1;
}

/** An error that ends the command: its JSON line on stderr, exit 1. */
export function fail(e: unknown): never {
  printError(e);
  process.exit(1);
}

/** Run a command body: print its result as JSON on stdout, or the error JSON on stderr and exit 1. */
export function runJson(fn: () => unknown): void {
  try {
    printJson(fn());
  } catch (e) {
    fail(e);
  }
}

export function usage(message: string): never {
  throw new RsError('RS_ERR_CLI_USAGE', message);
}
