/**
 * Who sent a subnode query: the route-header fields cjdns hands us (key, IPv6, version), or the
 * equivalent `x-cjdns-*` headers of the HTTP subnode API.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { RsError } from '../errors.ts';
import type { BValue } from '../protocol/bencode.ts';
import { hexToBytes } from '../protocol/hex.ts';
import {
  ip6FromPublicKey,
  ip6FromString,
  ip6ToString,
  publicKeyFromString,
} from '../protocol/keys.ts';

export interface Sender {
  /** curve25519 key, 32 bytes, when known */
  readonly key: Uint8Array | undefined;
  /** 39-char IPv6 */
  readonly ip: string;
  /** the sender's protocol version (route header version, or `p` when that is 0) */
  readonly version: number;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Build the sender from `x-cjdns-key` (`.k` string or 64 hex digits), `x-cjdns-ip`, and
 * `x-cjdns-version`. Like cjdnsnode, a version of 0 (or none) is replaced by the query's `p`.
 * A query we cannot attribute (no key and no IP, or no version at all) is a 400.
 */
export function parseSenderHeaders(
  headers: IncomingHttpHeaders,
  query: { [k: string]: BValue },
): Sender {
  const keyText = header(headers, 'x-cjdns-key');
  const ipText = header(headers, 'x-cjdns-ip');
  const versionText = header(headers, 'x-cjdns-version');
  let key: Uint8Array | undefined;
  if (keyText !== undefined && keyText !== '') {
    key = /^[0-9a-fA-F]{64}$/.test(keyText)
      ? hexToBytes(keyText.toLowerCase())
      : publicKeyFromString(keyText);
  }
  let ip: string | undefined;
  if (ipText !== undefined && ipText !== '') ip = ip6ToString(ip6FromString(ipText));
  if (ip === undefined && key !== undefined) ip = ip6ToString(ip6FromPublicKey(key));
  if (ip === undefined)
    throw new RsError('RS_ERR_HTTP_BAD_REQUEST', 'x-cjdns-ip or x-cjdns-key is required');
  if (!ip.startsWith('fc'))
    throw new RsError('RS_ERR_HTTP_BAD_REQUEST', 'x-cjdns-ip must be a cjdns fc00::/8 address');
  let version = 0;
  if (versionText !== undefined && versionText !== '') {
    if (!/^\d{1,10}$/.test(versionText))
      throw new RsError('RS_ERR_HTTP_BAD_REQUEST', 'x-cjdns-version must be a decimal integer');
    version = Number(versionText);
  }
  const p = query.p;
  if (version === 0 && typeof p === 'number' && p > 0) version = p;
  if (version === 0)
    throw new RsError(
      'RS_ERR_HTTP_BAD_REQUEST',
      'x-cjdns-version (or a non-zero p in the query) is required',
    );
  return { key, ip, version };
}
