import { expect } from 'chai';
import { Point } from '@noble/ed25519';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  bigIntTo32LeBytes,
  bytesToHex,
  hexToBytes,
  leBytesToBigInt,
} from '../../../src/protocol/hex.ts';
import { signingKeyFromPrivate } from '../../../src/protocol/keys.ts';
import {
  clampScalar,
  hasSmallOrderEncoding,
  isCanonicalEncoding,
  isSmallOrderPoint,
  signatureBackend,
  signCjdns,
  verify,
  verifyKeyCacheSize,
  verifyWithLibsodium,
  verifyWithOpenSsl,
} from '../../../src/protocol/signature.ts';
import { loadVectors, vectorsOf } from '../../helpers/vectors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
const identities = loadVectors('route_server.json').identities as Array<{
  name: string;
  private_hex: string;
  signing_public_key_hex: string;
}>;

const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/**
 * libsodium's small-order blacklist (`ge25519_has_small_order`), written out independently of
 * the source's: y = 0, 1, the two order-8 y values, p − 1, then the non-canonical p and p + 1.
 */
const SMALL_ORDER_HEX = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

function parts(hex: string): { msg: Uint8Array; sig: Uint8Array; key: Uint8Array } {
  const b = hexToBytes(hex);
  return { msg: b.subarray(64), sig: b.subarray(0, 64), key: b.subarray(64, 96) };
}

const annVectors = vectorsOf<any>('announcements.json', 'parse');
const signed = annVectors.filter(
  (v: any) => v.expected.signature !== undefined || v.signature_valid,
);

