import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RsError } from '../errors.ts';
import { type BInput, type BValue, bencodeDecode, bencodeEncode, isBDict } from './bencode.ts';
import type { JsEncodingForm } from './encoding-scheme-types.ts';

/**
 * cjdns admin API frames (docs/protocol.md §6.1): bencoded dictionaries over UDP.
 *
 * Requests are `{q, args, txid}`; functions that need auth go through the cookie dance:
 * `{q:'cookie', txid}` → `{cookie, txid}`, then `{q:'auth', aq, args, cookie, txid, hash}` where
 * `hash` is first `hex(sha256(password ‖ cookie))` and is then replaced with the hex sha256 of the
 * message bencoded with that first hash. Replies carry the caller's `txid` and usually `error`
 * (`"none"` on success). All text in replies is decoded as UTF-8 (cjdnsadmin decodes with utf8).
 * Hashing is pure computation, so this file stays in protocol/.
 */

/** cjdns's reply when the auth hash does not match. */
export const ADMIN_AUTH_FAILED = 'Auth failed.';

export type AdminArgs = { readonly [k: string]: BInput | undefined };

/** A reply value with byte strings turned into UTF-8 text. */
export type AdminValue = string | number | bigint | AdminValue[] | { [k: string]: AdminValue };

export interface AdminReply {
  /** echoed txid (absent on some error replies) */
  readonly txid: string | undefined;
  /** `"none"` on success; absent in replies that carry no error field (e.g. cookie) */
  readonly error: string | undefined;
  /** every other key of the reply */
  readonly rest: { readonly [k: string]: AdminValue };
}

function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `{q: "cookie", txid}` */
export function buildCookieQuery(txid: string): Uint8Array {
  return bencodeEncode({ q: 'cookie', txid });
}

/** `{q: function, args, txid}` for functions that need no auth (or when the password is `NONE`). */
export function buildPlainQuery(req: {
  function: string;
  args?: AdminArgs;
  txid: string;
}): Uint8Array {
  return bencodeEncode({ q: req.function, args: req.args, txid: req.txid });
}

