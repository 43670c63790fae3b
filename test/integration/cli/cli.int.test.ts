/**
 * The `snode` command as a user runs it: `node bin/snode.js …` in a child process.
 * Protocol tools against the fixture vectors (ann decode, key, keygen, label, scheme), --help on
 * every command, usage errors, and `snode replay` of route_server.json (whole file and single
 * scenarios) compared step by step with the vectors. Streams and exit codes: a result is JSON on
 * stdout with nothing on stderr, exit 0; an error is one JSON line on stderr with nothing on
 * stdout, exit 1.
 *
 * Spawning is the slow part (~0.5 s of CPU each), so every describe block starts all of its
 * processes in `before` through a small pool, and the tests only await the results.
 */
import { parseClusterKey } from '../../../src/cluster/envelope-auth.ts';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCHEMES, serializeScheme } from '../../../src/protocol/encoding-scheme.ts';
import type { EncodingScheme } from '../../../src/protocol/encoding-scheme-types.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { cleanEnv } from '../../helpers/snode-process.ts';
import { loadVectors, fixturesDir, vectorsOf } from '../../helpers/vectors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin', 'snode.js');
const ROUTE_SERVER_FILE = join(fixturesDir(), 'vectors', 'route_server.json');

interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// ---- a small process pool ------------------------------------------------------------------

const MAX_CONCURRENT = Math.max(2, Math.min(4, availableParallelism() + 1));
let running = 0;
const waiting: Array<() => void> = [];

async function inSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((r) => waiting.push(r));
  else running++;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next)
      next(); // hand the slot over
    else running--;
  }
}

