/**
 * The map page's built files (`npm run build:ui` → `dist/ui/`: index.html, app.js, app.css).
 * Served read-only from that one directory: a name is a single path segment of safe characters,
 * so nothing outside it can be named. Not built: 404 saying how to build it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RsError } from '../errors.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;

/** `dist/ui` of the package this file belongs to (the directory holding its package.json). */
export function defaultUiDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'ui');
    const up = dirname(dir);
    if (up === dir) return join(process.cwd(), 'dist', 'ui');
    dir = up;
  }
}

export interface UiAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

/** Read one built file by name (`''` = index.html). */
export async function readUiAsset(dir: string, name: string): Promise<UiAsset> {
  const file = name === '' ? 'index.html' : name;
  const type = CONTENT_TYPES[extname(file)];
  if (!SAFE_NAME.test(file) || file.includes('..') || type === undefined) {
    throw new RsError(
      'RS_ERR_HTTP_NOT_FOUND',
      `no such file in the map page: ${name.slice(0, 100)}`,
    );
  }
  try {
    return { body: await readFile(join(dir, file)), contentType: type };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const built = existsSync(join(dir, 'index.html'));
    throw new RsError(
      'RS_ERR_HTTP_NOT_FOUND',
      built
        ? `no such file in the map page: ${file}`
        : `the map page is not built (${dir}): run npm run build:ui`,
    );
  }
}
