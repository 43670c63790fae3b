/**
 * The peering seeder's subnode query and reply (docs/seeder.md).
 *
 * Query: `sq: "pc"`, `pc` = a binary credential record (peering-credentials.ts), plus the usual
 * `txid`, `p`, `es`, `ei`. No `pc`, or no `txid`: no reply (the newest Rust port's rule).
 *
 * Reply: a new dictionary `{txid, p, recvTime, pr}` on success (`pr` = the peers to connect to,
 * a record of peer TLVs only, possibly empty), or `{txid, p, recvTime, err}` on failure (`err`
 * cut to 128 bytes). `p` is required: the C node drops any reply without a non-zero `p`.
 */
import { RsError } from '../errors.ts';
import { type BDict, utf8Bytes } from './bencode.ts';

export const PC_ERROR_MAX_BYTES = 128;

export interface PcQuery {
  readonly kind: 'pc';
  readonly raw: BDict;
  readonly txid: Uint8Array;
  /** the credential record; undefined when the key is missing (no reply) */
  readonly pc: Uint8Array | undefined;
  readonly p?: number;
}

function invalid(message: string): RsError {
  return new RsError('RS_ERR_SUBNODE_INVALID', `invalid subnode message: ${message}`);
}

/** The fields of a `pc` query; RS_ERR_SUBNODE_INVALID for a missing `txid` or a field of the wrong type. */
export function parsePcQuery(raw: BDict): PcQuery {
  const txid = raw.txid;
  if (!(txid instanceof Uint8Array))
    throw invalid(txid === undefined ? 'missing txid' : 'txid is not a byte string');
  const pc = raw.pc;
  if (pc !== undefined && !(pc instanceof Uint8Array)) throw invalid('pc is not a byte string');
  const p = raw.p;
  if (p !== undefined && typeof p !== 'number') throw invalid('p is not an integer');
  return { kind: 'pc', raw, txid, pc, ...(p !== undefined ? { p } : {}) };
}

/** Cut UTF-8 text to at most `max` bytes without splitting a character. */
function cutUtf8(text: string, max: number): Uint8Array {
  const bytes = utf8Bytes(text);
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.slice(0, end);
}

export type PcOutcome = { readonly pr: Uint8Array } | { readonly err: string };

export function buildPcReply(args: {
  txid: Uint8Array;
  p: number;
  recvTime: number;
  outcome: PcOutcome;
}): BDict {
  if (!Number.isInteger(args.p) || args.p <= 0) throw invalid('a pc reply needs a positive p');
  const out: BDict = { txid: args.txid, p: args.p, recvTime: args.recvTime };
  if ('pr' in args.outcome) out.pr = args.outcome.pr;
  else out.err = cutUtf8(args.outcome.err, PC_ERROR_MAX_BYTES);
  return out;
}
