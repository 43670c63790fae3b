#!/usr/bin/env node
// Entry point of the `snode` command. It runs the compiled JavaScript in dist/ (`npm run build`;
// `npm ci` and `npm start` build it). A checkout without dist/, or SNODE_FROM_SOURCE=1 (the test
// suite sets it), runs the TypeScript sources through tsx instead — a dev dependency, so that
// only works in a development checkout.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/snode.js', import.meta.url);

if (process.env.SNODE_FROM_SOURCE !== '1' && existsSync(compiled)) {
  // stack traces name the TypeScript files and lines (dist/ ships its source maps)
  process.setSourceMapsEnabled(true);
  await import(compiled.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    const message =
      'dist/ is missing: build it with `npm run build` (a production install runs `npm ci && npm run build && npm prune --omit=dev`)';
    process.stderr.write(JSON.stringify({ error: { code: 'RS_ERR_INTERNAL', message } }) + '\n');
    process.exit(1);
  }
  register();
  await import('../src/cli/snode.ts');
}
