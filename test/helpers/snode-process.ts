/**
 * `snode` as a child process, the way an operator or a container's entry point runs it:
 * `node bin/snode.js <args>` in a clean environment (none of the test runner's SNODE_* variables
 * except SNODE_FROM_SOURCE, so the child runs the same sources as the tests), its JSON log lines
 * (stderr) parsed as they arrive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/* eslint-disable @typescript-eslint/no-explicit-any */
export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'snode.js');

export interface SnodeProcess {
  readonly child: ChildProcess;
  readonly logs: any[];
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** resolves with the first log line with this event (rejects on exit or timeout) */
  waitFor(event: string, timeoutMs?: number): Promise<any>;
}

const started = new Set<ChildProcess>();

/**
 * The runner's environment without its SNODE_* variables (but SNODE_FROM_SOURCE), plus `extra`.
 * The admin listener gets a free port (its default, 3335, would collide between processes)
 * unless `extra` names one; the `http:admin:listening` log line says which.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (k.startsWith('SNODE_') && k !== 'SNODE_FROM_SOURCE') delete env[k];
  return { ...env, SNODE_ADMIN_PORT: '0', ...extra };
}

/**
 * `node bin/snode.js …args` with cleanEnv(env), in the repository (or `opts.cwd`); `opts.bin`
 * runs another copy of bin/snode.js, and `opts.compiled` without SNODE_FROM_SOURCE (its dist/).
 */
export function startSnode(
  args: string[],
  env: Record<string, string> = {},
  opts: { cwd?: string; bin?: string; compiled?: boolean } = {},
): SnodeProcess {
  const childEnv = cleanEnv(env);
  if (opts.compiled) delete childEnv.SNODE_FROM_SOURCE;
  const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  const logs: any[] = [];
  let out = '';
  let err = '';
  let partial = '';
  const waiters: Array<{ event: string; resolve: (v: any) => void }> = [];
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => {
    const text = c.toString('utf8');
    err += text;
    partial += text;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      let v: any;
      try {
        v = JSON.parse(line);
      } catch {
        continue; // not every stderr line has to be JSON (e.g. a Node warning)
      }
      logs.push(v);
      for (const w of [...waiters]) {
        if (v.event === w.event) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(v);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => {
      started.delete(child);
      r({ code, signal });
    }),
  );
  return {
    child,
    logs,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(event, timeoutMs = 15_000) {
      const seen = logs.find((l) => l.event === event);
      if (seen) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const timer = setTimeout(
          () =>
            rej(
              new Error(
                `no ${event} log within ${timeoutMs} ms; stderr:\n${err.slice(-2000)}\nstdout:\n${out}`,
              ),
            ),
          timeoutMs,
        );
        const w = {
          event,
          resolve: (v: any) => {
            clearTimeout(timer);
            res(v);
          },
        };
        waiters.push(w);
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          rej(
            new Error(
              `process exited (${code ?? signal}) before ${event}; stderr:\n${err.slice(-2000)}\nstdout:\n${out}`,
            ),
          );
        });
      });
    },
  };
}

export async function exitWithin(
  p: SnodeProcess,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, rej) => {
    timer = setTimeout(
      () => rej(new Error(`did not exit within ${ms} ms; stderr:\n${p.stderr().slice(-2000)}`)),
      ms,
    );
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILL every child still running (an `after` hook's safety net). */
export function killStartedSnodes(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
