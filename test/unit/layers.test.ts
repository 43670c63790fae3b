/**
 * The layering of src/ (eslint.config.js, docs/architecture-notes.md#layout) is enforced by
 * lint: these cases run ESLint on imports written into files of each folder, so a rule that
 * stopped matching (a pattern typo, a folder left out) fails here rather than letting the layers
 * drift again.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('layers (the lint boundary rule)', function () {
  this.timeout(60_000);
  let eslint: ESLint;
  before(() => {
    eslint = new ESLint({ cwd: ROOT });
  });

  async function restricted(file: string, source: string): Promise<string[]> {
    const [r] = await eslint.lintText(`import { x } from '${source}';\nexport const y = x;\n`, {
      filePath: join(ROOT, file),
    });
    return r!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  }

  const refused: Array<[string, string]> = [
    ['src/lib/x.ts', '../protocol/hex.ts'],
    ['src/errors.ts', './protocol/hex.ts'],
    ['src/protocol/x.ts', '../graph/node-record.ts'],
    ['src/protocol/x.ts', '../actors/actor-system.ts'],
    ['src/actors/x.ts', '../protocol/hex.ts'],
    ['src/graph/x.ts', '../routing/route-label.ts'],
    ['src/graph/x.ts', '../actors/actor-system.ts'],
    ['src/routing/x.ts', './reference/core.ts'],
    ['src/routing/x.ts', '../replication/peer-actor.ts'],
    ['src/routing/x.ts', '../cluster/bus.ts'],
    ['src/routing/reference/x.ts', '../../server/route-server.ts'],
    ['src/replication/x.ts', '../server/route-server.ts'],
    ['src/replication/x.ts', '../routing/route-snapshot.ts'],
    ['src/replication/x.ts', '../transport/http-server.ts'],
    ['src/cluster/x.ts', '../replication/peer-actor.ts'],
    ['src/cluster/x.ts', './native/launcher.ts'],
    ['src/cluster/x.ts', '../config.ts'],
    ['src/store/x.ts', '../server/route-server.ts'],
    ['src/store/x.ts', '../cluster/bus.ts'],
    ['src/store/x.ts', '../routing/subnode-actors.ts'],
    ['src/server/x.ts', '../transport/http-server.ts'],
    ['src/server/x.ts', '../cli/output.ts'],
    ['src/server/x.ts', '../app.ts'],
    ['src/transport/x.ts', '../cli/output.ts'],
    ['src/transport/x.ts', '../config.ts'],
    ['src/server/x.ts', '../config-file.ts'],
  ];
  for (const [file, source] of refused) {
    it(`refuses ${source} in ${file}`, async () => {
      expect(await restricted(file, source)).to.have.length(1);
    });
  }

  const allowed: Array<[string, string]> = [
    ['src/protocol/x.ts', '../errors.ts'],
    ['src/protocol/x.ts', '../lib/deque.ts'],
    ['src/graph/x.ts', '../protocol/hex.ts'],
    ['src/routing/x.ts', '../graph/node-record.ts'],
    ['src/routing/x.ts', '../actors/actor-system.ts'],
    ['src/routing/reference/x.ts', '../route-label.ts'],
    ['src/server/x.ts', '../routing/reference/core.ts'],
    ['src/server/x.ts', '../replication/replication-service.ts'],
    ['src/server/x.ts', '../cluster/bus.ts'],
    ['src/server/x.ts', '../store/announcement-store.ts'],
    ['src/store/x.ts', '../graph/constants.ts'],
    ['src/store/x.ts', '../protocol/announcement.ts'],
    ['src/transport/x.ts', '../server/route-server.ts'],
    ['src/cluster/native/x.ts', '../../server/identity.ts'],
    ['src/cli/x.ts', '../config.ts'],
    ['src/cli/x.ts', '../config-file.ts'],
  ];
  for (const [file, source] of allowed) {
    it(`allows ${source} in ${file}`, async () => {
      expect(await restricted(file, source)).to.deep.equal([]);
    });
  }

  it('cites a section of docs/architecture-notes.md that exists, and the message names it', async () => {
    const [msg] = await restricted('src/lib/x.ts', '../protocol/hex.ts');
    const anchor = /docs\/architecture-notes\.md#([a-z0-9-]+)/.exec(msg ?? '')?.[1];
    expect(anchor, msg).to.equal('layout');
    const headings = readFileSync(join(ROOT, 'docs/architecture-notes.md'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('## '))
      .map((l) =>
        l
          .slice(3)
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      );
    expect(headings).to.include(anchor);
    expect(readFileSync(join(ROOT, 'eslint.config.js'), 'utf8')).to.include(
      'docs/architecture-notes.md#layout',
    );
  });

  it('covers every folder of src/', async () => {
    const folders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) {
          folders.push(relative(ROOT, p));
          walk(p);
        }
      }
    };
    walk(join(ROOT, 'src'));
    expect(folders).to.include('src/routing/reference');
    for (const folder of folders) {
      const config = (await eslint.calculateConfigForFile(join(ROOT, folder, 'x.ts'))) as {
        rules?: Record<string, unknown>;
      };
      expect(config.rules?.['no-restricted-imports'], `${folder} has no layer`).to.not.equal(
        undefined,
      );
    }
  });
});

/**
 * The test tree follows src/ (test/README.md): a unit test is named after the source file it
 * tests, an integration test sits in the folder of its subsystem, and the property tests are
 * together, where `npm run test:prop` runs them.
 */
