/**
 * Peering credentials (docs/seeder.md): the binary "dnsseed" record a cjdns node posts with
 * `sq: "pc"`, the route server answers in `pr`, and a nameserver serves as DNS TXT `cjdns0=…`.
 *
 * A record is a run of TLVs. `L` is the **whole** TLV's length, its 2 header bytes included:
 *
 *   T (1) ‖ L (1, 2..255) ‖ value (L − 2)
 *
 *   0x01 SNODE      32-byte route-server key (DNS records only; extra bytes ignored)
 *   0x02 UDP4 peer  address (4) ‖ port (u16 BE) ‖ login (VarInt, u16) ‖ password (8)
 *                   ‖ public key (32) ‖ version (VarInt, u32); bytes after version ignored
 *   0x03 UDP6 peer  the same with a 16-byte address
 *   0x04 PEER_ID    raw bytes, the operator's ID (the whole value)
 *   other           kept as unknown
 *
 * Decoding (the Rust port's rules): TLVs are read while ≥ 2 bytes remain (one trailing byte is
 * ignored); `L < 2` or `L` past the end is an error; a repeated SNODE or PEER_ID: the last wins;
 * peers keep their order. On top of those, explicit limits: the record's size and its number of
 * peers (`DecodeLimits`). Every failure is RsError `RS_ERR_SEEDER_RECORD_INVALID`, never a throw
 * of anything else. Encoding order: PEER_ID, SNODE, then the peers in list order.
 */
import { RsError } from '../errors.ts';
import { ByteReader } from './byte-reader.ts';
import { readVarInt, writeVarInt } from './varint.ts';

export const TLV_SNODE = 0x01;
export const TLV_UDP4_PEER = 0x02;
export const TLV_UDP6_PEER = 0x03;
export const TLV_PEER_ID = 0x04;

export const KEY_BYTES = 32;
export const PASSWORD_BYTES = 8;
/** the encoder refuses longer IDs (cjdns itself refuses IDs over 30 characters) */
export const MAX_PEER_ID_BYTES = 64;
const MAX_TLV_BYTES = 255;

export interface PeerAddress {
  /** 4 or 16 bytes, network order */
  readonly ip: Uint8Array;
  readonly port: number;
}

export interface PeeringCredential {
  readonly address: PeerAddress;
  /** u16: the cjdns authorized-password user is `AP_LOGIN: <login>` */
  readonly login: number;
  /** 8 raw bytes: the password is `AP_PASS: <base64 without padding>` */
  readonly password: Uint8Array;
  /** the peer's curve25519 key, 32 bytes */
  readonly publicKey: Uint8Array;
  /** u32 protocol version */
  readonly version: number;
}

export interface UnknownTlv {
  readonly type: number;
  readonly value: Uint8Array;
}

export interface CredentialRecord {
  readonly peerId: Uint8Array | undefined;
  readonly snodeKey: Uint8Array | undefined;
  readonly peers: readonly PeeringCredential[];
  readonly unknown: readonly UnknownTlv[];
}

