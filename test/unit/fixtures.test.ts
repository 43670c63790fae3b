/**
 * The fixtures are data produced by the cjdns implementations, kept byte for byte: every file
 * under test/fixtures/{vectors,captures,mesh} must match SHA256SUMS, and nothing may be missing or extra.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir } from '../helpers/vectors.ts';

describe('test fixtures', () => {
  const dir = fixturesDir();
  const listed = new Map(
    readFileSync(join(dir, 'SHA256SUMS'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [sum, file] = line.split(/\s+/);
        return [file!, sum!] as const;
      }),
  );
  const present = ['vectors', 'captures', 'mesh'].flatMap((sub) =>
    readdirSync(join(dir, sub)).map((f) => `${sub}/${f}`),
  );

  it('holds exactly the files SHA256SUMS lists', () => {
    expect([...present].sort()).to.deep.equal([...listed.keys()].sort());
  });

  it('holds every file byte for byte', () => {
    for (const file of present) {
      const sum = createHash('sha256')
        .update(readFileSync(join(dir, file)))
        .digest('hex');
      expect(sum, file).to.equal(listed.get(file));
    }
  });
});
