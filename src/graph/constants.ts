/**
 * Policy constants of the route server state machine (docs/protocol.md §4 and §9).
 * Every value is what the original JavaScript route server (cjdnsnode `server.js`) uses; a
 * different value changes replies or routes that cjdns nodes can observe.
 */

/**
 * How long an announcement stays relevant: older announcements of a node are dropped from its
 * kept list (docs/protocol.md §4.3) and link-state samples older than this are forgotten
 * (§4.6). Agreed with the cjdns C client, which re-announces everything before it expires.
 */
export const AGREED_TIMEOUT_MS = 20 * 60 * 1000;

/**
 * Largest accepted distance between our clock and the timestamp of an announcement sent by the
 * node itself (`fromNode`); exactly this much is still accepted (docs/protocol.md §4.2 step 4).
 */
export const MAX_CLOCK_SKEW_MS = 10 * 1000;

/** Clock skew tolerated between route servers (20 h); only used to derive the node expiry. */
export const MAX_GLOBAL_CLOCK_SKEW_MS = 20 * 60 * 60 * 1000;

/**
 * A node whose newest accepted announcement is older than this is forgotten (docs/protocol.md §4.7):
 * another route server may be up to 20 h off, and its last announcement is valid for 20 min.
 */
export const GLOBAL_TIMEOUT_MS = MAX_GLOBAL_CLOCK_SKEW_MS + AGREED_TIMEOUT_MS;

/** How often the caller should run `NodeTable.expire` (the original ran it on a 30 s timer). */
export const TABLE_CLEAN_CYCLE_MS = 30 * 1000;

/** cjdns takes one link-state sample per link every 10 s; one sample = one timeslot (§1.10, §4.6). */
export const TIMESLOT_MS = 10 * 1000;

/** Size of the link-state ring in a LinkState entity (cjdns `LinkState_SLOTS`). */
export const LINK_STATE_SLOTS = 18;

/** Link-state entries older than the agreed timeout, in timeslots (120). */
export const LINK_STATE_MAX_AGE_SLOTS = Math.floor(AGREED_TIMEOUT_MS / TIMESLOT_MS);

/**
 * Weight loss of a sample per timeslot of age: a sample `k` slots old counts `1 / (1 + k/18)`
 * (it halves after 18 slots = 3 min). Kept as the double `1/18` and multiplied, as the original
 * does: the exact floating-point order decides link values and therefore routes.
 */
export const DECAY_PER_TIMESLOT = 1 / 18;

/**
 * The route graph is rebuilt lazily by the first route query that finds it older than this
 * (docs/protocol.md §4.9); routes can therefore be up to 3 s stale. Exactly 3000 ms old is still used.
 */
export const GRAPH_REBUILD_AGE_MS = 3000;

/** The label of the route from a node to itself. */
export const SELF_ROUTE_LABEL = '0000.0000.0000.0001';

/** The Peer entity label that withdraws a link (docs/protocol.md §1.8). */
export const WITHDRAW_LABEL = '0000.0000.0000.0000';

/** Length of a stateHash (sha512). */
export const STATE_HASH_BYTES = 64;
