/**
 * Subnode queries (`sq: ann | gr | pn`) in, reply dictionaries out, exactly as the original
 * (docs/protocol.md §5.3); `sq: pc` (the peering seeder, docs/seeder.md) as the Rust port answers it.
 * Transport-independent: the cjdns handler link and `POST /subnode` both call it.
 */
import type { AnnounceOutcome } from '../graph/apply-announcement.ts';
import type { GrRoute } from '../routing/route-answer.ts';
import { zeroStateHash } from '../graph/state-hash.ts';
import type { BDict } from '../protocol/bencode.ts';
import { bytesToHex } from '../protocol/hex.ts';
import { formatLabel } from '../protocol/routing-label.ts';
import { ip6ToString } from '../protocol/keys.ts';
import {
  buildAnnReply,
  buildGrReply,
  buildPnReply,
  encodeRouteN,
  encodeRouteNp,
  parseSubnodeQuery,
  type SubnodeQuery,
} from '../protocol/subnode-message.ts';
import { buildPcReply, type PcOutcome } from '../protocol/seeder-message.ts';
import type { Sender } from './sender.ts';

/** What the handler needs from the route server. */
export interface SubnodeHandlerDeps {
  now(): number;
  /** our protocol version, `p` of `ann` replies */
  selfVersion(): number;
  /** a node's own announcement; `sender` must have signed it (the ingest funnel checks) */
  announce(bytes: Uint8Array, sender: Sender): Promise<AnnounceOutcome>;
  routeForGr(srcIp: string, dstIp: string): GrRoute | null;
  stateHashOf(ip: string): Uint8Array | undefined;
  /** the peering seeder: a node's credential record in, `pr` or `err` out */
  postCredentials(senderIp: string, record: Uint8Array): PcOutcome;
}

export interface SubnodeResult {
  readonly kind: SubnodeQuery['kind'];
  /** the reply dictionary, or null when the original sends no reply */
  readonly reply: BDict | null;
  /** what an answered `ann` or `gr` did, for its log line (docs/logs.md) */
  readonly answered?: AnnAnswered | GrAnswered;
}

export interface AnnAnswered {
  /** the announcing node (an `ann` comes from the node itself) */
  readonly node: string;
  readonly error: AnnounceOutcome['error'];
  /** the first 16 hex digits of the stateHash in the reply */
  readonly stateHash: string;
}

export interface GrAnswered {
  readonly src: string;
  readonly dst: string;
  readonly found: boolean;
  readonly label?: string;
}

/** Throws RsError RS_ERR_SUBNODE_INVALID for a malformed query (the original: no reply). */
export async function handleSubnodeQuery(
  deps: SubnodeHandlerDeps,
  dict: BDict,
  sender: Sender,
): Promise<SubnodeResult> {
  const q = parseSubnodeQuery(dict);
  switch (q.kind) {
    case 'ann': {
      if (q.ann === undefined) return { kind: q.kind, reply: null };
      const outcome = await deps.announce(q.ann, sender);
      const reply = buildAnnReply({
        txid: q.txid,
        error: outcome.error,
        p: deps.selfVersion(),
        recvTime: deps.now(),
        stateHash: outcome.stateHash,
      });
      const answered = {
        node: sender.ip,
        error: outcome.error,
        stateHash: bytesToHex(outcome.stateHash.subarray(0, 8)),
      };
      return { kind: q.kind, reply, answered };
    }
    case 'gr': {
      if (q.src === undefined || q.tar === undefined) return { kind: q.kind, reply: null };
      const src = ip6ToString(q.src);
      const dst = ip6ToString(q.tar);
      const route = deps.routeForGr(src, dst);
      const recvTime = deps.now();
      const reply = route
        ? buildGrReply(q.raw, {
            recvTime,
            n: encodeRouteN(route.key, route.label),
            np: encodeRouteNp(route.version),
          })
        : buildGrReply(q.raw, { recvTime });
      const answered = route
        ? { src, dst, found: true, label: formatLabel(route.label) }
        : { src, dst, found: false };
      return { kind: q.kind, reply, answered };
    }
    case 'pn':
      return {
        kind: q.kind,
        reply: buildPnReply(q.raw, {
          recvTime: deps.now(),
          stateHash: deps.stateHashOf(sender.ip) ?? zeroStateHash(),
        }),
      };
    case 'pc': {
      if (q.pc === undefined) return { kind: q.kind, reply: null };
      const outcome = deps.postCredentials(sender.ip, q.pc);
      return {
        kind: q.kind,
        reply: buildPcReply({ txid: q.txid, p: deps.selfVersion(), recvTime: deps.now(), outcome }),
      };
    }
    case 'other':
    case 'dht':
      return { kind: q.kind, reply: null };
  }
}

/** The query kind of a dictionary without validating it further (for forwarded frames' metrics). */
export function subnodeKindOf(dict: BDict): SubnodeQuery['kind'] {
  const sq = dict.sq;
  if (sq === undefined) return 'dht';
  if (!(sq instanceof Uint8Array)) return 'other';
  const name = Buffer.from(sq).toString('latin1');
  return name === 'ann' || name === 'gr' || name === 'pn' || name === 'pc' ? name : 'other';
}
