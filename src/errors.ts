/**
 * Error registry. Every expected failure carries a stable `code` (RS_ERR_<AREA>_<WHAT>);
 * callers match on `code`, never on `instanceof` or message text. docs/errors.md documents
 * every code and a test keeps the two in step.
 */
export const ERROR_CODES = {
  // bytes and generic input
  RS_ERR_INPUT_TRUNCATED: 'input ended before a complete value was read',
  RS_ERR_INPUT_INVALID: 'input is malformed',
  RS_ERR_HEX_INVALID: 'not a valid hex string',
  // keys and addresses
  RS_ERR_KEY_INVALID: 'not a valid cjdns public key string',
  RS_ERR_KEY_NOT_CJDNS: 'key does not give an fc00::/8 cjdns address',
  RS_ERR_KEY_PRIVATE_INVALID: 'not a valid 32-byte private key',
  RS_ERR_KEY_CONVERSION: 'ed25519 public key cannot be converted to curve25519',
  RS_ERR_BASE32_INVALID: 'not valid cjdns base32',
  RS_ERR_IP6_INVALID: 'not a valid cjdns IPv6 address',
  RS_ERR_NODE_NAME_INVALID: 'not a valid cjdns node name',
  // routing labels and encoding schemes
  RS_ERR_LABEL_INVALID: 'not a valid routing label string',
  RS_ERR_LABEL_TOO_LONG: 'label would exceed 60 bits',
  RS_ERR_LABEL_NO_FORM: 'label matches no form of the encoding scheme',
  RS_ERR_LABEL_BAD_FORM: 'form number does not exist in the encoding scheme',
  RS_ERR_LABEL_DIRECTOR_TOO_WIDE: 'director does not fit the desired form',
  RS_ERR_LABEL_SELF_ROUTE: 'cannot re-encode the self route',
  RS_ERR_LABEL_NOT_ROUTED: 'label does not route through the given mid path',
  RS_ERR_SCHEME_INVALID: 'invalid encoding scheme',
  // announcements and entities
  RS_ERR_ANN_RUNT: 'announcement shorter than its 120-byte header',
  RS_ERR_ANN_BAD_SIGNATURE: 'announcement signature verification failed',
  RS_ERR_ANN_NODE_NOT_FC: 'announcing node address does not start with fc',
  RS_ERR_ANN_SNODE_NOT_FC: 'snode address does not start with fc',
  RS_ERR_ANN_ZERO_LENGTH_ENTITY: '0 length entity in message',
  RS_ERR_ANN_GARBAGE_AFTER_ENTITIES: 'garbage after the last announcement entity',
  RS_ERR_ANN_NOT_SENDER: 'announcement signed by another node than the one that sent it',
  RS_ERR_ENTITY_RUNT: 'entity shorter than its type requires',
  RS_ERR_ENTITY_BAD_LENGTH: 'entity has an invalid length',
  RS_ERR_ENTITY_INVALID: 'entity content is invalid',
  RS_ERR_LINK_STATE_INVALID: 'invalid link-state entity',
  // encodings on the wire
  RS_ERR_BENCODE_INVALID: 'invalid bencode',
  RS_ERR_SUBNODE_INVALID: 'invalid subnode message',
  RS_ERR_HEADER_INVALID: 'invalid cjdns wire header',
  RS_ERR_ADMIN_INVALID: 'invalid cjdns admin API message',
  RS_ERR_PEER_FRAME_INVALID: 'invalid replication peer frame',
  // runtime
  RS_ERR_CONFIG_INVALID: 'invalid configuration',
  RS_ERR_CLI_USAGE: 'invalid command-line usage',
  RS_ERR_HTTP_NOT_FOUND: 'no such path',
  RS_ERR_HTTP_BAD_REQUEST: 'bad request',
  RS_ERR_HTTP_BODY_TOO_LARGE: 'request body too large',
  RS_ERR_HTTP_BUSY: 'too many heavy requests in progress',
  RS_ERR_HTTP_TOO_MANY_REQUESTS: 'too many heavy requests from this client in progress',
  RS_ERR_HTTP_UNAUTHORIZED: 'the admin listener needs its bearer token',
  RS_ERR_HTTP_FORBIDDEN: 'not served to this client',
  RS_ERR_ROUTE_FAILED: 'route computation failed',
  RS_ERR_MAILBOX_FULL: 'actor mailbox is full',
  RS_ERR_QUERY_TIMEOUT: 'actor query timed out',
  RS_ERR_VERIFY_QUEUE_FULL: 'announcement verification queue is full',
  RS_ERR_WORKER_FAILED: 'a worker thread failed',
  RS_ERR_PEER_QUEUE_FULL: 'peer send queue is full',
  RS_ERR_PEER_PROTOCOL: 'peer violated the replication protocol',
  RS_ERR_ADMIN_TIMEOUT: 'cjdns admin API call timed out',
  RS_ERR_ADMIN_AUTH: 'cjdns admin API authentication failed',
  RS_ERR_ADMIN_CALL: 'cjdns admin API call returned an error',
  RS_ERR_ADMIN_SEND: 'could not send a datagram to the cjdns admin API',
  RS_ERR_ADMIN_BUSY: 'too many cjdns admin API calls waiting',
  RS_ERR_ADMIN_CLOSED: 'the cjdns admin API client is closed',
  RS_ERR_CJDNS_HANDLER: 'cannot bind or register the cjdns handler socket',
  RS_ERR_CLUSTER_ENVELOPE: 'invalid cluster bus envelope',
  RS_ERR_CLUSTER_NOT_DURABLE: 'the cluster bus could not make the announcement durable',
  RS_ERR_CLUSTER_CATCHING_UP: 'this process has not caught up with the cluster for that node',
  RS_ERR_CLUSTER_UNAUTHENTICATED: 'cluster bus envelope not sealed with the cluster key',
  // peering seeder
  RS_ERR_SEEDER_RECORD_INVALID: 'invalid peering credential record',
  RS_ERR_SEEDER_POST_REFUSED: 'peering credentials refused',
  RS_ERR_SEEDER_PASSWORD: 'unknown seeder password',
  RS_ERR_INTERNAL: 'internal error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class RsError extends Error {
  readonly code: ErrorCode;
  readonly context: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { cause?: unknown; context?: Record<string, unknown> },
  ) {
    super(
      message ?? ERROR_CODES[code],
      options?.cause !== undefined ? { cause: options.cause } : undefined,
    );
    this.name = 'RsError';
    this.code = code;
    this.context = options?.context;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isRsError(e: unknown): e is RsError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { name?: unknown }).name === 'RsError' &&
    typeof (e as { code?: unknown }).code === 'string'
  );
}

/** Expected failures as values (STYLE: "expected failures are values, bugs are exceptions"). */
export type Result<T, E = RsError> = { ok: true; value: T } | { ok: false; error: E };

/** Run `fn`; an RsError becomes `{ok:false}`, any other exception is a bug and propagates. */
export function attempt<T>(fn: () => T): Result<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (isRsError(e)) return { ok: false, error: e };
    throw e;
  }
}
