/**
 * The route server's own identity: generation (fc… addresses only), the persisted identity
 * file (created 0600, reloaded unchanged, corrupt → RS_ERR_CONFIG_INVALID), derivation from
 * a configured private key (the route_server.json identities) or a cjdns node's public key, and
 * which of them the configuration picks.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import {
  ip6FromPublicKey,
  ip6ToString,
  publicFromPrivate,
  publicKeyFromString,
  publicKeyToString,
} from '../../../src/protocol/keys.ts';
import { resolveIdentity } from '../../../src/app.ts';
import { validateConfig } from '../../../src/config.ts';
import { silentLogger } from '../../../src/log.ts';
import {
  generateIdentity,
  identityFromPrivateKey,
  identityFromPublicKey,
  loadOrCreateIdentity,
} from '../../../src/server/identity.ts';
import { loadVectors } from '../../helpers/vectors.ts';

interface Ident {
  name: string;
  private_hex: string;
  public_key: string;
  ipv6: string;
}
const identities = (loadVectors('route_server.json') as unknown as { identities: Ident[] })
  .identities;

/** Deterministic "random" bytes: sha256(seed ‖ counter), as many as asked for. */
function seededRandom(seed: string): { random: (n: number) => Uint8Array; calls: number[] } {
  let counter = 0;
  const calls: number[] = [];
  const random = (n: number): Uint8Array => {
    calls.push(n);
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
  return { random, calls };
}

function thrown(fn: () => unknown): { code?: string; message?: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message?: string };
  }
  expect.fail('expected an error');
}

/** A private key whose public key does not give an fc… address. */
const NON_FC_PRIVATE = new Uint8Array(32);