describe('signature', () => {
  it('verifies with libsodium in this installation (sodium-native loaded)', () => {
    // production's fast path: a broken install of the addon would fall back to OpenSSL silently
    expect(signatureBackend).to.equal('libsodium');
    expect(verify).to.equal(verifyWithLibsodium);
  });

  for (const [name, verify] of [
    ['verify', verifyWithLibsodium],
    ['verifyWithOpenSsl', verifyWithOpenSsl],
  ] as const)
    describe(`#${name}()`, () => {
      for (const v of signed) {
        it(`accepts the signature of ${v.id}`, () => {
          const { msg, sig, key } = parts(v.hex);
          expect(verify(msg, sig, key)).to.equal(true);
        });
      }
      for (const v of annVectors.filter(
        (x: any) => x.expected.error === 'signature verification failed',
      )) {
        it(`rejects the signature of ${v.id}`, () => {
          const { msg, sig, key } = parts(v.hex);
          expect(verify(msg, sig, key)).to.equal(false);
        });
      }
      it('rejects a flipped bit anywhere in message, signature or key', () => {
        const { msg, sig, key } = parts(signed[0].hex);
        for (const [which, buf] of [
          ['msg', msg],
          ['sig', sig],
          ['key', key],
        ] as const) {
          for (const i of [0, 7, buf.length - 1]) {
            const m = new Uint8Array(msg);
            const s = new Uint8Array(sig);
            const k = new Uint8Array(key);
            const t = which === 'msg' ? m : which === 'sig' ? s : k;
            t[i] = t[i]! ^ 1;
            expect(verify(m, s, k), `${which}[${i}]`).to.equal(false);
          }
        }
      });
      it('rejects a non-canonical S (S + L)', () => {
        const { msg, sig, key } = parts(signed[0].hex);
        let s = 0n;
        for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
        const s2 = s + L;
        const bad = new Uint8Array(sig);
        let x = s2;
        for (let i = 0; i < 32; i++, x >>= 8n) bad[32 + i] = Number(x & 0xffn);
        expect(verify(msg, bad, key)).to.equal(false);
      });
      it('rejects small-order keys and R values like libsodium', () => {
        const zero = new Uint8Array(64);
        zero[0] = 1; // R = identity, S = 0: valid for the identity key under cofactorless OpenSSL rules
        const identityKey = hexToBytes(
          '0100000000000000000000000000000000000000000000000000000000000000',
        );
        expect(verify(new Uint8Array([1, 2, 3]), zero, identityKey)).to.equal(false);
      });
      it('returns false (never throws) on wrong lengths and garbage', () => {
        expect(verify(new Uint8Array(0), new Uint8Array(63), new Uint8Array(32))).to.equal(false);
        expect(verify(new Uint8Array(0), new Uint8Array(64), new Uint8Array(31))).to.equal(false);
        expect(
          verify(null as unknown as Uint8Array, new Uint8Array(64), new Uint8Array(32)),
        ).to.equal(false);
        fc.assert(
          fc.property(
            fc.uint8Array({ maxLength: 200 }),
            fc.uint8Array({ minLength: 62, maxLength: 66 }),
            fc.uint8Array({ minLength: 30, maxLength: 34 }),
            (m, s, k) => {
              expect(verify(m, s, k)).to.equal(false);
            },
          ),
          { numRuns: 300 },
        );
      });
      if (name === 'verifyWithOpenSsl')
        it('keeps a bounded cache of imported keys', () => {
          const before = verifyKeyCacheSize();
          const { msg, sig, key } = parts(signed[0].hex);
          verify(msg, sig, key);
          verify(msg, sig, key);
          expect(verifyKeyCacheSize()).to.be.at.most(Math.max(before, 1) + 1);
          expect(verifyKeyCacheSize()).to.be.at.most(65536);
        });
    });

  describe('libsodium and the OpenSSL fallback', () => {
    const P = 2n ** 255n - 19n;
    /** sha512 of the parts as a little-endian integer (ed25519's k before reduction) */
    const hashScalar = (...parts: Uint8Array[]): bigint => {
      const h = createHash('sha512');
      for (const p of parts) h.update(p);
      return leBytesToBigInt(h.digest());
    };
    /** an order-8 point: added to a key it makes a mixed-order key */
    const torsion = Point.fromBytes(hexToBytes(SMALL_ORDER_HEX[2]!));
    const smallOrder = SMALL_ORDER_HEX.map(hexToBytes);
    /** ways to spoil (or not) a good signature, each a case the two checks must judge alike */
    const spoil: Record<
      string,
      (c: { msg: Uint8Array; sig: Uint8Array; key: Uint8Array; a: bigint }, n: number) => void
    > = {
      none: () => {},
      'flipped bit': (c, n) => {
        const t = [c.msg, c.sig, c.key][n % 3]!;
        if (t.length > 0) t[(n >> 2) % t.length]! ^= 1 << (n % 8);
      },
      'S + L': (c) => c.sig.set(bigIntTo32LeBytes(leBytesToBigInt(c.sig.subarray(32)) + L), 32),
      'S + 8L (top bits)': (c) =>
        c.sig.set(
          bigIntTo32LeBytes((leBytesToBigInt(c.sig.subarray(32)) + 8n * L) % 2n ** 256n),
          32,
        ),
      'small-order key': (c, n) => {
        c.key.set(smallOrder[n % smallOrder.length]!);
        c.key[31] = c.key[31]! | (n & 0x80);
      },
      'small-order R': (c, n) => {
        c.sig.set(smallOrder[n % smallOrder.length]!);
        c.sig[31] = c.sig[31]! | (n & 0x80);
      },
      'key y + p (non-canonical)': (c, n) => {
        c.key.set(bigIntTo32LeBytes(P + BigInt(n % 19)));
        c.key[31] = c.key[31]! | (n & 0x80);
      },
      'R y + p (non-canonical)': (c, n) => c.sig.set(bigIntTo32LeBytes(P + BigInt(n % 19))),
      'mixed-order key': (c) => c.key.set(Point.fromBytes(c.key).add(torsion).toBytes()),
      'random key': (c, n) => {
        for (let i = 0; i < 32; i++) c.key[i] = (n * 131 + i * 71 + (n >> 3)) & 0xff;
      },
      'zero S': (c) => c.sig.fill(0, 32),
      // signatures that hold by the cofactorless equation, which only libsodium's extra
      // checks refuse: R the identity with S = k·a, and the identity key with R = S·B
      'identity R, S = k·a': (c) => {
        c.sig.set(smallOrder[1]!);
        c.sig.set(
          bigIntTo32LeBytes(((hashScalar(c.sig.subarray(0, 32), c.key, c.msg) % L) * c.a) % L),
          32,
        );
      },
      'identity key, R = S·B': (c, n) => {
        c.key.set(smallOrder[1]!);
        c.key[31] = c.key[31]! | (n & 0x80);
        const S = BigInt(n % 1000) + 1n;
        c.sig.set(Point.BASE.multiply(S).toBytes());
        c.sig.set(bigIntTo32LeBytes(S), 32);
      },
    };
    it('accept and refuse the same signatures (valid, spoilt, small-order, non-canonical, mixed-order)', () => {
      const kinds = Object.keys(spoil);
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ maxLength: 120 }),
          fc.constantFrom(...kinds),
          fc.nat(),
          (priv, msg, kind, n) => {
            const c = {
              msg,
              sig: signCjdns(priv, msg),
              key: signingKeyFromPrivate(priv),
              a: leBytesToBigInt(clampScalar(priv)) % L,
            };
            spoil[kind]!(c, n);
            const [a, b] = [
              verifyWithLibsodium(c.msg, c.sig, c.key),
              verifyWithOpenSsl(c.msg, c.sig, c.key),
            ];
            expect(a, `${kind}: libsodium ${a}, OpenSSL ${b}`).to.equal(b);
            if (kind === 'none') expect(a).to.equal(true);
          },
        ),
        { numRuns: 400 },
      );
    });
    it('a mixed-order key verifies by both exactly when the torsion part cancels (cofactorless)', () => {
      // signed for A' = a·B + T (T of order 8): S·B − k·A' = R − k·T, which is R for one k in 8;
      // both libraries compare R as bytes (no cofactor), so both accept exactly those
      let accepted = 0;
      for (let i = 0; i < 64; i++) {
        const a = leBytesToBigInt(clampScalar(new Uint8Array(32).fill(i + 1))) % L || 1n;
        const key = Point.BASE.multiply(a).add(torsion).toBytes();
        const msg = new Uint8Array([i, 1, 2]);
        const r = BigInt(1000 + i);
        const R = Point.BASE.multiply(r).toBytes();
        const k = hashScalar(R, key, msg) % L;
        const sig = new Uint8Array(64);
        sig.set(R, 0);
        sig.set(bigIntTo32LeBytes((r + k * a) % L), 32);
        const ok = verifyWithLibsodium(msg, sig, key);
        expect(ok, `message ${i}`).to.equal(verifyWithOpenSsl(msg, sig, key));
        expect(ok, `message ${i}`).to.equal(k % 8n === 0n);
        if (ok) accepted++;
      }
      expect(accepted).to.be.within(1, 63);
    });
  });

  describe('#hasSmallOrderEncoding() / #isCanonicalEncoding()', () => {
    it('lists exactly encodings of small-order points (either sign bit)', () => {
      const list = SMALL_ORDER_HEX.slice(0, 5); // the two non-canonical ones decode to no point
      for (const h of list) {
        for (const sign of [0, 0x80]) {
          const b = hexToBytes(h);
          b[31] = b[31]! | sign;
          expect(hasSmallOrderEncoding(b), h).to.equal(true);
          if (!(sign && (h.startsWith('00') || h.startsWith('01')))) {
            expect(isSmallOrderPoint(b), `${h} sign ${sign}`).to.equal(true);
          }
        }
      }
    });
    it('does not flag real keys', () => {
      for (const id of identities)
        expect(hasSmallOrderEncoding(hexToBytes(id.signing_public_key_hex))).to.equal(false);
    });
    it('flags y >= p as non-canonical', () => {
      expect(
        isCanonicalEncoding(
          hexToBytes('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
        ),
      ).to.equal(true);
      expect(
        isCanonicalEncoding(
          hexToBytes('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'),
        ),
      ).to.equal(false);
      expect(
        isCanonicalEncoding(
          hexToBytes('ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
        ),
      ).to.equal(false);
    });
  });

  describe('#signCjdns()', () => {
    for (const id of identities) {
      it(`signs verifiably with the clamped key of ${id.name}`, () => {
        const priv = hexToBytes(id.private_hex);
        const pub = signingKeyFromPrivate(priv);
        expect(bytesToHex(pub)).to.equal(id.signing_public_key_hex);
        const msg = new TextEncoder().encode(`hello from ${id.name}`);
        const sig = signCjdns(priv, msg);
        expect(sig).to.have.length(64);
        expect(verify(msg, sig, pub)).to.equal(true);
        expect(bytesToHex(signCjdns(priv, msg))).to.equal(bytesToHex(sig)); // deterministic
        expect(verify(new Uint8Array([...msg, 0]), sig, pub)).to.equal(false);
      });
    }
    it('produces signatures that verify for arbitrary messages and keys', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ maxLength: 300 }),
          (priv, msg) => {
            expect(verify(msg, signCjdns(priv, msg), signingKeyFromPrivate(priv))).to.equal(true);
          },
        ),
        { numRuns: 30 },
      );
    });
    it('rejects a private key that is not 32 bytes', () => {
      expect(() => signCjdns(new Uint8Array(31), new Uint8Array(1)))
        .to.throw()
        .with.property('code', 'RS_ERR_KEY_PRIVATE_INVALID');
    });
  });

  describe('#clampScalar()', () => {
    it('clamps a copy like curve25519', () => {
      const k = new Uint8Array(32).fill(0xff);
      const c = clampScalar(k);
      expect(c[0]).to.equal(0xf8);
      expect(c[31]).to.equal(0x7f);
      expect(k[0]).to.equal(0xff);
      expect(clampScalar(new Uint8Array(32))[31]).to.equal(0x40);
    });
  });
});
