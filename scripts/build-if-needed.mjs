// `npm start` and `npm ci` (prepare) in a checkout: bring dist/ up to date when the TypeScript
// compiler is installed (a development checkout): what `npm run build` does — `tsc -b` (nothing
// to do when dist/ is current), then the map page (dist/ui/) — else make sure there is a dist/ to
// run (a production install: `npm prune --omit=dev` removed the toolchain after `npm run build`).
// Plain JavaScript: it runs before anything is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}
if (tsc) {
  for (const args of [
    [tsc, '-b', 'tsconfig.build.json'],
    ['--import', 'tsx', 'scripts/build-ui.ts'],
  ]) {
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  process.exit(0);
}
if (!existsSync(new URL('../dist/cli/snode.js', import.meta.url))) {
  process.stderr.write(
    'dist/ is missing and TypeScript is not installed: run `npm ci && npm run build` first\n',
  );
  process.exit(1);
}