describe('server identity', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'snode-identity-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('identityFromPrivateKey', () => {
    it('the all-zero key used below really is not a cjdns key', () => {
      expect(ip6FromPublicKey(publicFromPrivate(NON_FC_PRIVATE))[0]).to.not.equal(0xfc);
    });

    for (const id of identities) {
      it(`${id.name}: key ${id.public_key.slice(0, 12)}…, ${id.ipv6}`, () => {
        const got = identityFromPrivateKey(hexToBytes(id.private_hex), 21);
        expect(got.key).to.equal(id.public_key);
        expect(got.ipv6).to.equal(id.ipv6);
        expect(bytesToHex(got.publicKey)).to.equal(bytesToHex(publicKeyFromString(id.public_key)));
        expect(bytesToHex(got.privateKey!)).to.equal(id.private_hex);
        expect(got.version).to.equal(21);
      });
    }

    it('a key that does not give an fc address is RS_ERR_KEY_NOT_CJDNS', () => {
      expect(thrown(() => identityFromPrivateKey(NON_FC_PRIVATE, 22)).code).to.equal(
        'RS_ERR_KEY_NOT_CJDNS',
      );
    });

    it('a key of the wrong length is rejected with an RS error', () => {
      const e = thrown(() => identityFromPrivateKey(new Uint8Array(31), 22));
      expect(e.code).to.match(/^RS_ERR_/);
    });
  });

  describe('identityFromPublicKey', () => {
    for (const id of identities) {
      it(`${id.name}: the same key and IPv6 as from its private key, no private key`, () => {
        const got = identityFromPublicKey(id.public_key, 21);
        const full = identityFromPrivateKey(hexToBytes(id.private_hex), 21);
        expect(got).to.deep.equal({ ...full, privateKey: undefined });
      });
    }

    it('a key that does not give an fc address is RS_ERR_KEY_NOT_CJDNS', () => {
      const nonFc = publicKeyToString(publicFromPrivate(NON_FC_PRIVATE));
      expect(thrown(() => identityFromPublicKey(nonFc, 22)).code).to.equal('RS_ERR_KEY_NOT_CJDNS');
    });
  });

  describe('resolveIdentity (the configured identity)', () => {
    const [a, b] = [identities[0]!, identities[1]!];
    const resolve = (identity: Record<string, unknown>): ReturnType<typeof resolveIdentity> =>
      resolveIdentity(validateConfig({ identity }), silentLogger());

    it('identity.publicKey alone: that node, without a private key and without touching the file', () => {
      const file = join(dir, 'never-created.json');
      const got = resolve({ publicKey: a.public_key, file });
      expect(got).to.include({ key: a.public_key, ipv6: a.ipv6, privateKey: undefined });
      expect(existsSync(file)).to.equal(false);
    });

    it('identity.privateKey with the matching identity.publicKey', () => {
      const got = resolve({ privateKey: a.private_hex, publicKey: a.public_key });
      expect(got.key).to.equal(a.public_key);
      expect(bytesToHex(got.privateKey!)).to.equal(a.private_hex);
    });

    it('identity.privateKey and identity.publicKey of different nodes are RS_ERR_CONFIG_INVALID', () => {
      const e = thrown(() => resolve({ privateKey: a.private_hex, publicKey: b.public_key }));
      expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
      expect(e.message).to.contain(b.public_key);
    });

    it('an identity.publicKey that is not a cjdns key is RS_ERR_CONFIG_INVALID', () => {
      const nonFc = publicKeyToString(publicFromPrivate(NON_FC_PRIVATE));
      expect(thrown(() => resolve({ publicKey: nonFc })).code).to.equal('RS_ERR_CONFIG_INVALID');
    });

    it('neither key: the identity file, created once', () => {
      const file = join(dir, 'resolved', 'identity.json');
      const first = resolve({ file });
      expect(existsSync(file)).to.equal(true);
      expect(resolve({ file }).key).to.equal(first.key);
    });
  });

  describe('generateIdentity', () => {
    it('draws 32-byte keys until one gives an fc address (deterministic source)', () => {
      const { random, calls } = seededRandom('gen-1');
      const id = generateIdentity(22, random);
      expect(id.ipv6.startsWith('fc')).to.equal(true);
      expect(id.ipv6).to.match(/^fc[0-9a-f]{2}(:[0-9a-f]{4}){7}$/);
      expect(calls.length).to.be.greaterThan(0);
      expect(calls.every((n) => n === 32)).to.equal(true);
      // the result is exactly the last key drawn, and consistent with the key derivation
      const again = seededRandom('gen-1');
      let last: Uint8Array = new Uint8Array(0);
      for (let i = 0; i < calls.length; i++) last = again.random(32);
      expect(bytesToHex(id.privateKey!)).to.equal(bytesToHex(last));
      expect(id.ipv6).to.equal(ip6ToString(ip6FromPublicKey(publicFromPrivate(last))));
      expect(id.version).to.equal(22);
    });

    it('is reproducible for the same source and differs across seeds', () => {
      const a = generateIdentity(22, seededRandom('s').random);
      const b = generateIdentity(22, seededRandom('s').random);
      const c = generateIdentity(22, seededRandom('t').random);
      expect(a.key).to.equal(b.key);
      expect(a.key).to.not.equal(c.key);
    });

    it('skips non-fc keys and returns the first fc one', () => {
      const good = hexToBytes(identities[0]!.private_hex);
      const seq = [NON_FC_PRIVATE, NON_FC_PRIVATE, good];
      let i = 0;
      const id = generateIdentity(22, () => seq[i++]!);
      expect(i).to.equal(3);
      expect(id.ipv6).to.equal(identities[0]!.ipv6);
    });

    it('copies the drawn bytes (a reused buffer from the source does not alias the key)', () => {
      const buf = hexToBytes(identities[1]!.private_hex);
      const id = generateIdentity(22, () => buf);
      buf.fill(0);
      expect(bytesToHex(id.privateKey!)).to.equal(identities[1]!.private_hex);
    });

    it('uses the system random source by default', () => {
      const a = generateIdentity(22);
      const b = generateIdentity(22);
      expect(a.ipv6.startsWith('fc')).to.equal(true);
      expect(a.key).to.not.equal(b.key);
    });
  });

  describe('loadOrCreateIdentity', () => {
    it('creates the file (and its directory) with mode 0600, then reloads the same identity', () => {
      const file = join(dir, 'nested', 'deeper', 'identity.json');
      const first = loadOrCreateIdentity(file, 22);
      expect(first.created).to.equal(true);
      expect(first.identity.ipv6.startsWith('fc')).to.equal(true);
      expect(statSync(file).mode & 0o777).to.equal(0o600);

      const body = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      expect(body.privateKey).to.equal(bytesToHex(first.identity.privateKey!));
      expect(body.publicKey).to.equal(first.identity.key);
      expect(body.ipv6).to.equal(first.identity.ipv6);

      const second = loadOrCreateIdentity(file, 21);
      expect(second.created).to.equal(false);
      expect(second.identity.key).to.equal(first.identity.key);
      expect(second.identity.ipv6).to.equal(first.identity.ipv6);
      expect(bytesToHex(second.identity.privateKey!)).to.equal(
        bytesToHex(first.identity.privateKey!),
      );
      expect(second.identity.version).to.equal(
        21,
        'the version comes from the caller, not the file',
      );
      expect(readFileSync(file, 'utf8')).to.equal(
        JSON.stringify(body, null, 2) + '\n',
        'reloading does not rewrite the file',
      );
    });

    it('loads a hand-written file holding only the private key (upper-case hex accepted)', () => {
      const id = identities[2]!;
      const file = join(dir, 'hand.json');
      writeFileSync(file, JSON.stringify({ privateKey: id.private_hex.toUpperCase() }));
      const r = loadOrCreateIdentity(file, 22);
      expect(r.created).to.equal(false);
      expect(r.identity.key).to.equal(id.public_key);
      expect(r.identity.ipv6).to.equal(id.ipv6);
    });

    const corrupt: Array<[string, string]> = [
      ['not JSON', '{"privateKey": '],
      ['empty', ''],
      ['no privateKey', '{"publicKey": "x.k"}'],
      ['privateKey too short', '{"privateKey": "abcd"}'],
      ['privateKey not hex', `{"privateKey": "${'zz'.repeat(32)}"}`],
      ['privateKey a number', '{"privateKey": 12}'],
      ['an array', '[]'],
      ['null', 'null'],
      ['a non-cjdns key', `{"privateKey": "${'00'.repeat(32)}"}`],
    ];
    for (const [name, text] of corrupt) {
      it(`a corrupt file (${name}) is RS_ERR_CONFIG_INVALID naming the file, and is left alone`, () => {
        const file = join(dir, `corrupt-${name.replace(/\W+/g, '_')}.json`);
        writeFileSync(file, text);
        const e = thrown(() => loadOrCreateIdentity(file, 22));
        expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
        expect(e.message).to.contain(file);
        expect(readFileSync(file, 'utf8')).to.equal(text);
      });
    }

    it('a directory where the file should be is RS_ERR_CONFIG_INVALID', () => {
      const e = thrown(() => loadOrCreateIdentity(dir, 22));
      expect(e.code).to.equal('RS_ERR_CONFIG_INVALID');
    });
  });
});
