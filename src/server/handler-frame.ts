/**
 * One datagram from cjdns' UpperDistributor handler socket → the reply datagram (docs/protocol.md §6.2):
 * RouteHeader ‖ DataHeader ‖ bencoded content. Frames that are not CJDHT, carry no `sq`, lack a
 * key, IPv6 or version, or are malformed get no reply.
 */
import { isRsError } from '../errors.ts';
import { bencodeDecode, bencodeEncode, isBDict, type BDict } from '../protocol/bencode.ts';
import {
  CONTENT_TYPE_CJDHT,
  buildHandlerFrame,
  buildReplyRouteHeader,
  parseHandlerFrame,
} from '../protocol/wire-headers.ts';
import type { Sender } from './sender.ts';
import type { SubnodeResult } from './subnode-handler.ts';

export type FrameOutcome =
  | { readonly kind: 'reply'; readonly frame: Uint8Array; readonly query: SubnodeResult['kind'] }
  | { readonly kind: 'no_reply'; readonly query: SubnodeResult['kind'] }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string };

export async function handleHandlerFrame(
  bytes: Uint8Array,
  handle: (dict: BDict, sender: Sender) => Promise<SubnodeResult>,
): Promise<FrameOutcome> {
  let frame;
  let dict: BDict | undefined;
  try {
    frame = parseHandlerFrame(bytes);
    if (frame.routeHeader.isCtrl || frame.dataHeader?.contentTypeNumber !== CONTENT_TYPE_CJDHT) {
      return { kind: 'ignored', reason: 'not a CJDHT data frame' };
    }
    dict = asDict(bencodeDecode(frame.content));
  } catch (e) {
    if (isRsError(e)) return { kind: 'malformed', reason: e.message };
    throw e;
  }
  if (dict === undefined) return { kind: 'malformed', reason: 'content is not a dictionary' };
  if (dict.sq === undefined) return { kind: 'ignored', reason: 'no sq (ordinary DHT traffic)' };
  const rh = frame.routeHeader;
  // JS: a version of 0 is replaced by the query's p before anything else.
  const p = typeof dict.p === 'number' ? dict.p : undefined;
  const version = rh.version === 0 && p !== undefined ? p : rh.version;
  if (!rh.keyBytes || !rh.ip || version === 0)
    return { kind: 'ignored', reason: 'no key, IPv6 or version' };
  let result: SubnodeResult;
  try {
    result = await handle(dict, { key: rh.keyBytes, ip: rh.ip, version });
  } catch (e) {
    if (isRsError(e)) return { kind: 'malformed', reason: e.message };
    throw e;
  }
  if (result.reply === null) return { kind: 'no_reply', query: result.kind };
  try {
    const replyHeader = buildReplyRouteHeader(rh, p !== undefined ? { version: p } : {});
    const out = buildHandlerFrame({
      routeHeader: replyHeader,
      content: bencodeEncode(result.reply),
    });
    return { kind: 'reply', frame: out, query: result.kind };
  } catch (e) {
    // cjdnshdr throws on a switch-header version it cannot write: the original sends nothing.
    if (isRsError(e)) return { kind: 'malformed', reason: e.message };
    throw e;
  }
}

function asDict(v: unknown): BDict | undefined {
  return isBDict(v) ? v : undefined;
}
