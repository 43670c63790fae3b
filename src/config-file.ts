/**
 * The configuration file: where it is looked for, and how each kind is read.
 *
 *  - `--config <file>`; without it `./config.json` (the Rust port's default), then `./config.js`
 *    (the original's `require('./config')`), then `/etc/snode/config.json`. If none exists but the
 *    original would have read something else (`./config`, `./config.node`, a `./config/`
 *    directory), snode refuses to start rather than run unconfigured.
 *  - `*.json`: JSON. `*.js` / `*.cjs`: the original's CommonJS module, evaluated as JavaScript in
 *    its own `vm` context (config-js.ts). Any other name: JSON if it parses, else JavaScript.
 *  - Keys of the originals are translated (`connectCjdns` → `cjdns.enabled`; the Rust port's
 *    `seeder` section is ours too) or, when we have no use for them (`postgres`), dropped with a
 *    warning. Every other key is validated by the schema (config.ts), which names unknown ones.
 *
 * docs/configuration.md.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { RsError } from './errors.ts';
import { evaluateConfigJs } from './config-js.ts';

export interface ConfigWarning {
  /** e.g. `config:key:ignored`, `config:env:unknown` */
  readonly event: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

/** Where snode looks when `--config` is not given, in order. */
export const DEFAULT_CONFIG_PATHS = [
  './config.json',
  './config.js',
  '/etc/snode/config.json',
] as const;

/** What the original's `require('./config')` would also have found, and we do not read. */
const ORIGINAL_ONLY_PATHS = ['./config', './config.node'] as const;

export type ConfigLocation =
  | { readonly kind: 'file'; readonly path: string; readonly how: 'flag' | 'default' }
  | { readonly kind: 'none'; readonly lookedFor: readonly string[] };

/**
 * The file to read: the flag's, else the first of `defaults` that exists. Relative paths are
 * resolved against `cwd`.
 */
export function locateConfigFile(
  flag: string | undefined,
  cwd: string = process.cwd(),
  defaults: readonly string[] = DEFAULT_CONFIG_PATHS,
): ConfigLocation {
  if (flag !== undefined) return { kind: 'file', path: flag, how: 'flag' };
  for (const p of defaults) {
    const abs = resolve(cwd, p);
    if (existsSync(abs) && statSync(abs).isFile())
      return { kind: 'file', path: abs, how: 'default' };
  }
  for (const p of ORIGINAL_ONLY_PATHS) {
    const abs = resolve(cwd, p);
    if (existsSync(abs)) {
      throw new RsError(
        'RS_ERR_CONFIG_INVALID',
        `${abs} exists (the original cjdnsnode would have loaded it as its config) but snode reads ` +
          `${defaults.join(', ')}: rename it or pass --config`,
      );
    }
  }
  return { kind: 'none', lookedFor: defaults.map((p) => resolve(cwd, p)) };
}

/** Keys of the originals' config files we have no use for: dropped, with a warning. */
const FOREIGN_KEYS: Readonly<Record<string, string>> = {
  postgres:
    "the original's database settings (it did not use them either: nothing is kept in a database)",
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Translate the originals' keys into ours (connectCjdns → cjdns.enabled), drop the foreign ones. */
export function fromOriginalKeys(
  raw: Record<string, unknown>,
  path: string,
  warn: (w: ConfigWarning) => void,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  if ('connectCjdns' in out) {
    const enabled = out.connectCjdns;
    delete out.connectCjdns;
    const cjdns = isPlainObject(out.cjdns) ? out.cjdns : {};
    if (cjdns.enabled !== undefined && cjdns.enabled !== enabled) {
      throw new RsError(
        'RS_ERR_CONFIG_INVALID',
        `${path}: connectCjdns and cjdns.enabled disagree`,
      );
    }
    out.cjdns = { ...cjdns, enabled };
  }
  for (const [key, what] of Object.entries(FOREIGN_KEYS)) {
    if (!(key in out)) continue;
    delete out[key];
    warn({
      event: 'config:key:ignored',
      key,
      file: path,
      message: `${path}: "${key}" ignored: ${what}`,
    });
  }
  return out;
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RsError('RS_ERR_CONFIG_INVALID', `${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Read one config file into a raw object (not validated yet: config.ts does that). */
export function readConfigFile(
  path: string,
  opts: { env?: NodeJS.ProcessEnv; warn?: (w: ConfigWarning) => void } = {},
): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RsError(
      'RS_ERR_CONFIG_INVALID',
      `cannot read config file ${path}: ${(e as Error).message}`,
    );
  }
  const ext = extname(path).toLowerCase();
  let raw: unknown;
  if (ext === '.json') raw = parseJson(text, path);
  else if (ext === '.js' || ext === '.cjs')
    raw = evaluateConfigJs(text, path, opts.env ?? process.env);
  else {
    try {
      raw = JSON.parse(text);
    } catch {
      raw = evaluateConfigJs(text, path, opts.env ?? process.env);
    }
  }
  if (!isPlainObject(raw))
    throw new RsError('RS_ERR_CONFIG_INVALID', `${path}: the config must be an object`);
  return fromOriginalKeys(raw, path, opts.warn ?? (() => undefined));
}
