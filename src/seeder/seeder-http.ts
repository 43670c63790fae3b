/**
 * The seeder's HTTP API for testers and nameservers (docs/seeder.md), transport-independent:
 *
 *   GET  /seeder-peers?passwd=<pw>   200 JSON array of SeederListPeer
 *   POST /seeder-testres             JSON {passwd, nodes: [{addr, ip6, error}]} → 200 `{}`
 *
 * An unknown password is 400 with the text body `Unknown password` (the Rust port's answer,
 * which its clients expect); every other bad request is an RsError (400 JSON). The body has
 * already been read within the HTTP server's size limit.
 */
import { z } from 'zod';
import { RsError } from '../errors.ts';
import { peerAddressFromString } from '../protocol/peering-text.ts';
import type { Seeder, TestResult } from './seeder.ts';

export interface SeederHttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

const JSON_TYPE = 'application/json';
const UNKNOWN_PASSWORD: SeederHttpAnswer = {
  status: 400,
  contentType: 'text/plain; charset=utf-8',
  body: 'Unknown password',
};

/** Serde's view of `SeederTestRes`: extra keys ignored, a missing `error` is null. */
const testResSchema = z.object({
  passwd: z.string(),
  nodes: z.array(
    z.object({
      addr: z.string().max(64),
      ip6: z.string().max(64),
      error: z.string().max(4096).nullable().optional(),
    }),
  ),
});

function badRequest(message: string): RsError {
  return new RsError('RS_ERR_HTTP_BAD_REQUEST', message);
}

export function seederPeers(
  seeder: Seeder,
  query: URLSearchParams,
  nowSec: number,
): SeederHttpAnswer {
  const passwd = query.get('passwd');
  if (passwd === null) throw badRequest('passwd is required');
  const r = seeder.list(passwd, nowSec);
  if (!r.ok) return UNKNOWN_PASSWORD;
  return { status: 200, contentType: JSON_TYPE, body: JSON.stringify(r.peers) };
}

export function seederTestResults(
  seeder: Seeder,
  body: Uint8Array,
  nowSec: number,
): SeederHttpAnswer {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    throw badRequest('the body is not JSON');
  }
  const parsed = testResSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw badRequest(`invalid test results: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const results: TestResult[] = parsed.data.nodes.map((n, index) => {
    try {
      return { addr: peerAddressFromString(n.addr), ip6: n.ip6, error: n.error ?? null };
    } catch {
      throw badRequest(`invalid test results: nodes.${index}.addr is not an ip:port address`);
    }
  });
  const r = seeder.testResults(parsed.data.passwd, results, nowSec);
  if (r.ok) return { status: 200, contentType: JSON_TYPE, body: '{}' };
  if (r.reason === 'unknown_password') return UNKNOWN_PASSWORD;
  throw badRequest(
    `nodes.${r.index}.ip6 is not a full cjdns IPv6 (fcxx:xxxx:…:xxxx); ${r.applied} result(s) before it were applied`,
  );
}
