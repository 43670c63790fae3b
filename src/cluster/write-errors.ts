/**
 * Why a write to the cluster bus failed, as one short label for the metric
 * `snode_cluster_write_errors_total{reason}`, the log and `/readyz`. Redis answers a refused
 * command with an error whose first word says why (`OOM command not allowed when used memory >
 * 'maxmemory'`, `READONLY You can't write against a read only replica`, …); ioredis adds its own
 * for timeouts and closed connections. Anything else is `other` — still a failure: the entry is
 * not durable and the announcement is not acknowledged (docs/cluster.md, "The guarantee").
 */

export type WriteErrorReason =
  | 'oom'
  | 'readonly'
  | 'auth'
  | 'noperm'
  | 'masterdown'
  | 'loading'
  | 'busy'
  | 'noreplicas'
  | 'timeout'
  | 'connection'
  | 'other';

const PREFIXES: ReadonlyArray<readonly [string, WriteErrorReason]> = [
  ['OOM', 'oom'],
  ['READONLY', 'readonly'],
  ['NOAUTH', 'auth'],
  ['WRONGPASS', 'auth'],
  ['NOPERM', 'noperm'],
  ['MASTERDOWN', 'masterdown'],
  ['LOADING', 'loading'],
  ['BUSY', 'busy'],
  ['NOREPLICAS', 'noreplicas'],
];

/** The reason label of a failed write (an Error from ioredis, or our own). */
export function writeErrorReason(e: unknown): WriteErrorReason {
  const msg = e instanceof Error ? e.message : String(e);
  // a Lua script's error is prefixed by where it happened: look at every word start
  for (const [prefix, reason] of PREFIXES) {
    if (
      msg.startsWith(prefix) ||
      msg.includes(` ${prefix} `) ||
      msg.includes(`-${prefix} `) ||
      msg.includes(`: ${prefix}`)
    )
      return reason;
  }
  if (/timed out|timeout/i.test(msg)) return 'timeout';
  if (/closed|not writeable|ECONNRE|EPIPE|connect|offline|disconnect/i.test(msg))
    return 'connection';
  return 'other';
}
