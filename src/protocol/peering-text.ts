/**
 * Text forms of peering credentials (docs/seeder.md):
 *
 * - address `1.2.3.4:11234` / `[2001:4860:4860::8888]:11234` (RFC 5952, as Rust prints a
 *   SocketAddr: an IPv4-mapped address as `::ffff:1.2.3.4`);
 * - the JSON "peering line" `{address, public_key, login, password, version}` whose login and
 *   password are exactly the cjdns authorized-password user (`AP_LOGIN: <n>`) and password
 *   (`AP_PASS: <base64, standard alphabet, no padding>`);
 * - a PeerID as UTF-8 when it is valid UTF-8, else `hex(<hex>)`;
 * - a DNS TXT record `cjdns0=<base64 of the binary record, no padding>`.
 */
import ipaddr from 'ipaddr.js';
import { RsError } from '../errors.ts';
import { publicKeyToString } from './keys.ts';
import {
  decodeCredentialRecord,
  encodeCredentialRecord,
  type CredentialRecord,
  type DecodeLimits,
  type PeerAddress,
  type PeeringCredential,
} from './peering-credentials.ts';

export interface PeeringLine {
  readonly address: string;
  readonly public_key: string;
  readonly login: string;
  readonly password: string;
  readonly version: number;
}

export const TXT_PREFIX = 'cjdns0=';

function invalid(message: string): RsError {
  return new RsError('RS_ERR_SEEDER_RECORD_INVALID', message);
}

/** Base64, standard alphabet, no padding (Rust `STANDARD_NO_PAD`). */
export function base64NoPad(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('base64')
    .replace(/=+$/, '');
}

/** Strict inverse of base64NoPad: no padding, no other characters, canonical trailing bits. */
export function fromBase64NoPad(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1)
    throw invalid('Could not decode base64');
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  if (base64NoPad(bytes) !== text) throw invalid('Could not decode base64');
  return bytes;
}

function ipText(ip: Uint8Array): string {
  const addr = ipaddr.fromByteArray([...ip]);
  if (addr.kind() === 'ipv4') return addr.toString();
  const v6 = addr as ipaddr.IPv6;
  return v6.isIPv4MappedAddress()
    ? `::ffff:${v6.toIPv4Address().toString()}`
    : v6.toRFC5952String();
}

export function peerAddressToString(a: PeerAddress): string {
  return a.ip.length === 4 ? `${ipText(a.ip)}:${a.port}` : `[${ipText(a.ip)}]:${a.port}`;
}

const V4_ADDR_RE = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;
const V6_ADDR_RE = /^\[([0-9A-Fa-f:.]{2,45})\]:(\d{1,5})$/;

/** `ip:port` / `[ip6]:port` → address; RsError RS_ERR_INPUT_INVALID otherwise (no zone ids). */
export function peerAddressFromString(text: string): PeerAddress {
  const bad = (): RsError =>
    new RsError('RS_ERR_INPUT_INVALID', `not an ip:port address: ${text.slice(0, 60)}`);
  const m4 = V4_ADDR_RE.exec(text);
  const m6 = m4 ? null : V6_ADDR_RE.exec(text);
  const m = m4 ?? m6;
  if (!m) throw bad();
  const port = Number(m[2]);
  if (port > 0xffff) throw bad();
  if (m4) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(m[1]!)) throw bad();
    return { ip: new Uint8Array(ipaddr.IPv4.parse(m[1]!).toByteArray()), port };
  }
  if (!ipaddr.IPv6.isValid(m[1]!)) throw bad();
  return { ip: new Uint8Array(ipaddr.IPv6.parse(m[1]!).toByteArray()), port };
}

export function peerAddressEquals(a: PeerAddress, b: PeerAddress): boolean {
  return a.port === b.port && Buffer.compare(a.ip, b.ip) === 0;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 when valid, else `hex(<hex>)` (Rust `PeerID::to_string`). */
export function peerIdToString(id: Uint8Array): string {
  try {
    return utf8.decode(id);
  } catch {
    return `hex(${Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex')})`;
  }
}

export function peeringLine(c: PeeringCredential): PeeringLine {
  return {
    address: peerAddressToString(c.address),
    public_key: publicKeyToString(c.publicKey),
    login: `AP_LOGIN: ${c.login}`,
    password: `AP_PASS: ${base64NoPad(c.password)}`,
    version: c.version,
  };
}

export function encodeTxtRecord(rec: Parameters<typeof encodeCredentialRecord>[0]): string {
  return TXT_PREFIX + base64NoPad(encodeCredentialRecord(rec));
}

export function decodeTxtRecord(text: string, limits?: DecodeLimits): CredentialRecord {
  if (!text.startsWith(TXT_PREFIX)) throw invalid(`Missing ${TXT_PREFIX} prefix`);
  return decodeCredentialRecord(fromBase64NoPad(text.slice(TXT_PREFIX.length)), limits);
}