describe('the test tree follows src/ (test/README.md)', () => {
  const TEST = join(ROOT, 'test');
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? files(p) : [relative(ROOT, p)];
    });
  const tests = files(TEST).filter((f) => f.endsWith('.test.ts'));
  /** the unit tests of the project itself rather than of one source file */
  const PROJECT_TESTS = ['test/unit/layers.test.ts', 'test/unit/fixtures.test.ts'];

  it('has only the documented folders at its top', () => {
    const top = readdirSync(TEST).filter((n) => statSync(join(TEST, n)).isDirectory());
    expect(top.sort()).to.deep.equal([
      'browser',
      'fixtures',
      'helpers',
      'integration',
      'property',
      'unit',
    ]);
  });

  it('names every unit test after a file of src/ (test/unit/<folder>/<file>[.<aspect>].test.ts)', () => {
    const stray = tests
      .filter((f) => f.startsWith('test/unit/') && !PROJECT_TESTS.includes(f))
      .filter((f) => {
        const name = f.slice('test/unit/'.length, -'.test.ts'.length);
        const dir = name.includes('/') ? name.slice(0, name.lastIndexOf('/') + 1) : '';
        const base = name.slice(dir.length).split('.')[0]!;
        return !existsSync(join(ROOT, 'src', `${dir}${base}.ts`));
      });
    expect(
      stray,
      'move each to test/unit/<folder>/<file>.test.ts for its src/<folder>/<file>.ts',
    ).to.deep.equal([]);
  });

  it('groups integration tests by subsystem, in folders named as src/ names them (and deploy)', () => {
    const subsystems = readdirSync(join(ROOT, 'src')).filter((n) =>
      statSync(join(ROOT, 'src', n)).isDirectory(),
    );
    const stray = tests
      .filter((f) => f.startsWith('test/integration/'))
      .filter((f) => {
        const parts = f.split('/');
        return parts.length !== 4 || !(subsystems.includes(parts[2]!) || parts[2] === 'deploy');
      });
    expect(stray, 'move each to test/integration/<subsystem>/').to.deep.equal([]);
  });

  it('keeps every property test in test/property, which test:prop runs', () => {
    const props = tests.filter((f) => f.endsWith('.prop.test.ts'));
    expect(props.length).to.be.greaterThan(0);
    expect(props.filter((f) => !f.startsWith('test/property/'))).to.deep.equal([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['test:prop']).to.equal("mocha 'test/property/**/*.test.ts'");
  });
});
