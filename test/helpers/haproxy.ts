/**
 * A real haproxy for a test: the config written to a temp dir, `haproxy -c` first, then the
 * proxy in the foreground on the frontend port the config binds. Throws with a clear message
 * when haproxy is missing — never a skip (CI installs it: .ci/run).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkHaproxyConfig,
  startHaproxy,
  type ManagedProcess,
} from '../../src/cluster/native/processes.ts';

export { checkHaproxyConfig };

/** Write `text` to a temp file and run `haproxy -c -f` on it; returns haproxy's output. */
export function checkHaproxyText(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'snode-test-haproxy-'));
  try {
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, text);
    return checkHaproxyConfig(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestHaproxy {
  readonly port: number;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/** Start haproxy with `configText`, whose frontend binds 127.0.0.1:`port`. */
export async function startTestHaproxy(configText: string, port: number): Promise<TestHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'snode-test-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, configText);
  const p = await startHaproxy({ configFile: file, port, logFile: join(dir, 'haproxy.log') });
  return {
    port,
    process: p,
    async stop() {
      await p.stop('SIGTERM', 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
