/**
 * The original cjdnsnode's `config.js`: a CommonJS module (`module.exports = {connectCjdns,
 * peers}`) that may compute its values (variables, `process.env`, `require('os')`). It is
 * evaluated as JavaScript — a file that does not parse as an object literal still loads — in a
 * `vm` context of its own:
 *
 *  - it sees `module`, `exports`, `require` (Node's built-in modules only), `process.env` (a
 *    copy), `__filename`, `__dirname` and a `console` writing to stderr; not our modules, globals
 *    or `process`;
 *  - synchronous code only, stopped after CONFIG_JS_TIMEOUT_MS; the result is copied out as JSON
 *    data (functions and prototypes stay behind) and validated like any other config.
 *
 * A context is not a security boundary: config.js runs with the server's rights, like the code
 * itself, so snode refuses one that anybody may write to (mode o+w). docs/configuration.md.
 */
import { statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { Console } from 'node:console';
import { dirname, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { RsError } from './errors.ts';

export const CONFIG_JS_TIMEOUT_MS = 1000;

const BUILTINS = new Set(builtinModules);

function sandboxRequire(path: string): (name: string) => unknown {
  const real = createRequire(resolve(path));
  return (name: string) => {
    const bare = name.startsWith('node:') ? name.slice(5) : name;
    if (!BUILTINS.has(bare)) {
      throw new Error(`require('${name}'): a config.js may require Node's built-in modules only`);
    }
    return real(name);
  };
}

function refuseWorldWritable(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return; // already read; a vanished file changes nothing here
  }
  if ((mode & 0o002) !== 0) {
    throw new RsError(
      'RS_ERR_CONFIG_INVALID',
      `${path}: anybody may write to this file and it is code snode would run: chmod o-w it`,
    );
  }
}

/** Evaluate config.js text; returns what it exports, as plain JSON data. */
export function evaluateConfigJs(text: string, path: string, env: NodeJS.ProcessEnv): unknown {
  refuseWorldWritable(path);
  const module = { exports: {} as unknown };
  const sandbox = {
    module,
    exports: module.exports,
    require: sandboxRequire(path),
    process: { env: { ...env } },
    __filename: resolve(path),
    __dirname: dirname(resolve(path)),
    console: new Console(process.stderr, process.stderr),
  };
  try {
    runInNewContext(text, sandbox, {
      filename: path,
      timeout: CONFIG_JS_TIMEOUT_MS,
      microtaskMode: 'afterEvaluate',
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new RsError('RS_ERR_CONFIG_INVALID', `${path}: evaluating it failed: ${message}`);
  }
  const exported = sandbox.module.exports;
  if (exported === sandbox.exports && Object.keys(exported as object).length === 0) {
    throw new RsError(
      'RS_ERR_CONFIG_INVALID',
      `${path}: it exports nothing (module.exports = {…} expected)`,
    );
  }
  if (
    typeof exported === 'object' &&
    exported !== null &&
    typeof (exported as { then?: unknown }).then === 'function'
  ) {
    throw new RsError(
      'RS_ERR_CONFIG_INVALID',
      `${path}: module.exports is a promise; a config.js must export its object synchronously`,
    );
  }
  try {
    return JSON.parse(JSON.stringify(exported) ?? 'null') as unknown;
  } catch (e) {
    throw new RsError(
      'RS_ERR_CONFIG_INVALID',
      `${path}: its exports are not plain data (${(e as Error).message})`,
    );
  }
}