/** The authenticated request, bytes exactly as cjdnsadmin sends them (vectors admin_api.json). */
export function buildAuthQuery(req: {
  password: string;
  cookie: string;
  txid: string;
  function: string;
  args?: AdminArgs;
}): Uint8Array {
  const msg = {
    q: 'auth',
    aq: req.function,
    args: req.args ?? {},
    cookie: req.cookie,
    txid: req.txid,
    hash: sha256Hex(req.password + req.cookie),
  };
  const first = bencodeEncode(msg);
  return bencodeEncode({ ...msg, hash: sha256Hex(first) });
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

function toAdminValue(v: BValue): AdminValue {
  if (v instanceof Uint8Array) return textDecoder.decode(v);
  if (Array.isArray(v)) return v.map(toAdminValue);
  if (typeof v === 'object') {
    const out: { [k: string]: AdminValue } = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(out, k, {
        value: toAdminValue(v[k]!),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}

function invalid(message: string, context?: Record<string, unknown>): RsError {
  return new RsError(
    'RS_ERR_ADMIN_INVALID',
    `invalid admin reply: ${message}`,
    context ? { context } : undefined,
  );
}

/**
 * Decode a reply datagram. Throws RsError: RS_ERR_BENCODE_INVALID for bad bencode,
 * RS_ERR_ADMIN_INVALID when it is not a dictionary or `txid`/`error` are not strings.
 */
export function parseAdminReply(bytes: Uint8Array): AdminReply {
  const decoded = bencodeDecode(bytes);
  if (!isBDict(decoded)) throw invalid('not a dictionary');
  let txid: string | undefined;
  let error: string | undefined;
  const rest: { [k: string]: AdminValue } = {};
  for (const k of Object.keys(decoded)) {
    const v = decoded[k]!;
    if (k === 'txid' || k === 'error') {
      if (!(v instanceof Uint8Array)) throw invalid(`${k} is not a string`);
      if (k === 'txid') txid = textDecoder.decode(v);
      else error = textDecoder.decode(v);
      continue;
    }
    Object.defineProperty(rest, k, {
      value: toAdminValue(v),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { txid, error, rest };
}

/**
 * Throw if the reply reports a failure: RS_ERR_ADMIN_AUTH for "Auth failed.", RS_ERR_ADMIN_CALL for
 * any other `error` but "none" (context.error holds cjdns's string, e.g. `invalid_udpPort`).
 * A reply without `error` passes.
 */
export function checkAdminError(reply: AdminReply, fn?: string): void {
  if (reply.error === undefined || reply.error === 'none') return;
  const context = { error: reply.error, ...(fn !== undefined ? { function: fn } : {}) };
  if (reply.error === ADMIN_AUTH_FAILED) {
    throw new RsError('RS_ERR_ADMIN_AUTH', `cjdns admin API: ${reply.error}`, { context });
  }
  throw new RsError('RS_ERR_ADMIN_CALL', `cjdns admin API${fn ? ` ${fn}` : ''}: ${reply.error}`, {
    context,
  });
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw invalid(
      `${what}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return r.data;
}

const u16 = z.number().int().min(0).max(0xffff);

const CookieSchema = z.object({ cookie: z.string().regex(/^[0-9]+$/) });

/** Cookie from a `cookie` reply (decimal Unix seconds as a string). */
export function parseCookieReply(reply: AdminReply): string {
  checkAdminError(reply, 'cookie');
  return validate(CookieSchema, reply.rest, 'cookie reply').cookie;
}

const EncodingFormSchema = z.object({
  bitCount: z.number().int().min(1).max(64),
  prefix: z.string().regex(/^(?:[0-9a-f]{2})*$/),
  prefixLen: z.number().int().min(0).max(64),
});

const NodeInfoSchema = z.object({
  myAddr: z.string().min(1),
  myIp6: z.string().min(1),
  compressedSchemeHex: z.string().regex(/^(?:[0-9a-f]{2})*$/),
  encodingScheme: z.array(EncodingFormSchema).min(1),
  version: z.number().int().min(0),
});

export interface NodeInfo {
  /** `v<version>.<label>.<key>.k` node name of the local node */
  readonly myAddr: string;
  readonly myIp6: string;
  readonly compressedSchemeHex: string;
  /** forms in form order, cjdnsencode shape (prefix as hex without leading "00" pairs) */
  readonly encodingScheme: readonly JsEncodingForm[];
  readonly version: number;
}

/** `Core_nodeInfo` reply. */
export function parseNodeInfoReply(reply: AdminReply): NodeInfo {
  checkAdminError(reply, 'Core_nodeInfo');
  return validate(NodeInfoSchema, reply.rest, 'Core_nodeInfo reply');
}

const ListHandlersSchema = z.object({
  handlers: z.array(z.object({ type: u16, udpPort: u16 })),
});

export interface HandlerEntry {
  readonly type: number;
  readonly udpPort: number;
}

/** `UpperDistributor_listHandlers` reply (8 per page). */
export function parseListHandlersReply(reply: AdminReply): { handlers: HandlerEntry[] } {
  checkAdminError(reply, 'UpperDistributor_listHandlers');
  return validate(ListHandlersSchema, reply.rest, 'UpperDistributor_listHandlers reply');
}

/**
 * `UpperDistributor_registerHandler` reply: passes on `error: "none"`; cjdns's errors
 * (`invalid_udpPort`, `invalid_contentType`, `UpperDistributor_registerHandler_PORT_REGISTERED`)
 * surface as RS_ERR_ADMIN_CALL with context.error. A reply without `error` is invalid.
 */
export function parseRegisterHandlerReply(reply: AdminReply): void {
  if (reply.error === undefined)
    throw invalid('UpperDistributor_registerHandler reply without error');
  checkAdminError(reply, 'UpperDistributor_registerHandler');
}
