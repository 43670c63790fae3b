/**
 * `npm run build:ui`: bundle the map page (ui/) into static files — `dist/ui/index.html`,
 * `app.js` (sigma, graphology and the page, one ES module), `app.css` — that `snode serve` serves
 * at `/ui/`. Everything comes from node_modules at build time: the page loads nothing from
 * elsewhere. Options: `--out <dir>` (default dist/ui), `--dev` (no minification),
 * `--if-possible` (exit quietly when the build dependencies are not installed: `npm start` after
 * `npm ci --omit=dev`).
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_UI_OUT = join(root, 'dist', 'ui');

export interface BuildUiOptions {
  readonly outDir?: string;
  readonly minify?: boolean;
}

/** Build the page; resolves with the output directory. */
export async function buildUi(opts: BuildUiOptions = {}): Promise<string> {
  const outDir = opts.outDir ?? DEFAULT_UI_OUT;
  const { build } = await import('esbuild');
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, 'ui', 'src', 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: opts.minify ?? true,
    sourcemap: 'linked',
    legalComments: 'eof',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  await copyFile(join(root, 'ui', 'index.html'), join(outDir, 'index.html'));
  await copyFile(join(root, 'ui', 'app.css'), join(outDir, 'app.css'));
  return outDir;
}

/** The page's build-time dependencies are installed (not after `npm ci --omit=dev`). */
function toolchainInstalled(): boolean {
  try {
    import.meta.resolve('sigma');
    import.meta.resolve('graphology');
    return true;
  } catch {
    return false;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const t0 = Date.now();
  if (args.includes('--if-possible') && !toolchainInstalled()) {
    // `npm start` on a production install (dev dependencies pruned): keep what was built before
    console.error(
      'map page not rebuilt: its build dependencies are not installed (npm ci without --omit=dev); /ui/ serves what dist/ui holds',
    );
    process.exit(0);
  }
  buildUi({
    outDir: outAt >= 0 ? resolve(args[outAt + 1] ?? '') : undefined,
    minify: !args.includes('--dev'),
  }).then(
    (dir) => console.log(`map page built into ${dir} in ${Date.now() - t0} ms`),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
