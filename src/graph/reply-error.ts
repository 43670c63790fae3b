/**
 * The error strings of an `ann` reply exactly as they go on the wire (docs/protocol.md §4.2), and the
 * PascalCase `RejectReason` our logs and metrics use for every one of them except `none`.
 */

export const REPLY_ERRORS = [
  'none',
  'failed_parse_or_validate',
  'old_message',
  'wrong_snode',
  'excessive_clock_skew',
  'no_encodingScheme',
  'no_version',
  'unknown_node',
] as const;

export type ReplyError = (typeof REPLY_ERRORS)[number];

export type RejectReason =
  | 'FailedParseOrValidate'
  | 'OldMessage'
  | 'WrongSnode'
  | 'ExcessiveClockSkew'
  | 'NoEncodingScheme'
  | 'NoVersion'
  | 'UnknownNode';

export const REJECT_REASON_BY_REPLY_ERROR: Readonly<
  Record<Exclude<ReplyError, 'none'>, RejectReason>
> = {
  failed_parse_or_validate: 'FailedParseOrValidate',
  old_message: 'OldMessage',
  wrong_snode: 'WrongSnode',
  excessive_clock_skew: 'ExcessiveClockSkew',
  no_encodingScheme: 'NoEncodingScheme',
  no_version: 'NoVersion',
  unknown_node: 'UnknownNode',
};

/** The reject reason of a reply error; `undefined` for `none` (accepted, or an ignored old gossip). */
export function rejectReasonOf(error: ReplyError): RejectReason | undefined {
  return error === 'none' ? undefined : REJECT_REASON_BY_REPLY_ERROR[error];
}

export function isReplyError(s: string): s is ReplyError {
  return (REPLY_ERRORS as readonly string[]).includes(s);
}
