/**
 * The shipped native cluster (src/cluster/native/launcher.ts — the code behind `npm run cluster`) for
 * tests, plus the client side of the checks: subnode queries through HAProxy or to one process,
 * `/dump` as a set of announcement hashes, per-node stateHash through `pn`. Throws with a clear
 * message when redis-server or haproxy is missing.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  launchCluster,
  type LaunchedCluster,
  type LaunchOptions,
} from '../../src/cluster/native/launcher.ts';
import { annHash } from '../../src/protocol/announcement.ts';
import {
  bencodeDecode,
  bencodeEncode,
  isBDict,
  type BDict,
  type BInput,
} from '../../src/protocol/bencode.ts';
import { bytesToHex } from '../../src/protocol/hex.ts';
import { httpRequest } from './http.ts';

export type TestCluster = LaunchedCluster;

export async function startTestCluster(
  opts: Partial<LaunchOptions> & { processes: number },
): Promise<TestCluster> {
  const c = await launchCluster({ logLevel: 'warn', checkIntervalMs: 300, ...opts });
  const stop = c.stop;
  let stopping: Promise<void> | undefined;
  // the launcher keeps its logs for the operator; a test removes them once stopped
  return Object.assign(c, {
    stop: () => (stopping ??= stop().then(() => rmSync(c.dir, { recursive: true, force: true }))),
  });
}

/** The last lines of every log of the cluster (for failure messages). */
export function clusterLogs(c: TestCluster, lines = 15): string {
  const names = [...c.snodes.map((s) => `snode${s.index + 1}.log`), 'haproxy.log', 'redis.log'];
  return names
    .map((n) => {
      let text = '';
      try {
        text = readFileSync(join(c.dir, 'logs', n), 'utf8');
      } catch {
        text = '(none)';
      }
      return `--- ${n}\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
    })
    .join('\n');
}

export interface SubnodeReply {
  readonly status: number;
  readonly reply: BDict | null;
}

/** POST a subnode query as node `senderIp` (canonical) to `port` (HAProxy or one process). */
export async function postSubnode(
  port: number,
  query: { readonly [k: string]: BInput },
  senderIp: string,
  timeoutMs = 5000,
): Promise<SubnodeReply> {
  const res = await httpRequest(port, '/subnode', {
    method: 'POST',
    body: bencodeEncode(query),
    headers: {
      'content-type': 'application/x-bencode',
      'x-cjdns-ip': senderIp,
      'x-cjdns-version': '22',
    },
    timeoutMs,
  });
  if (res.status !== 200) return { status: res.status, reply: null };
  const v = bencodeDecode(new Uint8Array(res.body));
  return { status: res.status, reply: isBDict(v) ? v : null };
}

/** `/dump` of one process as the set of its kept announcements' hashes (hex). */
export async function dumpSet(port: number): Promise<Set<string>> {
  const res = await httpRequest(port, '/dump', { timeoutMs: 10_000 });
  if (res.status !== 200) throw new Error(`/dump answered ${res.status}`);
  const out = new Set<string>();
  const b = res.body;
  let off = 0;
  for (;;) {
    const len = b.readUInt32BE(off);
    off += 4;
    if (len === 0) break;
    out.add(bytesToHex(annHash(new Uint8Array(b.subarray(off, off + len)))));
    off += len;
  }
  return out;
}

/** The stateHash one process holds for `nodeIp` (a `pn` query sent as that node). */
export async function stateHashAt(port: number, nodeIp: string): Promise<string> {
  const r = await postSubnode(port, { sq: 'pn', txid: Uint8Array.of(0x70), p: 22 }, nodeIp);
  if (!r.reply) throw new Error(`pn to ${port} answered ${r.status}`);
  return bytesToHex(r.reply.stateHash as Uint8Array);
}

/** The `/readyz` body of one process, or undefined when it does not answer. */
export async function readyz(port: number): Promise<
  | {
      status: number;
      body: { ready?: boolean; checks?: Record<string, { ok: boolean; detail?: string }> };
    }
  | undefined
> {
  try {
    const res = await httpRequest(port, '/readyz', { timeoutMs: 2000 });
    return {
      status: res.status,
      body: JSON.parse(res.body.toString('utf8')) as { ready?: boolean },
    };
  } catch {
    return undefined;
  }
}
