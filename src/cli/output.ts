/** CLI output conventions: JSON on stdout; errors as {"error":{"code","message"}} with exit 1. */
import { ERROR_CODES, RsError, isRsError } from '../errors.ts';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
}

export function errorJson(e: unknown): { error: { code: string; message: string } } {
  if (isRsError(e)) return { error: { code: e.code, message: e.message } };
  return { error: { code: 'RS_ERR_INTERNAL', message: e instanceof Error ? e.message : String(e) || ERROR_CODES.RS_ERR_INTERNAL } };
}

export function fail(e: unknown): never {
  printJson(errorJson(e));
  process.exit(1);
}

/** Run a command body: print its result as JSON, or the error JSON and exit 1. */
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
