/**
 * Where the cjdns admin API is and how to log in: config, environment and flags over
 * `~/.cjdnsadmin` over cjdns's defaults; and the `--cjdns-admin` endpoint syntax.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { RsError } from '../errors.ts';

/** cjdns defaults (docs/protocol.md §9) and cjdnsadmin's. */
export const ADMIN_DEFAULT_ADDR = '127.0.0.1';
export const ADMIN_DEFAULT_PORT = 11234;
export const ADMIN_DEFAULT_PASSWORD = 'NONE';
export interface AdminCredentials {
  readonly addr: string;
  readonly port: number;
  readonly password: string;
  /** where the values came from: the file path when one was read, else `defaults`/`config` */
  readonly source: string;
}

/**
 * `~/.cjdnsadmin` as cjdns tools write it: plain JSON `{addr, port, password}` (other keys such as
 * `config` are ignored). Both anchors read it with a strict JSON parser, so comments are refused.
 */
const cjdnsadminFileSchema = z
  .object({
    addr: z.string().min(1).optional(),
    port: z.coerce.number().int().min(1).max(65535).optional(),
    password: z.string().optional(),
  })
  .passthrough();

/** `[::1]` → `::1`; anything else unchanged. */
export function stripBrackets(addr: string): string {
  return addr.startsWith('[') && addr.endsWith(']') ? addr.slice(1, -1) : addr;
}

/**
 * Credentials for the admin API. Explicit values (config, environment, flags — already merged by
 * config.ts) win field by field over the file; the file (`file`, default `~/.cjdnsadmin`) is read
 * unless all three are explicit; then cjdns's defaults 127.0.0.1:11234 / `NONE`. A missing default
 * file is normal; a missing explicit file, unreadable file or bad JSON is RS_ERR_CONFIG_INVALID.
 */
export function resolveAdminCredentials(opts: {
  addr?: string | undefined;
  port?: number | undefined;
  password?: string | undefined;
  file?: string | undefined;
  home?: string | undefined;
}): AdminCredentials {
  let fromFile: z.infer<typeof cjdnsadminFileSchema> = {};
  let source =
    opts.addr !== undefined || opts.port !== undefined || opts.password !== undefined
      ? 'config'
      : 'defaults';
  const allExplicit =
    opts.addr !== undefined && opts.port !== undefined && opts.password !== undefined;
  if (!allExplicit) {
    const path = opts.file ?? join(opts.home ?? homedir(), '.cjdnsadmin');
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || opts.file !== undefined) {
        throw new RsError(
          'RS_ERR_CONFIG_INVALID',
          `cannot read cjdns admin file ${path}: ${(e as Error).message}`,
        );
      }
    }
    if (text !== undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (e) {
        throw new RsError(
          'RS_ERR_CONFIG_INVALID',
          `cjdns admin file ${path} is not JSON: ${(e as Error).message}`,
        );
      }
      const r = cjdnsadminFileSchema.safeParse(raw);
      if (!r.success) {
        const why = r.error.issues
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        throw new RsError(
          'RS_ERR_CONFIG_INVALID',
          `cjdns admin file ${path}: expected {"addr", "port", "password"} (${why})`,
        );
      }
      fromFile = r.data;
      source = path;
    }
  }
  return {
    addr: stripBrackets(opts.addr ?? fromFile.addr ?? ADMIN_DEFAULT_ADDR),
    port: opts.port ?? fromFile.port ?? ADMIN_DEFAULT_PORT,
    password: opts.password ?? fromFile.password ?? ADMIN_DEFAULT_PASSWORD,
    source,
  };
}

/**
 * `--cjdns-admin` value: `127.0.0.1:11234`, `[::1]:11234`, `localhost:11234`, or an address alone
 * (`127.0.0.1`, `::1`, `[::1]`: port left to the other sources). RS_ERR_CONFIG_INVALID otherwise.
 */
export function parseAdminEndpoint(text: string): { addr: string; port?: number } {
  const bad = (): RsError =>
    new RsError(
      'RS_ERR_CONFIG_INVALID',
      `cjdns admin address [${text}]: expected <addr>:<port>, [<ipv6>]:<port> or <addr>`,
    );
  const t = text.trim();
  if (t === '') throw bad();
  const portOf = (p: string): number => {
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw bad();
    return Number(p);
  };
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(t);
  if (bracketed) {
    if (isIP(bracketed[1]!) !== 6) throw bad();
    return bracketed[2] === undefined
      ? { addr: bracketed[1]! }
      : { addr: bracketed[1]!, port: portOf(bracketed[2]) };
  }
  if (isIP(t) === 6) return { addr: t };
  const colon = t.lastIndexOf(':');
  if (colon < 0) return { addr: t };
  const host = t.slice(0, colon);
  if (host === '' || host.includes(':')) throw bad();
  return { addr: host, port: portOf(t.slice(colon + 1)) };
}

/** `127.0.0.1:11234` / `[::1]:11234` */
export function formatAdminEndpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
