import { expect } from 'chai';
import fc from 'fast-check';
import { ERROR_CODES } from '../../../src/errors.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import {
  edToCurve,
  edToCurveBatch,
  formatNodeName,
  ip6FromPublicKey,
  ip6FromString,
  ip6ToString,
  isValidCjdnsIp6,
  normalizeIp6,
  parseIp6Text,
  parseNodeName,
  privateKeyFromHex,
  publicFromPrivate,
  publicKeyFromString,
  publicKeyToString,
  signingKeyFromPrivate,
  validateIp6,
} from '../../../src/protocol/keys.ts';
import { loadVectors, vectorsOf } from '../../helpers/vectors.ts';
import { errorOf } from '../../helpers/errors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
const F = 'keys.json';
const identities = loadVectors('route_server.json').identities as Array<{
  name: string;
  private_hex: string;
  public_key: string;
  ipv6: string;
  signing_public_key_hex: string;
}>;

/** `{ value }` or `{ error: message }` (the RsError's message for the code under test). */
function outcome(f: () => string): { value: string } | { error: string } {
  try {
    return { value: f() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe('keys', () => {
  describe('#publicKeyFromString() / #publicKeyToString()', () => {
    for (const v of vectorsOf<any>(F, 'publicKey')) {
      it(`converts ${v.id} both ways`, () => {
        expect(bytesToHex(publicKeyFromString(v.key))).to.equal(v.bytes_hex);
        expect(publicKeyToString(hexToBytes(v.bytes_hex))).to.equal(v.key);
      });
    }
    for (const v of vectorsOf<any>(F, 'base32').filter((x: any) => x.cjdnskeys)) {
      it(`formats ${v.id} as ${v.cjdnskeys}`, () => {
        expect(publicKeyToString(hexToBytes(v.bytes_hex))).to.equal(v.cjdnskeys);
        expect(bytesToHex(publicKeyFromString(v.cjdnskeys))).to.equal(v.bytes_hex);
      });
    }
    for (const v of vectorsOf<any>(F, 'badPublicKey')) {
      it(`rejects ${v.id} (${v.reason})`, () => {
        expect(errorOf(() => publicKeyFromString(v.key))?.code).to.equal('RS_ERR_KEY_INVALID');
      });
    }
    it('rejects upper case, surrounding text and wrong lengths', () => {
      const good = 'qgkjd0stfvk9r3j28s4gh8rgslbgx2r5xgxzxkgm5vdxqwn8xsu0.k';
      for (const k of [
        good.toUpperCase(),
        ' ' + good,
        good + ' ',
        'x' + good,
        good.slice(1),
        good + 'k',
      ]) {
        expect(errorOf(() => publicKeyFromString(k))?.code, k).to.equal('RS_ERR_KEY_INVALID');
      }
      expect(errorOf(() => publicKeyToString(new Uint8Array(31)))?.code).to.equal(
        'RS_ERR_KEY_INVALID',
      );
    });
  });

  describe('#ip6FromPublicKey() / #isValidCjdnsIp6()', () => {
    for (const v of vectorsOf<any>(F, 'publicKey')) {
      it(`derives the address of ${v.id}`, () => {
        const ip = ip6FromPublicKey(hexToBytes(v.bytes_hex));
        expect(bytesToHex(ip)).to.equal(v.ipv6_bytes_hex);
        expect(ip6ToString(ip)).to.equal(v.ipv6);
        expect(isValidCjdnsIp6(ip)).to.equal(v.valid_cjdns_address);
      });
    }
    it('says false for a non-fc address and for wrong lengths', () => {
      expect(isValidCjdnsIp6(hexToBytes('fd000000000000000000000000000001'))).to.equal(false);
      expect(isValidCjdnsIp6(new Uint8Array(15).fill(0xfc))).to.equal(false);
    });
  });

  describe('#ip6ToString() / #ip6FromString() / #normalizeIp6()', () => {
    for (const v of vectorsOf<any>(F, 'ip6String')) {
      it(`converts ${v.id} both ways`, () => {
        expect(ip6ToString(hexToBytes(v.bytes_hex))).to.equal(v.ipv6);
        expect(bytesToHex(ip6FromString(v.ipv6))).to.equal(v.back_hex);
      });
    }
    it('accepts compressed and mixed-case forms', () => {
      const cases: Array<[string, string]> = [
        ['fc00::a', 'fc00:0000:0000:0000:0000:0000:0000:000a'],
        ['FC00::A', 'fc00:0000:0000:0000:0000:0000:0000:000a'],
        ['::', '0000:0000:0000:0000:0000:0000:0000:0000'],
        ['::1', '0000:0000:0000:0000:0000:0000:0000:0001'],
        ['fc00::', 'fc00:0000:0000:0000:0000:0000:0000:0000'],
        ['fc12:3:4::7:8', 'fc12:0003:0004:0000:0000:0000:0007:0008'],
        ['1:2:3:4:5:6:7::', '0001:0002:0003:0004:0005:0006:0007:0000'],
        ['1:2:3::5:6:7:8', '0001:0002:0003:0000:0005:0006:0007:0008'],
        ['fc5d:baa5:61fc:6ffd:9554:67f0:e290:7535', 'fc5d:baa5:61fc:6ffd:9554:67f0:e290:7535'],
      ];
      for (const [input, want] of cases) expect(normalizeIp6(input), input).to.equal(want);
    });
    it('rejects malformed addresses', () => {
      const bad = [
        '',
        ':',
        ':::',
        '1:::2',
        '1::2::3',
        'fc00',
        'fc00:0:0:0:0:0:0',
        'fc00:0:0:0:0:0:0:0:0',
        '1:2:3:4:5:6:7:8::',
        '::1:2:3:4:5:6:7:8',
        'fc32:6a5de:235:7057:e990:6398:5d7a:aa58',
        'g000::',
        ':1::',
        '1::2:',
        '1.2.3.4',
        '::ffff:1.2.3.4',
        'fc00::1%eth0',
        ' fc00::1',
        'fc00:0000:0000:0000:0000:0000:0000:0000a',
      ];
      for (const s of bad)
        expect(errorOf(() => ip6FromString(s))?.code, s).to.equal('RS_ERR_IP6_INVALID');
      expect(errorOf(() => ip6ToString(new Uint8Array(15)))?.code).to.equal('RS_ERR_IP6_INVALID');
    });
    it('reads the full form as the general parser does: same bytes, same error on near misses', () => {
      const full = 'fc5d:baa5:61fc:6ffd:9554:67f0:e290:7535';
      const swaps = [
        '0',
        '9',
        'a',
        'f',
        'A',
        'F',
        'g',
        'G',
        '@',
        '`',
        '/',
        ':',
        '.',
        ' ',
        '\u0000',
        'é',
        '\uff10',
      ];
      const texts = [full, full.toUpperCase(), 'Fc5D:bAa5:61fC:6fFd:9554:67F0:e290:7535'];
      for (let i = 0; i < full.length; i++)
        for (const c of swaps) texts.push(full.slice(0, i) + c + full.slice(i + 1));
      texts.push(
        full.slice(0, 38) + '::',
        '::' + full.slice(2),
        full.replace(':', '::').slice(0, 39),
      );
      for (const t of texts) {
        const want = outcome(() => bytesToHex(parseIp6Text(t)));
        expect(
          outcome(() => bytesToHex(ip6FromString(t))),
          t,
        ).to.deep.equal(want);
        const canonical = outcome(() => ip6ToString(parseIp6Text(t)));
        expect(
          outcome(() => normalizeIp6(t)),
          t,
        ).to.deep.equal(canonical);
      }
    });
    it('normalizeIp6 gives canonical text back as it is, and copies anything else', () => {
      const full = 'fc5d:baa5:61fc:6ffd:9554:67f0:e290:7535';
      expect(normalizeIp6(full)).to.equal(full);
      expect(normalizeIp6(full.toUpperCase())).to.equal(full);
      expect(errorOf(() => normalizeIp6(full.replace('5', 'g')))?.code).to.equal(
        'RS_ERR_IP6_INVALID',
      );
    });
    it('round-trips any 16 bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
          const s = ip6ToString(b);
          expect(s).to.match(/^[0-9a-f]{4}(:[0-9a-f]{4}){7}$/);
          expect(bytesToHex(ip6FromString(s))).to.equal(bytesToHex(b));
        }),
      );
    });
  });

  describe('#validateIp6()', () => {
    for (const v of vectorsOf<any>(F, 'validateIp6')) {
      it(`answers ${v.cjdnskeys_validate} for ${v.id} like cjdnskeys`, () => {
        expect(validateIp6(v.ipv6)).to.equal(v.cjdnskeys_validate);
      });
    }
  });

  describe('#publicFromPrivate() / #signingKeyFromPrivate()', () => {
    const cases = [
      ...vectorsOf<any>(F, 'privateKey').map((v: any) => ({ id: v.id, ...v })),
      ...identities.map((v) => ({ id: `route_server identity ${v.name}`, ...v })),
    ];
    for (const v of cases) {
      it(`derives the keys of ${v.id}`, () => {
        const priv = privateKeyFromHex(v.private_hex);
        const pub = publicFromPrivate(priv);
        expect(publicKeyToString(pub)).to.equal(v.public_key);
        expect(ip6ToString(ip6FromPublicKey(pub))).to.equal(v.ipv6);
        const signing = signingKeyFromPrivate(priv);
        expect(bytesToHex(signing)).to.equal(v.signing_public_key_hex);
        expect(bytesToHex(edToCurve(signing))).to.equal(bytesToHex(pub));
      });
    }
    it('rejects a private key that is not 32 bytes', () => {
      expect(errorOf(() => publicFromPrivate(new Uint8Array(31)))?.code).to.equal(
        'RS_ERR_KEY_PRIVATE_INVALID',
      );
      expect(errorOf(() => signingKeyFromPrivate(new Uint8Array(33)))?.code).to.equal(
        'RS_ERR_KEY_PRIVATE_INVALID',
      );
      expect(errorOf(() => privateKeyFromHex('zz'))?.code).to.equal('RS_ERR_KEY_PRIVATE_INVALID');
    });
  });

  describe('#edToCurveBatch()', () => {
    it('gives what edToCurve (skipPointCheck) gives for each key, one inversion for all', () => {
      const keys = vectorsOf<any>(F, 'edToCurve').map((v) => hexToBytes(v.ed25519_hex));
      const small = hexToBytes('0100000000000000000000000000000000000000000000000000000000000000');
      const batch = edToCurveBatch([...keys, small, new Uint8Array(31), ...keys]);
      const want = [...keys, small, new Uint8Array(31), ...keys].map((k) => {
        try {
          return bytesToHex(edToCurve(k, { skipPointCheck: true }));
        } catch (e) {
          return (e as { code: string }).code;
        }
      });
      expect(batch.map((r) => (r instanceof Uint8Array ? bytesToHex(r) : r.code))).to.deep.equal(
        want,
      );
    });
    it('converts random keys as edToCurve does (property)', () => {
      fc.assert(
        fc.property(
          fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 20 }),
          (raw) => {
            const batch = edToCurveBatch(raw);
            raw.forEach((k, i) => {
              let want: string;
              try {
                want = bytesToHex(edToCurve(k, { skipPointCheck: true }));
              } catch (e) {
                want = (e as { code: string }).code;
              }
              const got = batch[i]!;
              expect(got instanceof Uint8Array ? bytesToHex(got) : got.code).to.equal(want);
            });
          },
        ),
      );
    });
  });

  describe('#edToCurve()', () => {
    for (const v of vectorsOf<any>(F, 'edToCurve')) {
      it(`converts ${v.id}`, () => {
        const curve = edToCurve(hexToBytes(v.ed25519_hex));
        expect(bytesToHex(curve)).to.equal(v.curve25519_hex);
        expect(publicKeyToString(curve)).to.equal(v.public_key);
        expect(ip6ToString(ip6FromPublicKey(curve))).to.equal(v.ipv6);
        if (v.private_hex)
          expect(bytesToHex(signingKeyFromPrivate(hexToBytes(v.private_hex)))).to.equal(
            v.ed25519_hex,
          );
      });
    }
    it('fails with RS_ERR_KEY_CONVERSION for y = 1, other small-order points and non-points', () => {
      const bad = [
        '0100000000000000000000000000000000000000000000000000000000000000', // identity, y = 1
        '0000000000000000000000000000000000000000000000000000000000000000', // y = 0 (order 4)
        'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = -1 (order 2)
        'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // y = p + 1, sign bit set
        '0200000000000000000000000000000000000000000000000000000000000000', // y = 2: not on the curve
      ];
      for (const h of bad)
        expect(errorOf(() => edToCurve(hexToBytes(h)))?.code, h).to.equal('RS_ERR_KEY_CONVERSION');
      expect(errorOf(() => edToCurve(new Uint8Array(31)))?.code).to.equal('RS_ERR_KEY_CONVERSION');
    });
    it('gives the same result when the caller vouches for the point (skipPointCheck)', () => {
      for (const v of vectorsOf<any>(F, 'edToCurve')) {
        const curve = edToCurve(hexToBytes(v.ed25519_hex), { skipPointCheck: true });
        expect(bytesToHex(curve)).to.equal(v.curve25519_hex);
      }
      const notAPoint = hexToBytes('02' + '00'.repeat(31));
      expect(edToCurve(notAPoint, { skipPointCheck: true })).to.have.length(32);
      const identity = hexToBytes('01' + '00'.repeat(31));
      expect(errorOf(() => edToCurve(identity, { skipPointCheck: true }))?.code).to.equal(
        'RS_ERR_KEY_CONVERSION',
      );
    });
    it('throws only RsErrors with registered codes on arbitrary input', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (b) => {
          try {
            expect(edToCurve(b)).to.have.length(32);
          } catch (e) {
            expect((e as { code?: string }).code).to.be.oneOf(Object.keys(ERROR_CODES));
          }
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('#parseNodeName() / #formatNodeName()', () => {
    for (const v of vectorsOf<any>(F, 'nodeName')) {
      it(`parses ${v.id} like cjdnskeys`, () => {
        if (v.expected.error) {
          const e = errorOf(() => parseNodeName(v.name));
          expect(e?.code).to.equal('RS_ERR_NODE_NAME_INVALID');
          expect(e?.message).to.equal(v.expected.error);
        } else {
          expect(parseNodeName(v.name)).to.deep.equal(v.expected);
          expect(formatNodeName(v.expected.v, v.expected.path, v.expected.key)).to.equal(v.name);
        }
      });
    }
    it('formats the name the JS /walk endpoint prints', () => {
      const key = identities[0]!.public_key;
      expect(formatNodeName(22, '0000.0000.0000.0001', key)).to.equal(
        `v22.0000.0000.0000.0001.${key}`,
      );
    });
  });
});