export interface DecodeLimits {
  /** longest record accepted (default 1024 bytes; cjdns posts ~126, a DNS record is ~230) */
  readonly maxBytes?: number;
  /** most peer TLVs accepted (default 16; cjdns posts at most 2: UDP6 and UDP4) */
  readonly maxPeers?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 1024;
export const DEFAULT_MAX_RECORD_PEERS = 16;

function invalid(message: string): RsError {
  return new RsError('RS_ERR_SEEDER_RECORD_INVALID', message);
}

export function isIpv6Peer(c: PeeringCredential): boolean {
  return c.address.ip.length === 16;
}

// ---- decode ----------------------------------------------------------------------------------

function readPeer(type: number, value: Uint8Array): PeeringCredential {
  const r = new ByteReader(value, 'RS_ERR_SEEDER_RECORD_INVALID');
  const ipLength = type === TLV_UDP4_PEER ? 4 : 16;
  // copies: a decoded record must not pin (or alias) the buffer it came from
  const ip = r.take(ipLength, 'peer address').slice();
  const port = r.u16('peer port');
  const login = readVarInt(r);
  if (login > 0xffffn) throw invalid(`peer login ${login} does not fit in 16 bits`);
  const password = r.take(PASSWORD_BYTES, 'peer password').slice();
  const publicKey = r.take(KEY_BYTES, 'peer public key').slice();
  const version = readVarInt(r);
  if (version > 0xffffffffn) throw invalid(`peer version ${version} does not fit in 32 bits`);
  return {
    address: { ip, port },
    login: Number(login),
    password,
    publicKey,
    version: Number(version),
  };
}

/** Binary record → its parts. RsError RS_ERR_SEEDER_RECORD_INVALID on any bad input. */
export function decodeCredentialRecord(
  bytes: Uint8Array,
  limits: DecodeLimits = {},
): CredentialRecord {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const maxPeers = limits.maxPeers ?? DEFAULT_MAX_RECORD_PEERS;
  if (bytes.length > maxBytes) throw invalid(`record of ${bytes.length} bytes exceeds ${maxBytes}`);
  let peerId: Uint8Array | undefined;
  let snodeKey: Uint8Array | undefined;
  const peers: PeeringCredential[] = [];
  const unknown: UnknownTlv[] = [];
  let cursor = 0;
  while (cursor + 1 < bytes.length) {
    const type = bytes[cursor]!;
    const length = bytes[cursor + 1]!;
    if (length < 2) throw invalid(`Invalid item length: ${length}`);
    if (cursor + length > bytes.length) throw invalid('TLV is truncated');
    const value = bytes.subarray(cursor + 2, cursor + length);
    cursor += length;
    switch (type) {
      case TLV_PEER_ID:
        peerId = value.slice();
        break;
      case TLV_SNODE:
        if (value.length < KEY_BYTES)
          throw invalid(`SNODE of ${value.length} bytes is shorter than a key`);
        snodeKey = value.slice(0, KEY_BYTES);
        break;
      case TLV_UDP4_PEER:
      case TLV_UDP6_PEER:
        if (peers.length >= maxPeers) throw invalid(`more than ${maxPeers} peers in one record`);
        peers.push(readPeer(type, value));
        break;
      default:
        unknown.push({ type, value: value.slice() });
    }
  }
  return { peerId, snodeKey, peers, unknown };
}

// ---- encode ----------------------------------------------------------------------------------

function tlv(type: number, value: Uint8Array): Uint8Array {
  if (value.length + 2 > MAX_TLV_BYTES)
    throw invalid(`TLV value of ${value.length} bytes is too long`);
  const out = new Uint8Array(value.length + 2);
  out[0] = type;
  out[1] = value.length + 2;
  out.set(value, 2);
  return out;
}

function checkPeer(c: PeeringCredential): void {
  const { ip, port } = c.address;
  if (ip.length !== 4 && ip.length !== 16) throw invalid(`peer address of ${ip.length} bytes`);
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw invalid(`peer port ${port}`);
  if (!Number.isInteger(c.login) || c.login < 0 || c.login > 0xffff)
    throw invalid(`peer login ${c.login}`);
  if (c.password.length !== PASSWORD_BYTES)
    throw invalid(`peer password of ${c.password.length} bytes`);
  if (c.publicKey.length !== KEY_BYTES)
    throw invalid(`peer public key of ${c.publicKey.length} bytes`);
  if (!Number.isInteger(c.version) || c.version < 0 || c.version > 0xffffffff)
    throw invalid(`peer version ${c.version}`);
}

/** One peer TLV (UDP4 or UDP6 by the address length), VarInts in their shortest form. */
export function encodePeerTlv(c: PeeringCredential): Uint8Array {
  checkPeer(c);
  const login = writeVarInt(c.login);
  const version = writeVarInt(c.version);
  const value = new Uint8Array(
    c.address.ip.length + 2 + login.length + PASSWORD_BYTES + KEY_BYTES + version.length,
  );
  let o = 0;
  value.set(c.address.ip, o);
  o += c.address.ip.length;
  value[o++] = c.address.port >>> 8;
  value[o++] = c.address.port & 0xff;
  value.set(login, o);
  o += login.length;
  value.set(c.password, o);
  o += PASSWORD_BYTES;
  value.set(c.publicKey, o);
  o += KEY_BYTES;
  value.set(version, o);
  return tlv(isIpv6Peer(c) ? TLV_UDP6_PEER : TLV_UDP4_PEER, value);
}

/** PEER_ID, SNODE, then the peers in order. Unknown TLVs are not written (the Rust port's rule). */
export function encodeCredentialRecord(rec: {
  readonly peerId?: Uint8Array | undefined;
  readonly snodeKey?: Uint8Array | undefined;
  readonly peers: readonly PeeringCredential[];
}): Uint8Array {
  const parts: Uint8Array[] = [];
  if (rec.peerId !== undefined) {
    if (rec.peerId.length > MAX_PEER_ID_BYTES)
      throw invalid(`Invalid PeerID, max length ${MAX_PEER_ID_BYTES}`);
    parts.push(tlv(TLV_PEER_ID, rec.peerId));
  }
  if (rec.snodeKey !== undefined) {
    if (rec.snodeKey.length !== KEY_BYTES)
      throw invalid(`SNODE key of ${rec.snodeKey.length} bytes`);
    parts.push(tlv(TLV_SNODE, rec.snodeKey));
  }
  for (const p of rec.peers) parts.push(encodePeerTlv(p));
  return new Uint8Array(Buffer.concat(parts));
}

/** Two credentials are the same entry when every field is equal (docs/seeder.md). */
export function credentialKey(c: PeeringCredential): string {
  const hex = (b: Uint8Array): string =>
    Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return `${hex(c.address.ip)}/${c.address.port}/${c.login}/${hex(c.password)}/${hex(c.publicKey)}/${c.version}`;
}
