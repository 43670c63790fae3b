/**
 * Start a worker thread running a module of this code base, given by the URL of its TypeScript
 * source (`new URL('./x.ts', import.meta.url)` in the caller).
 *
 * Compiled (dist/, what `snode` runs after `npm run build`): the worker runs the compiled module
 * beside this one, `x.js` — plain JavaScript, no TypeScript toolchain at run time.
 *
 * From the sources (development and the tests, through tsx): a worker that loads them through
 * tsx (worker-entry.mjs) carries tsx's loader machinery, ~25 MB per thread; so the module is
 * first bundled into plain JavaScript with esbuild (a dev dependency, the compiler tsx runs on)
 * once per process, and the worker starts from that code (~6 MB per thread, faster start). If
 * esbuild cannot be loaded or fails, the worker falls back to the tsx entry.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);
/** this module was compiled to JavaScript (dist/), so were the workers' */
const COMPILED = import.meta.url.endsWith('.js');

/**
 * A worker's young generation: V8 lets it grow to 16 MB × 2 per thread, which a verification or
 * replica worker (short-lived garbage, small live set) does not need.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };

interface EsbuildLike {
  buildSync(opts: Record<string, unknown>): { outputFiles?: { text: string }[] };
}

const bundles = new Map<string, string | null>();

function bundle(file: string): string | null {
  let code = bundles.get(file);
  if (code !== undefined) return code;
  try {
    const esbuild = createRequire(import.meta.url)('esbuild') as EsbuildLike;
    const out = esbuild.buildSync({
      entryPoints: [file],
      bundle: true,
      write: false,
      // an eval'd worker runs a CommonJS script (Node 20 cannot start one from a data: URL)
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      // the script has no import.meta: what reads it gets the entry module's URL (signature.ts
      // requires sodium-native's addon through createRequire(import.meta.url), out of the bundle)
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(file).href) },
      logLevel: 'silent',
    });
    code = out.outputFiles?.[0]?.text ?? null;
  } catch {
    code = null;
  }
  bundles.set(file, code);
  return code;
}

export function spawnWorker(url: URL, data: Record<string, unknown> = {}, name?: string): Worker {
  const options = {
    workerData: data,
    name: name ?? url.pathname,
    execArgv: [],
    resourceLimits: WORKER_LIMITS,
  };
  if (COMPILED) return new Worker(new URL(url.href.replace(/\.ts$/, '.js')), options);
  const code = bundle(fileURLToPath(url));
  if (code !== null) return new Worker(code, { ...options, eval: true });
  return new Worker(ENTRY, {
    workerData: { ...data, module: url.href },
    name: name ?? url.pathname,
  });
}
