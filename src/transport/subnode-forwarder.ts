/**
 * The cjdns edge (docs/cluster.md): a process attached to cjdroute forwards each subnode query to
 * the pool through HAProxy (`POST /subnode`, the HTTP subnode API) and hands the reply back to
 * cjdns, instead of answering it itself. The sender's route-header fields travel as `x-cjdns-*`
 * headers; `x-cjdns-ip` is always the canonical 39-character form, which is what HAProxy hashes
 * on, so all of one node's announcements reach the same process. `x-cjdns-sq` names the query
 * (`ann`, `gr`, `pn`, `pc`, `other`): HAProxy sends `pc` to the process holding the peering
 * seeder (docs/seeder.md).
 *
 * Connections are kept alive (one bounded node:http Agent); a request reused on a socket the
 * server had just closed is retried once (the keep-alive race), nothing else is retried. A failure
 * (timeout, connection error, non-200/204 status, a reply that is not a bencoded dictionary) is
 * reported through `onError` and yields null: no reply, as the original sends none on error —
 * the cjdns node asks again.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { RsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { bencodeDecode, bencodeEncode, isBDict, type BDict } from '../protocol/bencode.ts';
import { bytesToHex } from '../protocol/hex.ts';
import type { Sender } from '../server/sender.ts';
import { subnodeKindOf } from '../server/subnode-handler.ts';

export type SubnodeForwardFn = (dict: BDict, sender: Sender) => Promise<BDict | null>;

export interface SubnodeForwarderOptions {
  /** e.g. http://127.0.0.1:3333/subnode (HAProxy in front of the pool) */
  readonly url: string;
  /** whole request deadline (default 5000 ms; cjdns itself gives up sooner) */
  readonly timeoutMs?: number;
  /** sockets to the pool (default 32) */
  readonly maxSockets?: number;
  /** largest accepted reply (default 64 KiB) */
  readonly maxReplyBytes?: number;
  readonly log?: Logger;
  /** told about every failed forward (metrics) */
  readonly onError?: (error: RsError) => void;
}

export interface SubnodeForwarder {
  readonly forward: SubnodeForwardFn;
  close(): void;
}

/** the keep-alive race: an idle socket closed by HAProxy just as we reused it */
const IDLE_SOCKET_TIMEOUT_MS = 15_000;

interface Reply {
  readonly status: number;
  readonly body: Buffer;
}

export function createSubnodeForwarder(opts: SubnodeForwarderOptions): SubnodeForwarder {
  const target = new URL(opts.url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new RsError(
      'RS_ERR_CONFIG_INVALID',
      `forward URL must be http:// or https://, not ${opts.url}`,
    );
  }
  const https = target.protocol === 'https:';
  const agentOpts = {
    keepAlive: true,
    maxSockets: opts.maxSockets ?? 32,
    maxFreeSockets: opts.maxSockets ?? 32,
    timeout: IDLE_SOCKET_TIMEOUT_MS,
    scheduling: 'lifo' as const,
  };
  const agent = https ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxReply = opts.maxReplyBytes ?? 64 * 1024;

  const once = (body: Uint8Array, headers: Record<string, string>): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          path: `${target.pathname}${target.search}`,
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': String(body.length) },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxReply) {
              res.destroy(
                new RsError('RS_ERR_SUBNODE_INVALID', `reply larger than ${maxReply} bytes`),
              );
              return;
            }
            chunks.push(c);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () =>
        req.destroy(
          new RsError(
            'RS_ERR_QUERY_TIMEOUT',
            `no reply from ${target.host} within ${timeoutMs} ms`,
          ),
        ),
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        (e as { reused?: boolean }).reused = req.reusedSocket;
        reject(e);
      });
      req.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });

  const fail = (e: unknown, what: string): null => {
    const err =
      e instanceof RsError
        ? e
        : new RsError('RS_ERR_INTERNAL', `${what}: ${(e as Error)?.message ?? String(e)}`, {
            cause: e,
          });
    opts.log?.warn(
      {
        event: 'cluster:forward:failed',
        url: `${target.host}${target.pathname}`,
        err: err.message,
      },
      'subnode query not forwarded',
    );
    opts.onError?.(err);
    return null;
  };

  const forward: SubnodeForwardFn = async (dict, sender) => {
    let body: Uint8Array;
    try {
      body = bencodeEncode(dict);
    } catch (e) {
      return fail(e, 'cannot encode the query');
    }
    const headers: Record<string, string> = {
      'content-type': 'application/x-bencode',
      'x-cjdns-ip': sender.ip,
      'x-cjdns-version': String(sender.version),
      'x-cjdns-sq': subnodeKindOf(dict),
    };
    if (sender.key) headers['x-cjdns-key'] = bytesToHex(sender.key);
    let reply: Reply;
    try {
      try {
        reply = await once(body, headers);
      } catch (e) {
        const err = e as NodeJS.ErrnoException & { reused?: boolean };
        if (!(err.reused && err.code === 'ECONNRESET')) throw e;
        reply = await once(body, headers);
      }
    } catch (e) {
      return fail(e, `POST ${target.host}${target.pathname} failed`);
    }
    if (reply.status === 204) return null;
    if (reply.status !== 200) {
      return fail(
        new RsError(
          'RS_ERR_SUBNODE_INVALID',
          `the pool answered HTTP ${reply.status}: ${reply.body.toString('utf8').slice(0, 200)}`,
        ),
        'forward',
      );
    }
    let value;
    try {
      value = bencodeDecode(
        new Uint8Array(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength),
      );
    } catch (e) {
      return fail(e, 'the pool replied with invalid bencode');
    }
    if (!isBDict(value))
      return fail(
        new RsError('RS_ERR_SUBNODE_INVALID', 'the pool replied with a non-dictionary'),
        'forward',
      );
    return value;
  };

  return { forward, close: () => agent.destroy() };
}
