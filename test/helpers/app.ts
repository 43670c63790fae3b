import { startApp, type App } from '../../src/app.ts';
import { validateConfig, type ConfigInput } from '../../src/config.ts';
import { silentLogger, type Logger } from '../../src/log.ts';
import type { Clock } from '../../src/lib/clock.ts';
import type { LogMedium } from '../../src/store/log-medium.ts';

/**
 * Start a route server on free loopback ports (public and admin) with an explicit identity. It
 * runs what `snode serve` runs (the fast engine, its default policy) unless a test about the
 * reference asks for `routing: { mode: 'reference', policy: 'original' }`.
 */
export async function startTestApp(opts: {
  privateKeyHex: string;
  version?: number;
  clock?: Clock;
  config?: ConfigInput;
  log?: Logger;
  storeMedium?: LogMedium;
}): Promise<App> {
  const config = validateConfig({
    ...opts.config,
    http: { host: '127.0.0.1', port: 0, ...(opts.config?.http ?? {}) },
    admin: { host: '127.0.0.1', port: 0, ...(opts.config?.admin ?? {}) },
    // the announcement log in memory (the file's code path, nothing on disk) unless a test asks
    store: { mode: 'memory', ...(opts.config?.store ?? {}) },
    identity: { privateKey: opts.privateKeyHex, version: opts.version ?? 22 },
    log: { level: 'silent' },
  });
  return startApp(config, opts.log ?? silentLogger(), {
    clock: opts.clock,
    expiryTimer: false,
    storeMedium: opts.storeMedium,
  });
}
