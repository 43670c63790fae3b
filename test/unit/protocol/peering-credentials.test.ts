/**
 * The peering-credential record (docs/seeder.md) against the worked example in
 * test/fixtures/vectors/seeder.json: exact bytes both ways, every truncation, every framing and
 * field error, the text forms, and round-trips of random records.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { publicKeyFromString } from '../../../src/protocol/keys.ts';
import {
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_MAX_RECORD_PEERS,
  decodeCredentialRecord,
  encodeCredentialRecord,
  encodePeerTlv,
  type CredentialRecord,
  type PeeringCredential,
} from '../../../src/protocol/peering-credentials.ts';
import {
  decodeTxtRecord,
  encodeTxtRecord,
  fromBase64NoPad,
  peerAddressFromString,
  peerAddressToString,
  peerIdToString,
  peeringLine,
} from '../../../src/protocol/peering-text.ts';
import { expectRsError as rsErrorOf } from '../../helpers/errors.ts';
import { vectorsOf } from '../../helpers/vectors.ts';

interface PeerVector {
  type: number;
  address_hex: string;
  port: number;
  login: number;
  login_varint_hex: string;
  password_hex: string;
  public_key_hex: string;
  version: number;
  peering_line: Record<string, unknown>;
}
interface RecordVector {
  id: string;
  hex: string;
  length: number;
  txt: string;
  peer_id: string;
  peer_id_hex: string;
  key: string;
  key_hex: string;
  peers: PeerVector[];
}

const [worked] = vectorsOf<RecordVector>('seeder.json', 'record');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

function credentialOf(p: PeerVector): PeeringCredential {
  return {
    address: { ip: bytes(p.address_hex), port: p.port },
    login: p.login,
    password: bytes(p.password_hex),
    publicKey: bytes(p.public_key_hex),
    version: p.version,
  };
}

function recordError(input: Uint8Array): { code: string; message: string } {
  return rsErrorOf(() => decodeCredentialRecord(input));
}

describe('peering credentials', () => {
  const v = worked!;
  const record = bytes(v.hex);

  describe('the worked example', () => {
    it('is the 126-byte record whose key gives the stated IPv6', () => {
      expect(record.length).to.equal(v.length);
      expect(hex(publicKeyFromString(v.key))).to.equal(v.key_hex);
    });

    it('decodes to its PeerID and its two peers in record order (UDP6, then UDP4)', () => {
      const rec = decodeCredentialRecord(record);
      expect(Buffer.from(rec.peerId!).toString('utf8')).to.equal(v.peer_id);
      expect(rec.snodeKey).to.equal(undefined);
      expect(rec.unknown).to.deep.equal([]);
      expect(rec.peers.length).to.equal(2);
      rec.peers.forEach((p, i) => {
        const want = v.peers[i]!;
        expect(p.address.ip.length, `peer ${i} family`).to.equal(want.type === 3 ? 16 : 4);
        expect(hex(p.address.ip)).to.equal(want.address_hex);
        expect(p.address.port).to.equal(want.port);
        expect(p.login).to.equal(want.login);
        expect(hex(p.password)).to.equal(want.password_hex);
        expect(hex(p.publicKey)).to.equal(want.public_key_hex);
        expect(p.version).to.equal(want.version);
      });
    });

    it('encodes back to the same bytes (PEER_ID first, shortest VarInts)', () => {
      const out = encodeCredentialRecord({
        peerId: bytes(v.peer_id_hex),
        peers: v.peers.map(credentialOf),
      });
      expect(hex(out)).to.equal(v.hex);
      expect(
        hex(encodePeerTlv(credentialOf(v.peers[0]!))).slice(4 + 32 + 4, 4 + 32 + 4 + 6),
      ).to.equal(v.peers[0]!.login_varint_hex);
    });

    it('has the stated TXT form, both ways', () => {
      expect(
        encodeTxtRecord({ peerId: bytes(v.peer_id_hex), peers: v.peers.map(credentialOf) }),
      ).to.equal(v.txt);
      expect(hex(encodeCredentialRecord(decodeTxtRecord(v.txt)))).to.equal(v.hex);
    });

    it('has the stated peering lines', () => {
      const rec = decodeCredentialRecord(record);
      rec.peers.forEach((p, i) => expect(peeringLine(p)).to.deep.equal(v.peers[i]!.peering_line));
    });
  });

  describe('truncation', () => {
    it('fails at every cut that ends inside a TLV, and only there', () => {
      const ends = new Set<number>();
      for (let at = 0; at < record.length;) {
        at += record[at + 1]!;
        ends.add(at);
      }
      for (let n = 0; n < record.length; n++) {
        const cut = record.subarray(0, n);
        if (ends.has(n) || n === 0) {
          expect(() => decodeCredentialRecord(cut), `cut at ${n}`).not.to.throw();
        } else if (ends.has(n - 1) || n === 1) {
          // one byte after a whole TLV: parsing needs 2 bytes, the lone byte is ignored
          expect(decodeCredentialRecord(cut), `cut at ${n}`).to.deep.equal(
            decodeCredentialRecord(record.subarray(0, n - 1)),
          );
        } else {
          const e = recordError(cut);
          expect(e.code, `cut at ${n}`).to.equal('RS_ERR_SEEDER_RECORD_INVALID');
          expect(e.message, `cut at ${n}`).to.equal('TLV is truncated');
        }
      }
    });

    it('fails when a peer value is cut short, whatever its TLV length says', () => {
      const full = encodePeerTlv(credentialOf(v.peers[1]!));
      for (let valueLength = 0; valueLength < full.length - 2; valueLength++) {
        const tlv = new Uint8Array(valueLength + 2);
        tlv[0] = full[0]!;
        tlv[1] = valueLength + 2;
        tlv.set(full.subarray(2, 2 + valueLength), 2);
        expect(recordError(tlv).code, `value of ${valueLength} bytes`).to.equal(
          'RS_ERR_SEEDER_RECORD_INVALID',
        );
      }
    });
  });

  describe('framing and field errors', () => {
    it('refuses a TLV length below 2', () => {
      for (const l of [0, 1])
        expect(recordError(Uint8Array.of(0x04, l, 0x41)).message).to.equal(
          `Invalid item length: ${l}`,
        );
    });

    it('refuses an SNODE shorter than a key and keeps the first 32 bytes of a longer one', () => {
      expect(recordError(Uint8Array.of(0x01, 2 + 31, ...new Uint8Array(31))).code).to.equal(
        'RS_ERR_SEEDER_RECORD_INVALID',
      );
      const key = new Uint8Array(33).map((_, i) => i);
      expect(hex(decodeCredentialRecord(Uint8Array.of(0x01, 35, ...key)).snodeKey!)).to.equal(
        hex(key.subarray(0, 32)),
      );
    });

    it('refuses a login or version whose VarInt does not fit the field, accepts a longer form that fits', () => {
      const peer = credentialOf(v.peers[1]!);
      const tlv = (login: number[], version: number[]): Uint8Array => {
        const value = [
          1,
          2,
          3,
          4,
          0x2b,
          0xe2,
          ...login,
          ...peer.password,
          ...peer.publicKey,
          ...version,
        ];
        return Uint8Array.of(0x02, value.length + 2, ...value);
      };
      expect(
        decodeCredentialRecord(tlv([0xfe, 0, 0, 0x4e, 0xfd], [0x16])).peers[0]!.login,
      ).to.equal(20221);
      expect(
        decodeCredentialRecord(tlv([0x01], [0xff, 0, 0, 0, 0, 0, 0, 0, 0x16])).peers[0]!.version,
      ).to.equal(22);
      expect(recordError(tlv([0xfe, 0, 1, 0, 0], [0x16])).message).to.match(
        /login 65536 does not fit/,
      );
      expect(recordError(tlv([0x01], [0xff, 0, 0, 0, 1, 0, 0, 0, 0])).message).to.match(
        /version 4294967296 does not fit/,
      );
    });

    it('ignores bytes after a peer version, keeps unknown TLVs, lets the last PEER_ID win', () => {
      const peer = encodePeerTlv(credentialOf(v.peers[1]!));
      const longer = Uint8Array.of(peer[0]!, peer[1]! + 3, ...peer.subarray(2), 9, 9, 9);
      const rec = decodeCredentialRecord(
        Uint8Array.of(0x04, 3, 0x41, 0x77, 4, 1, 2, ...longer, 0x04, 3, 0x42),
      );
      expect(rec.peers.length).to.equal(1);
      expect(hex(rec.peers[0]!.publicKey)).to.equal(v.key_hex);
      expect(rec.unknown).to.deep.equal([{ type: 0x77, value: Uint8Array.of(1, 2) }]);
      expect(Buffer.from(rec.peerId!).toString()).to.equal('B');
    });

    it('accepts a PEER_ID of any length on decode, refuses one over 64 bytes on encode', () => {
      const long = new Uint8Array(200).fill(0x41);
      expect(decodeCredentialRecord(Uint8Array.of(0x04, 202, ...long)).peerId!.length).to.equal(
        200,
      );
      expect(rsErrorOf(() => encodeCredentialRecord({ peerId: long, peers: [] })).code).to.equal(
        'RS_ERR_SEEDER_RECORD_INVALID',
      );
    });

    it('enforces the record size and peer count limits', () => {
      expect(recordError(new Uint8Array(DEFAULT_MAX_RECORD_BYTES + 1)).message).to.match(/exceeds/);
      const peer = encodePeerTlv(credentialOf(v.peers[1]!));
      const many = new Uint8Array(
        Buffer.concat(Array.from({ length: DEFAULT_MAX_RECORD_PEERS + 1 }, () => peer)),
      );
      expect(recordError(many).message).to.match(/more than 16 peers/);
      expect(
        decodeCredentialRecord(many.subarray(0, peer.length * DEFAULT_MAX_RECORD_PEERS)).peers
          .length,
      ).to.equal(16);
    });

    it('never throws anything but its RsError on random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), (input) => {
          try {
            decodeCredentialRecord(input);
          } catch (e) {
            expect((e as { code?: string }).code).to.equal('RS_ERR_SEEDER_RECORD_INVALID');
          }
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('text forms', () => {
    it('prints and parses addresses as Rust prints a SocketAddr', () => {
      const cases: Array<[string, string]> = [
        ['01020304', '1.2.3.4:11234'],
        ['20014860486000000000000000008888', '[2001:4860:4860::8888]:11234'],
        ['00000000000000000000ffff01020304', '[::ffff:1.2.3.4]:11234'],
        ['fe800000000000000000000000000001', '[fe80::1]:11234'],
      ];
      for (const [ipHex, text] of cases) {
        expect(peerAddressToString({ ip: bytes(ipHex), port: 11234 })).to.equal(text);
        expect(hex(peerAddressFromString(text).ip)).to.equal(ipHex);
      }
      for (const bad of [
        '1.2.3.4',
        '1.2.3.4:70000',
        '01.2.3.4:1',
        '[fe80::1%eth0]:1',
        'fe80::1:1',
        '[1.2.3.4]:1',
        'host:1',
      ]) {
        expect(rsErrorOf(() => peerAddressFromString(bad)).code, bad).to.equal(
          'RS_ERR_INPUT_INVALID',
        );
      }
    });

    it('prints a PeerID as UTF-8, or hex(…) when it is not UTF-8', () => {
      expect(peerIdToString(new TextEncoder().encode('PUB_é'))).to.equal('PUB_é');
      expect(peerIdToString(Uint8Array.of(0x50, 0xff))).to.equal('hex(50ff)');
    });

    it('reads base64 strictly: no padding, no stray characters, canonical last bits', () => {
      expect(hex(fromBase64NoPad('AQIDBAUGBwg'))).to.equal('0102030405060708');
      for (const bad of ['AQIDBAUGBwg=', 'AQIDBAUGBwh', 'AQ ID', 'A']) {
        expect(rsErrorOf(() => fromBase64NoPad(bad)).code, bad).to.equal(
          'RS_ERR_SEEDER_RECORD_INVALID',
        );
      }
      expect(rsErrorOf(() => decodeTxtRecord('cjdns1=AQID')).message).to.match(/prefix/);
    });
  });

  describe('round-trips', () => {
    const credential = fc.record({
      address: fc.record({
        ip: fc.oneof(
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
        ),
        port: fc.integer({ min: 0, max: 0xffff }),
      }),
      login: fc.integer({ min: 0, max: 0xffff }),
      password: fc.uint8Array({ minLength: 8, maxLength: 8 }),
      publicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      version: fc.integer({ min: 0, max: 0xffffffff }),
    });
    const rec = fc.record({
      peerId: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
      snodeKey: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
      peers: fc.array(credential, { maxLength: 12 }),
    });

    it('decode(encode(r)) = r and encode(decode(b)) = b', () => {
      fc.assert(
        fc.property(rec, (r) => {
          const encoded = encodeCredentialRecord(r);
          const back: CredentialRecord = decodeCredentialRecord(encoded);
          expect(back).to.deep.equal({ ...r, unknown: [] });
          expect(hex(encodeCredentialRecord(back))).to.equal(hex(encoded));
          expect(hex(encodeCredentialRecord(decodeTxtRecord(encodeTxtRecord(r))))).to.equal(
            hex(encoded),
          );
        }),
        { numRuns: 500 },
      );
    });

    it('address text round-trips', () => {
      fc.assert(
        fc.property(credential, (c) => {
          const back = peerAddressFromString(peerAddressToString(c.address));
          expect(hex(back.ip)).to.equal(hex(c.address.ip));
          expect(back.port).to.equal(c.address.port);
        }),
        { numRuns: 500 },
      );
    });
  });
});
