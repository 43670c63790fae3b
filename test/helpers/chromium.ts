/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser): headless, no sandbox
 * (CI runs as root), no GPU (WebGL falls back to SwiftShader), nothing phoning home, a fresh
 * profile in a temp dir removed on close. Throws a clear error when Chromium is missing — the
 * browser tests never skip (CI installs it: .ci/run).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** `SNODE_CHROMIUM`, else /usr/bin/chromium. */
export function chromiumPath(): string {
  const path = process.env.SNODE_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `Chromium is required for the browser tests but ${path} does not exist (apt-get install chromium, or set SNODE_CHROMIUM)`,
    );
  }
  return path;
}

export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(
  viewport = { width: 1400, height: 900 },
): Promise<TestBrowser> {
  const executablePath = chromiumPath();
  const profile = mkdtempSync(join(tmpdir(), 'snode-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