function spawnCli(args: readonly string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`snode ${args.join(' ')} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

const memo = new Map<string, Promise<CliResult>>();
/** Run `snode …args` (memoised: the same arguments run once). */
function cli(...args: string[]): Promise<CliResult> {
  const key = JSON.stringify(args);
  let p = memo.get(key);
  if (!p) {
    p = inSlot(() => spawnCli(args));
    p.catch(() => undefined); // awaited by the test; avoid an unhandled rejection before that
    memo.set(key, p);
  }
  return p;
}

function desc(r: CliResult): string {
  return `exit ${r.code}\nstdout: ${r.stdout.slice(0, 600)}\nstderr: ${r.stderr.slice(0, 600)}`;
}

const nonEmptyLines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

/** Exit 0, one JSON line per result on stdout, nothing on stderr. */
function okLines(r: CliResult): any[] {
  expect(r.code, desc(r)).to.equal(0);
  expect(r.stderr, desc(r)).to.equal('');
  return nonEmptyLines(r.stdout).map((l) => JSON.parse(l));
}

/** Exit 0 and exactly one JSON value on stdout, nothing on stderr. */
function okJson(r: CliResult): any {
  const lines = okLines(r);
  expect(lines, desc(r)).to.have.length(1);
  return lines[0];
}

/** A `{"error":{"code","message"}}` line (of stderr). */
function errorLine(
  line: string,
  r: CliResult,
  code?: string | RegExp,
): { code: string; message: string } {
  const v = JSON.parse(line);
  expect(Object.keys(v), desc(r)).to.deep.equal(['error']);
  expect(Object.keys(v.error).sort(), desc(r)).to.deep.equal(['code', 'message']);
  expect(v.error.code)
    .to.be.a('string')
    .and.match(/^RS_ERR_[A-Z0-9_]+$/);
  expect(v.error.message).to.be.a('string').and.not.equal('');
  if (typeof code === 'string') expect(v.error.code, desc(r)).to.equal(code);
  else if (code) expect(v.error.code, desc(r)).to.match(code);
  return v.error;
}

/** Exit 1, nothing on stdout, and exactly one `{"error":{"code","message"}}` line on stderr. */
function errJson(r: CliResult, code?: string | RegExp): { code: string; message: string } {
  expect(r.code, desc(r)).to.equal(1);
  expect(r.stdout, desc(r)).to.equal('');
  const lines = nonEmptyLines(r.stderr);
  expect(lines, desc(r)).to.have.length(1);
  return errorLine(lines[0]!, r, code);
}

/**
 * Runs every block will need, collected while the blocks are defined and all started (through
 * the pool, in definition order) by the outer `before`, so the pool never idles between blocks.
 */
const planned: string[][] = [];
const setups: Array<() => void> = [];
function prefetch(runs: string[][]): void {
  planned.push(...runs);
}

// ---- vectors -------------------------------------------------------------------------------

/** labels.json names its schemes after cjdnsplice SCHEMES, plus s52_82 (described in the file). */
function schemeHex(name: string): string {
  let scheme: EncodingScheme;
  if (name === 's52_82') {
    scheme = [
      { bitCount: 5, prefixLen: 2, prefix: 0b10 },
      { bitCount: 8, prefixLen: 2, prefix: 0b00 },
    ];
  } else {
    if (!(name in SCHEMES)) throw new Error(`unknown scheme name in labels.json: ${name}`);
    scheme = SCHEMES[name as keyof typeof SCHEMES];
  }
  return bytesToHex(serializeScheme(scheme));
}

const annVectors = vectorsOf<any>('announcements.json', 'parse');
const pubVectors = vectorsOf<any>('keys.json', 'publicKey');
const privVectors = vectorsOf<any>('keys.json', 'privateKey');
const badKeyVectors = vectorsOf<any>('keys.json', 'badPublicKey');
const spliceVectors = vectorsOf<any>('labels.json', 'splice');
const formVectors = vectorsOf<any>('labels.json', 'getEncodingForm');
const reEncodeVectors = vectorsOf<any>('labels.json', 'reEncode');
const schemeRoundtrip = vectorsOf<any>('encoding_schemes.json', 'roundtrip');
const schemeParse = vectorsOf<any>('encoding_schemes.json', 'parse');
const routeServer = loadVectors('route_server.json') as any;

const isErr = (x: unknown): x is { error: string } =>
  typeof x === 'object' && x !== null && 'error' in x;

// ---- replay comparison ---------------------------------------------------------------------

/** Replication counts of `/` and `/ni` are compared by presence (vector file conventions). */
function stripStoreCounts(body: string): unknown {
  const v = JSON.parse(body) as Record<string, any>;
  for (const k of ['peer', 'peerInfo']) {
    const info = v[k];
    if (info) {
      expect(info).to.have.keys('peers', 'announcements', 'annByHashLen');
      info.announcements = 'present';
      info.annByHashLen = 'present';
    }
  }
  return v;
}

function withoutNames(state: any): any {
  if (!state || !Array.isArray(state.links)) return state;
  return { ...state, links: state.links.map(({ from: _from, ...rest }: any) => rest) };
}

/**
 * Compare one replay line with its vector step. `names`: whether the replay knew the identity
 * names (a whole vectors file has them; a single scenario does not, so `from` is left out).
 */
function expectStepMatches(line: any, scenario: any, index: number, names: boolean): void {
  const step = scenario.steps[index];
  const where = `${scenario.name} step ${index} (${step.action})`;
  expect(line.id, where).to.equal(scenario.id);
  expect(line.step, where).to.equal(index);
  expect(line.action, where).to.equal(step.action);
  expect(line, where).to.not.have.property('error');
  switch (step.action) {
    case 'ann':
    case 'gossip_ann':
      expect(line.expected, where).to.deep.equal(step.expected);
      expect(line.replication, where).to.deep.equal(step.replication);
      if (names) expect(line.node_state_after, where).to.deep.equal(step.node_state_after);
      else
        expect(withoutNames(line.node_state_after), where).to.deep.equal(
          withoutNames(step.node_state_after),
        );
      break;
    case 'getRoute':
      expect(line.expected, where).to.deep.equal(step.expected);
      break;
    case 'subnode_message':
      expect(line.expected_reply_frame_hex, where).to.equal(step.expected_reply_frame_hex);
      expect(line.replication, where).to.deep.equal(step.replication);
      break;
    case 'http':
      expect(line.path, where).to.equal(step.path);
      expect(line.ended, where).to.equal(step.ended);
      if (step.path === '/nosuchthing') {
        // deliberate difference: the original echoed the URL with 200; we answer 404 JSON
        expect(line.status, where).to.equal(404);
        expect(JSON.parse(line.body).error.code, where).to.equal('RS_ERR_HTTP_NOT_FOUND');
      } else if (step.body_hex !== undefined) {
        expect(line.status, where).to.equal(200);
        expect(line.body_hex, where).to.equal(step.body_hex);
        expect(line.headers['Content-Type'], where).to.equal(step.headers['Content-Type']);
      } else if (step.path === '/' || step.path === '/ni') {
        expect(line.status, where).to.equal(200);
        expect(stripStoreCounts(line.body), where).to.deep.equal(stripStoreCounts(step.body));
      } else {
        expect(line.status, where).to.equal(200);
        expect(line.body, where).to.equal(step.body);
      }
      break;
    default:
      expect.fail(`${where}: unknown action in the vectors`);
  }
}

function replayLines(r: CliResult): any[] {
  expect(r.code, desc(r)).to.equal(0);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

// ---------------------------------------------------------------------------------------------

describe('snode CLI (child processes)', function () {
  this.timeout(120_000);

  const tmp = mkdtempSync(join(tmpdir(), 'snode-cli-'));
  const tmpFile = (name: string): string => join(tmp, name);
  before(() => {
    for (const f of setups) f();
    for (const a of planned) void cli(...a);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('ann decode: every announcements.json parse vector', () => {
    const runs = annVectors.map((v) => ['ann', 'decode', v.hex]);
    const noVerify = annVectors
      .filter((v) => v.expected_without_signature_check)
      .map((v) => ['ann', 'decode', '--no-verify', v.hex]);
    prefetch([...runs, ...noVerify, ['ann', 'decode', 'zz'], ['ann', 'decode', '00']]);

    for (const v of annVectors) {
      const label = isErr(v.expected) ? `error "${v.expected.error}"` : 'parsed fields';
      it(`${v.id}${v.description ? ` (${v.description})` : ''} → ${label}`, async () => {
        const r = await cli('ann', 'decode', v.hex);
        if (isErr(v.expected)) {
          expect(errJson(r).message).to.equal(v.expected.error);
        } else {
          const got = okJson(r);
          expect(got).to.deep.equal(v.expected);
          expect(Object.keys(got)).to.deep.equal([
            'signature',
            'pubSigningKey',
            'snodeIp',
            'nodePubKey',
            'nodeIp',
            'ver',
            'isReset',
            'timestamp',
            'entities',
            'hash',
          ]);
        }
      });
    }

    for (const v of annVectors.filter((x) => x.expected_without_signature_check)) {
      it(`${v.id} with --no-verify → ${JSON.stringify(v.expected_without_signature_check).slice(0, 60)}`, async () => {
        const r = await cli('ann', 'decode', '--no-verify', v.hex);
        const want = v.expected_without_signature_check;
        if (isErr(want)) expect(errJson(r).message).to.equal(want.error);
        else expect(okJson(r)).to.deep.equal(want);
      });
    }

    it('non-hex input → exit 1 RS_ERR_HEX_INVALID', async () => {
      errJson(await cli('ann', 'decode', 'zz'), 'RS_ERR_HEX_INVALID');
    });

    it('a runt → exit 1 with the JS error string', async () => {
      expect(errJson(await cli('ann', 'decode', '00'), 'RS_ERR_ANN_RUNT').message).to.equal('runt');
    });
  });

  describe('key: every keys.json publicKey / privateKey vector, and bad keys', () => {
    // upper case: the strict regex (the JS one is lower case only too)
    const extraBad = ['QGKJD0STFVK9R3J28S4GH8RGSLBGX2R5XGXZXKGM5VDXQWN8XSU0.k'];
    prefetch([
      ...pubVectors.map((v) => ['key', v.key]),
      ...privVectors.map((v) => ['key', v.private_hex]),
      ['key', privVectors[0].private_hex.toUpperCase()],
      ...badKeyVectors.map((v) => ['key', v.key]),
      ...extraBad.map((k) => ['key', k]),
    ]);

    for (const v of pubVectors) {
      it(`${v.id}: ${v.key.slice(0, 16)}… → ${v.ipv6}`, async () => {
        expect(okJson(await cli('key', v.key))).to.deep.equal({ key: v.key, ipv6: v.ipv6 });
      });
    }
    for (const v of privVectors) {
      it(`${v.id}: private key → ${v.public_key.slice(0, 16)}…, ${v.ipv6}`, async () => {
        const got = okJson(await cli('key', v.private_hex));
        expect(got.key).to.equal(v.public_key);
        expect(got.ipv6).to.equal(v.ipv6);
        expect(got.publicKey).to.equal(v.public_key);
      });
    }
    it('a private key in upper-case hex gives the same answer', async () => {
      const v = privVectors[0];
      expect(okJson(await cli('key', v.private_hex.toUpperCase()))).to.deep.equal(
        okJson(await cli('key', v.private_hex)),
      );
    });
    for (const v of badKeyVectors) {
      it(`${v.id} (${v.reason}) → exit 1 RS_ERR_KEY_INVALID`, async () => {
        errJson(await cli('key', v.key), 'RS_ERR_KEY_INVALID');
      });
    }
    for (const k of extraBad) {
      it(`${JSON.stringify(k.slice(0, 20))}… → exit 1 RS_ERR_KEY_INVALID`, async () => {
        errJson(await cli('key', k), 'RS_ERR_KEY_INVALID');
      });
    }
  });

  describe('key with several keys, keygen', () => {
    const many = [pubVectors[0].key, privVectors[0].private_hex, pubVectors[1].key];
    const withBad = [pubVectors[0].key, badKeyVectors[0].key, pubVectors[1].key];
    prefetch([['key', ...many], ['key', ...withBad], ['keygen']]);

    it('several keys → one JSON line per key, in order, exit 0', async () => {
      const lines = okLines(await cli('key', ...many));
      expect(lines).to.deep.equal(
        await Promise.all(many.map(async (k) => okJson(await cli('key', k)))),
      );
    });

    it('a bad key among several → the others on stdout, its error (naming its position) on stderr, exit 1', async () => {
      const r = await cli('key', ...withBad);
      expect(r.code, desc(r)).to.equal(1);
      const out = nonEmptyLines(r.stdout).map((l) => JSON.parse(l));
      expect(out).to.deep.equal([
        { key: pubVectors[0].key, ipv6: pubVectors[0].ipv6 },
        { key: pubVectors[1].key, ipv6: pubVectors[1].ipv6 },
      ]);
      const errs = nonEmptyLines(r.stderr);
      expect(errs, desc(r)).to.have.length(1);
      expect(errorLine(errs[0]!, r, 'RS_ERR_KEY_INVALID').message).to.match(/^key 2 \(/);
    });

    it('keygen → a new identity (private key, public key, fc… IPv6) that `snode key` agrees with', async () => {
      const a = okJson(await cli('keygen'));
      expect(Object.keys(a)).to.deep.equal(['privateKey', 'publicKey', 'ipv6']);
      expect(a.privateKey).to.match(/^[0-9a-f]{64}$/);
      expect(a.publicKey).to.match(/^[0-9a-z]{52}\.k$/);
      expect(a.ipv6).to.match(/^fc[0-9a-f]{2}(:[0-9a-f]{4}){7}$/);
      const b = okJson(await inSlot(() => spawnCli(['keygen']))); // a second run (cli() memoises)
      expect(b.privateKey).to.not.equal(a.privateKey);
      const check = okLines(await cli('key', a.privateKey, a.publicKey));
      expect(check).to.deep.equal([
        { key: a.publicKey, ipv6: a.ipv6, publicKey: a.publicKey },
        { key: a.publicKey, ipv6: a.ipv6 },
      ]);
    });

    it('keygen --cluster → a cluster key (64 hex digits, a new one each run) that the cluster settings accept', async () => {
      const r = await cli('keygen', '--cluster');
      expect(r.code, desc(r)).to.equal(0);
      const key = r.stdout.trim();
      expect(key).to.match(/^[0-9a-f]{64}$/);
      expect(parseClusterKey(key)).to.have.length(32);
      const again = await inSlot(() => spawnCli(['keygen', '--cluster']));
      expect(again.stdout.trim())
        .to.match(/^[0-9a-f]{64}$/)
        .and.not.equal(key);
    });
  });

  describe('label splice / form / reencode (labels.json)', () => {
    // representative (each spawn costs ~0.3 s of CPU; the library itself is tested on every
    // vector in test/unit/protocol): splices incl. the JS all-ones result and the argument
    // error, one getEncodingForm per scheme, and reEncodes covering each kind of error
    const pick = (list: any[], ids: string[]): any[] => {
      const out = list.filter((v) => ids.some((id) => v.id.endsWith(`/${id}`)));
      expect(
        out.map((v) => v.id),
        'picked vectors exist',
      ).to.have.length(ids.length);
      return out;
    };
    const splices = pick(spliceVectors, ['014', '016', '022', '023']);
    const forms = pick(formVectors, ['024', '027', '030', '034']);
    const reEncodes = pick(reEncodeVectors, ['038', '041', '042', '045', '050', '053']);
    const spliceArgs = (v: any): string[] => ['label', 'splice', ...v.input.labels];
    const formArgs = (v: any): string[] => [
      'label',
      'form',
      v.input.label,
      '--scheme',
      schemeHex(v.input.scheme),
    ];
    const reArgs = (v: any): string[] => [
      'label',
      'reencode',
      v.input.label,
      '--scheme',
      schemeHex(v.input.scheme),
      '--form',
      String(v.input.desiredForm),
    ];
    const usageRuns = [
      ['label', 'splice', '0000.0000.0000.0015', 'nope'],
      ['label', 'form', '0000.0000.0000.0013'],
      ['label', 'reencode', '0000.0000.0000.0015', '--scheme', '6114458100', '--form', '-1'],
    ];
    prefetch([
      ...splices.map(spliceArgs),
      ...forms.map(formArgs),
      ...reEncodes.map(reArgs),
      ...usageRuns,
    ]);

    it('the named schemes serialise as in encoding_schemes.json', () => {
      for (const v of schemeRoundtrip)
        if (v.name in SCHEMES) expect(schemeHex(v.name), v.name).to.equal(v.hex);
    });

    for (const v of splices) {
      it(`${v.id}: splice ${v.input.labels.join(' ')} → ${JSON.stringify(v.expected)}`, async () => {
        const r = await cli(...spliceArgs(v));
        if (isErr(v.expected)) expect(errJson(r).message).to.equal(v.expected.error);
        else expect(okJson(r)).to.deep.equal({ label: v.expected });
      });
    }
    for (const v of forms) {
      it(`${v.id}: form of ${v.input.label} in ${v.input.scheme} → ${v.expected}`, async () => {
        expect(okJson(await cli(...formArgs(v)))).to.deep.equal({ form: v.expected });
      });
    }
    for (const v of reEncodes) {
      it(`${v.id}: reencode ${v.input.label} in ${v.input.scheme} to ${v.input.desiredForm} → ${JSON.stringify(v.expected)}`, async () => {
        const r = await cli(...reArgs(v));
        if (isErr(v.expected))
          expect(errJson(r, /^RS_ERR_LABEL_/).message).to.equal(v.expected.error);
        else expect(okJson(r)).to.deep.equal({ label: v.expected });
      });
    }

    it('a malformed label → exit 1 RS_ERR_LABEL_INVALID', async () => {
      errJson(await cli(...usageRuns[0]!), 'RS_ERR_LABEL_INVALID');
    });
    it('a missing --scheme → exit 1 RS_ERR_CLI_USAGE', async () => {
      errJson(await cli(...usageRuns[1]!), 'RS_ERR_CLI_USAGE');
    });
    it('a bad --form → exit 1 RS_ERR_CLI_USAGE', async () => {
      errJson(await cli(...usageRuns[2]!), 'RS_ERR_CLI_USAGE');
    });
  });

  describe('scheme decode (encoding_schemes.json roundtrip and parse vectors)', () => {
    // every parse vector: the lenient JS parse (empty scheme, stray tail bits, truncated input)
    const parses = schemeParse;
    prefetch([
      ...schemeRoundtrip.map((v) => ['scheme', 'decode', v.hex]),
      ...parses.map((v) => ['scheme', 'decode', v.hex]),
      ['scheme', 'decode', 'zz'],
    ]);

    for (const v of schemeRoundtrip) {
      it(`${v.id} (${v.name}): ${v.hex} → ${v.forms.length} forms`, async () => {
        expect(okJson(await cli('scheme', 'decode', v.hex))).to.deep.equal(v.forms);
      });
    }
    for (const v of parses) {
      it(`${v.id}: ${v.hex} → ${JSON.stringify(v.expected).slice(0, 60)}`, async () => {
        const r = await cli('scheme', 'decode', v.hex);
        if (isErr(v.expected)) errJson(r);
        else expect(okJson(r)).to.deep.equal(v.expected.forms);
      });
    }
    it('non-hex → exit 1 RS_ERR_HEX_INVALID', async () => {
      errJson(await cli('scheme', 'decode', 'zz'), 'RS_ERR_HEX_INVALID');
    });
  });

  describe('--help and usage errors', () => {
    const KNOWN = [
      'serve',
      'replay',
      'ann',
      'ann decode',
      'key',
      'keygen',
      'label',
      'label splice',
      'label form',
      'label reencode',
      'scheme',
      'scheme decode',
    ];
    const usage: string[][] = [
      ['bogus'],
      ['--bogus'],
      ['label', 'bogus'],
      ['key', '--bogus', 'x'],
      ['serve', '--no-such-flag'],
      ['ann', 'decode'],
      ['key'],
      ['keygen', 'extra'],
    ];
    prefetch([
      ['--help'],
      ...KNOWN.map((c) => [...c.split(' '), '--help']),
      ['help', 'label'],
      ['--version'],
      [],
      ['ann'],
      ...usage,
    ]);

    /** Subcommand names listed under "Commands:" in a help text (commander's own `help` left out). */
    function commandsIn(help: string): string[] {
      const m = /\nCommands:\n([\s\S]*?)(?:\n\n|$)/.exec(help);
      if (!m) return [];
      return m[1]!
        .split('\n')
        .filter((l) => /^ {2}\S/.test(l))
        .map((l) => l.trim().split(/\s+/)[0]!)
        .filter((name) => name !== 'help');
    }

    it('walks the whole command tree: --help exits 0 with usage on stdout for the root and every subcommand', async () => {
      const seen: string[] = [];
      let level: string[][] = [[]];
      while (level.length > 0) {
        const results = await Promise.all(level.map((path) => cli(...path, '--help')));
        const next: string[][] = [];
        results.forEach((r, i) => {
          const path = level[i]!;
          const name = path.join(' ');
          expect(r.code, `${name || 'snode'} --help: ${desc(r)}`).to.equal(0);
          expect(r.stdout, name).to.match(new RegExp(`^Usage: snode${name ? ' ' + name : ''} `));
          if (name) seen.push(name);
          for (const c of commandsIn(r.stdout)) next.push([...path, c]);
        });
        level = next;
      }
      expect(seen).to.include.members(KNOWN);
    });

    it('`help <command>` works too', async () => {
      const helpLabel = await cli('help', 'label');
      expect(helpLabel.code, desc(helpLabel)).to.equal(0);
      expect(helpLabel.stdout).to.match(/^Usage: snode label /);
    });

    it('--version prints the version and exits 0', async () => {
      const r = await cli('--version');
      expect(r.code).to.equal(0);
      expect(r.stdout.trim()).to.match(/^\d+\.\d+\.\d+/);
    });

    it('bare `snode` → the help on stderr, nothing on stdout, exit 1', async () => {
      const r = await cli();
      expect(r.code, desc(r)).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(/^Usage: snode \[options\] \[command\]/);
      expect(r.stderr).to.contain('keygen');
    });

    it('a command group without its subcommand (`snode ann`) → its help on stderr, exit 1', async () => {
      const r = await cli('ann');
      expect(r.code, desc(r)).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(/^Usage: snode ann /);
    });

    for (const args of usage) {
      it(`snode ${args.join(' ')} → exit 1 RS_ERR_CLI_USAGE JSON on stderr`, async () => {
        const e = errJson(await cli(...args), 'RS_ERR_CLI_USAGE');
        expect(e.message).to.not.match(/^error: /);
      });
    }
  });

  describe('replay', () => {
    const scenarios = routeServer.vectors as any[];
    setups.push(() => {
      for (const s of scenarios)
        writeFileSync(tmpFile(`${s.name}.json`), JSON.stringify(s, null, 2));
      const bad: Record<string, string> = {
        'not-json.json': '{"self": ',
        'steps-not-array.json': JSON.stringify({ self: scenarios[0].self, steps: 'x' }),
        'bad-action.json': JSON.stringify({
          self: scenarios[0].self,
          steps: [{ action: 'frobnicate', now_ms: 1 }],
        }),
      };
      for (const [name, text] of Object.entries(bad)) writeFileSync(tmpFile(name), text);
    });
    prefetch([
      ['replay', ROUTE_SERVER_FILE],
      ['replay', tmpFile('routes.json')],
      ['replay', '--id', scenarios[1].name, ROUTE_SERVER_FILE],
      ...['not-json.json', 'steps-not-array.json', 'bad-action.json', 'does-not-exist.json'].map(
        (n) => ['replay', tmpFile(n)],
      ),
    ]);

    it('the whole route_server.json: one line per step, every step as the vectors say', async () => {
      const lines = replayLines(await cli('replay', ROUTE_SERVER_FILE));
      const total = scenarios.reduce((n, s) => n + s.steps.length, 0);
      expect(lines).to.have.length(total);
      let k = 0;
      for (const s of scenarios)
        for (let i = 0; i < s.steps.length; i++) expectStepMatches(lines[k++], s, i, true);
    });

    it('a single-scenario file (routes: every kind of step)', async () => {
      const s = scenarios.find((x) => x.name === 'routes');
      const lines = replayLines(await cli('replay', tmpFile('routes.json')));
      expect(lines).to.have.length(s.steps.length);
      expect(new Set(lines.map((l) => l.action))).to.have.keys(
        'ann',
        'getRoute',
        'subnode_message',
        'http',
      );
      lines.forEach((line, i) => expectStepMatches(line, s, i, false));
    });

    it('--id picks one scenario out of the whole file', async () => {
      const s = scenarios[1];
      const lines = replayLines(await cli('replay', '--id', s.name, ROUTE_SERVER_FILE));
      expect(lines).to.have.length(s.steps.length);
      lines.forEach((line, i) => expectStepMatches(line, s, i, true));
    });

    for (const name of ['not-json.json', 'steps-not-array.json', 'does-not-exist.json']) {
      it(`a malformed scenario file (${name}) → exit 1 with one error JSON`, async () => {
        errJson(await cli('replay', tmpFile(name)), 'RS_ERR_INPUT_INVALID');
      });
    }

    for (const name of ['bad-action.json']) {
      it(`a step that cannot be run (${name}) → an error on its line, exit 1`, async () => {
        const r = await cli('replay', tmpFile(name));
        expect(r.code, desc(r)).to.equal(1);
        // the step's outcome is a result line (stdout), like every other step's
        const lines = r.stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l));
        expect(lines).to.have.length(1);
        expect(lines[0].step).to.equal(0);
        expect(lines[0].error.code).to.equal('RS_ERR_INPUT_INVALID');
      });
    }
  });
});
