import { startApp, type App } from '../../src/app.ts';
import { validateConfig, type ConfigInput } from '../../src/config.ts';
import { silentLogger, type Logger } from '../../src/log.ts';
import type { Clock } from '../../src/lib/clock.ts';
import type { LogMedium } from '../../src/store/log-medium.ts';

/** Start a route server on free loopback ports (public and admin) with an explicit identity (reference routing by default). */
export async function startTestApp(opts: { privateKeyHex: string; version?: number; clock?: Clock; config?: ConfigInput; log?: Logger; storeMedium?: LogMedium }): Promise<App> {
  const config = validateConfig({
    ...opts.config,
    http: { host: '127.0.0.1', port: 0, ...(opts.config?.http ?? {}) },
    admin: { host: '127.0.0.1', port: 0, ...(opts.config?.admin ?? {}) },
    // the integration tests check the original's timing (3 s lazy graph rebuild) and route
    // choice: reference routing, policy `original`, unless a test asks otherwise
    routing: { mode: 'reference', policy: 'original', ...(opts.config?.routing ?? {}) },
    // the announcement log in memory (the file's code path, nothing on disk) unless a test asks
    store: { mode: 'memory', ...(opts.config?.store ?? {}) },
    identity: { privateKey: opts.privateKeyHex, version: opts.version ?? 22 },
    log: { level: 'silent' },
  });
  return startApp(config, opts.log ?? silentLogger(), { clock: opts.clock, expiryTimer: false, storeMedium: opts.storeMedium });
}
