/**
 * Why a replication peer was disconnected (STYLE: every disconnect has a name). Each drop records
 * one of these, logs it once (`peer:ws:dropped` / `peer:ws:closed`) and counts it in
 * `snode_peer_disconnects_total{reason}`.
 */
export const DISCONNECT_REASONS = {
  RemoteClosed: 'the remote closed the connection',
  SocketError: 'socket error',
  BadFrame: 'undecodable or invalid frame (msgpack, seq, type or arguments)',
  FrameTooLarge: 'websocket message larger than replication.maxFrameBytes',
  InvTooLarge: 'INV with more hashes than replication.maxInvHashes',
  WrongGreeting: 'HELLO on an incoming or OLLEH on an outgoing connection',
  UnknownDataSeq: 'DATA for a sequence number never requested',
  WrongData: 'DATA that is not the announcement requested (its sha512 is not the hash asked for)',
  Resync: 'advertised hashes did not fit the want list: the next session reads the inventory again',
  SendQueueFull: 'send queue over replication.sendQueueLimit / sendQueueMaxBytes',
  SendStalled: 'the peer read nothing for replication.sendStallTimeoutMs',
  MailboxFull: 'the peer actor mailbox overflowed (replication.mailboxLimit)',
  Idle: 'no message for replication.dropAfterMs',
  RequestTimeouts: 'replication.maxConsecutiveTimeouts GET_DATA requests timed out in a row',
  NotAllowed: 'remote address not in replication.allowList',
  TooManyPeers: 'replication.maxInboundPeers reached',
  TooManyFromAddress: 'replication.maxInboundPeersPerAddress reached for the remote address',
  Shutdown: 'the server is shutting down',
  Crashed: 'the peer actor crashed (a bug)',
} as const;

export type DisconnectReason = keyof typeof DISCONNECT_REASONS;

const MISBEHAVIOUR: ReadonlySet<DisconnectReason> = new Set<DisconnectReason>([
  'BadFrame',
  'FrameTooLarge',
  'InvTooLarge',
  'WrongGreeting',
  'UnknownDataSeq',
  'WrongData',
  'SendQueueFull',
  'SendStalled',
  'MailboxFull',
  'Idle',
  'RequestTimeouts',
  'NotAllowed',
  'TooManyPeers',
  'TooManyFromAddress',
  'Crashed',
]);

/** The remote broke a rule or a limit (logged at warn; the others at info). */
export function isMisbehaviour(reason: DisconnectReason): boolean {
  return MISBEHAVIOUR.has(reason);
}

/**
 * How we end the socket: a close frame with a code (RFC 6455 7.4.1), or `terminate` when the
 * peer is not reading and a close handshake cannot complete.
 */
export function closeActionOf(
  reason: DisconnectReason,
): { terminate: true } | { terminate: false; code: number } {
  switch (reason) {
    case 'SendQueueFull':
    case 'SendStalled':
    case 'MailboxFull':
    case 'Idle':
    case 'RemoteClosed':
    case 'SocketError':
      return { terminate: true };
    case 'FrameTooLarge':
      return { terminate: false, code: 1009 };
    case 'Shutdown':
      return { terminate: false, code: 1001 };
    case 'Resync':
      return { terminate: false, code: 1000 };
    case 'Crashed':
      return { terminate: false, code: 1011 };
    default:
      return { terminate: false, code: 1008 };
  }
}
