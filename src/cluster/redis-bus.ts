/**
 * The cluster bus on Redis (ioredis). Keys, under a configurable prefix `P`:
 *
 *   P:record         stream: one entry per accepted announcement, fields `p` (id of the previous
 *                    entry) and `e` (envelope); trimmed with XADD MAXLEN ~ <streamMaxLen>
 *   P:last           id of the newest entry (what the next entry's `p` will be)
 *   P:node:<ipv6>    snapshot record of one node (`<id> <SNAPSHOT envelope>`), expiring with the
 *                    node (GLOBAL_TIMEOUT_MS after its last write)
 *   P:frames         pub/sub channel: `<id> <prevId> <envelope>` for every new entry
 *
 * One Lua script does XADD + SET last + SET snapshot + PUBLISH atomically, so the record, the
 * snapshots and the live frames can never disagree, and frames are published in record order.
 * A re-published entry's snapshot is conditional (ClusterAppend.snapshotIf): the script sets it
 * only while the key names no entry newer than the publisher's state of the node.
 *
 * Two connections (a subscribed connection cannot run commands):
 *  - commands: enableOfflineQueue false, maxRetriesPerRequest 0, autoResendUnfulfilledCommands
 *    false — a command issued while Redis is away fails at once instead of waiting in ioredis'
 *    unbounded offline queue, and a command in flight when the connection drops fails instead of
 *    being silently re-sent. The cluster actor owns the (bounded) backlog and re-publishes it in
 *    order; duplicates from "executed, but the reply was lost" are removed by the receivers.
 *    commandTimeout bounds a hung Redis.
 *  - subscriber: autoResubscribe false — we subscribe ourselves on every `ready` and only then
 *    report `up`, so the actor's gap repair starts after the subscription is live (nothing falls
 *    between the repair read and the first live frame).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { CLUSTER_DEFAULTS } from './cluster-settings.ts';
import type { Logger } from '../log.ts';
import { describeRedisTarget } from './redis-target.ts';
export { redactRedisUrl } from './redis-target.ts';
import { silentLogger } from '../log.ts';
import {
  STREAM_ID_ZERO,
  decodeClusterFrame,
  decodeSnapshotRecord,
  isStreamId,
  type ClusterFrame,
} from '../protocol/cluster-envelope.ts';
import type {
  ClusterAppend,
  ClusterBus,
  ClusterBusEvents,
  ClusterRecordEntry,
  ClusterRecordInfo,
  ClusterSnapshotEntry,
} from './bus.ts';

/** a node's snapshot outlives it by nothing: GLOBAL_TIMEOUT_MS (20 h 20 min, docs/protocol.md §4.7) */
export const SNAPSHOT_TTL_MS = 73_200_000;

export interface RedisClusterBusOptions {
  /** redis://[:password@]host:port[/db]; or, with `sentinels`, none */
  readonly url?: string;
  /** Redis Sentinel: the sentinels to ask for the current primary of `sentinelMaster` */
  readonly sentinels?: readonly { readonly host: string; readonly port: number }[];
  /** the master name the sentinels monitor */
  readonly sentinelMaster?: string;
  /** password of the sentinels themselves (their `requirepass`), if any */
  readonly sentinelPassword?: string;
  /** password (and ACL user) of the data nodes; overrides the URL's */
  readonly password?: string;
  readonly username?: string;
  /** database number (sentinel mode; the URL's path otherwise) */
  readonly db?: number;
  /** key and channel prefix (several clusters may share one Redis) */
  readonly prefix?: string;
  /** approximate stream bound (XADD MAXLEN ~) */
  readonly streamMaxLen?: number;
  /** a command without a reply after this long fails (the announcement goes to the backlog) */
  readonly commandTimeoutMs?: number;
  /**
   * An append is durable only once this many replicas acknowledged it (Redis WAIT, one WAIT
   * for every append that arrived meanwhile); 0 = once the primary stored it. With Sentinel,
   * 1 makes an acknowledged announcement survive the primary's loss (docs/cluster.md).
   */
  readonly waitReplicas?: number;
  /** how long WAIT waits for the replicas (must stay below commandTimeoutMs) */
  readonly waitTimeoutMs?: number;
  readonly log?: Logger;
}

/** a connection's step after `ready` that failed while it stayed ready is tried again after this (ms) */
const READY_STEP_RETRY_MS = 500;
/** a connection the Redis client gave up (status `end`) while the bus is open is connected again after this (ms) */
const REVIVE_MS = 500;

/** the record entry's field names (APPEND_LUA): `p` the previous entry's id, `e` the envelope */
const FIELD_P = 0x70;
const FIELD_E = 0x65;

/**
 * ARGV[6]: '' writes the snapshot unconditionally; a stream id W writes it only while the
 * snapshot key is absent or names an id not newer than W ('0-0': only while it is absent; a key
 * whose id cannot be read holds nothing usable and is replaced). Ids are compared part by part as
 * decimal strings (exact beyond 2^53).
 */
const APPEND_LUA = `
local function newer(a, b)
  local am, as = string.match(a, '^(%d+)%-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)%-(%d+)$')
  if not am or not bm then return false end
  local function gt(x, y)
    if #x ~= #y then return #x > #y end
    return x > y
  end
  if am ~= bm then return gt(am, bm) end
  return gt(as, bs)
end
local prev = redis.call('GET', KEYS[2])
if not prev then prev = '0-0' end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'p', prev, 'e', ARGV[2])
redis.call('SET', KEYS[2], id)
if ARGV[4] ~= '' then
  local write = true
  if ARGV[6] ~= '' then
    local head = redis.call('GETRANGE', KEYS[3], 0, 41)
    if head ~= '' then
      local held = string.match(head, '^(%S+) ')
      write = held == nil or not newer(held, ARGV[6])
    end
  end
  if write then
    redis.call('SET', KEYS[3], id .. ' ' .. ARGV[4], 'PX', ARGV[5])
  end
end
redis.call('PUBLISH', ARGV[3], id .. ' ' .. prev .. ' ' .. ARGV[2])
return id
`;

interface AppendCommand {
  snodeClusterAppend(
    record: string,
    last: string,
    snapshotKey: string,
    maxLen: number,
    envelope: Buffer,
    channel: string,
    snapshot: Buffer,
    ttl: number,
    snapshotUpTo: string,
  ): Promise<string>;
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export class RedisClusterBus implements ClusterBus {
  readonly kind = 'redis' as const;
  readonly prefix: string;
  private readonly keys: { record: string; last: string; channel: string; nodePrefix: string };
  private readonly streamMaxLen: number;
  private readonly log: Logger;
  private cmd: (Redis & AppendCommand) | undefined;
  private sub: Redis | undefined;
  private events: ClusterBusEvents | undefined;
  private cmdReady = false;
  private serverProblem: string | undefined;
  /** group commit of WAIT: the WAIT in flight and the one every later append joins */
  private waitInFlight: Promise<void> | undefined;
  private waitNext: Promise<void> | undefined;
  private subscribed = false;
  private reportedUp = false;
  private closed = false;
  private lastErrorLog = 0;

  constructor(private readonly opts: RedisClusterBusOptions) {
    this.prefix = opts.prefix ?? CLUSTER_DEFAULTS.prefix;
    this.keys = {
      record: `${this.prefix}:record`,
      last: `${this.prefix}:last`,
      channel: `${this.prefix}:frames`,
      nodePrefix: `${this.prefix}:node:`,
    };
    this.streamMaxLen = opts.streamMaxLen ?? CLUSTER_DEFAULTS.streamMaxLen;
    this.log = opts.log ?? silentLogger();
  }

  async start(events: ClusterBusEvents): Promise<void> {
    this.events = events;
    const common: RedisOptions = {
      lazyConnect: true,
      connectTimeout: 2000,
      // reconnect quickly and forever: the cluster converges as soon as Redis is back
      retryStrategy: (times) => Math.min(100 * times, 1000),
      enableReadyCheck: true,
      // a primary demoted by a failover answers READONLY: find the new one (never re-send)
      reconnectOnError: (e) => (e.message.startsWith('READONLY') ? 1 : false),
      ...(this.opts.password !== undefined ? { password: this.opts.password } : {}),
      ...(this.opts.username !== undefined ? { username: this.opts.username } : {}),
    };
    const sentinel: RedisOptions | undefined =
      this.opts.sentinels && this.opts.sentinels.length > 0
        ? {
            sentinels: this.opts.sentinels.map((x) => ({ host: x.host, port: x.port })),
            name: this.opts.sentinelMaster ?? 'snode',
            role: 'master',
            db: this.opts.db ?? 0,
            ...(this.opts.sentinelPassword !== undefined
              ? { sentinelPassword: this.opts.sentinelPassword }
              : {}),
            // the sentinels announce a failover (+switch-master): reconnect at once
            failoverDetector: true,
            sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
          }
        : undefined;
    const connect = (o: RedisOptions): Redis =>
      sentinel
        ? new Redis({ ...o, ...sentinel })
        : new Redis(this.opts.url ?? 'redis://127.0.0.1:6379', o);
    const cmd = connect({
      ...common,
      connectionName: `${this.prefix}-cmd`,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.opts.commandTimeoutMs ?? 3000,
    }) as Redis & AppendCommand;
    cmd.defineCommand('snodeClusterAppend', { numberOfKeys: 3, lua: APPEND_LUA });
    const sub = connect({
      ...common,
      connectionName: `${this.prefix}-sub`,
      // SUBSCRIBE is our only command here, sent on `ready`
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      autoResubscribe: false,
    });
    this.cmd = cmd;
    this.sub = sub;

    // before reporting up: a Redis that may evict keys cannot hold the record
    this.afterEachReady(cmd, 'command', async () => {
      await this.checkServer(cmd);
      this.cmdReady = true;
      this.updateUp();
    });
    cmd.on('close', () => {
      this.cmdReady = false;
      this.updateUp('command connection closed');
    });
    cmd.on('error', (e: Error) => this.logError('command', e));
    this.reviveWhenGivenUp(cmd, 'command');
    this.afterEachReady(sub, 'subscribe', async () => {
      await sub.subscribe(this.keys.channel);
      this.subscribed = true;
      this.updateUp();
    });
    sub.on('close', () => {
      this.subscribed = false;
      this.updateUp('subscriber connection closed');
    });
    sub.on('error', (e: Error) => this.logError('subscriber', e));
    this.reviveWhenGivenUp(sub, 'subscriber');
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString('latin1') !== this.keys.channel) return;
      let frame: ClusterFrame;
      try {
        // a copy (bus.ts): the envelope's views outlive the connection's buffer
        frame = decodeClusterFrame(new Uint8Array(message));
      } catch (e) {
        this.log.warn(
          { event: 'cluster:frame:malformed', err: e },
          'ignored a malformed cluster frame',
        );
        return;
      }
      this.events?.frame(frame);
    });
    cmd.connect().catch(() => undefined);
    sub.connect().catch(() => undefined);
  }

  connected(): boolean {
    return !this.closed && this.cmdReady && this.subscribed;
  }

  problem(): string | undefined {
    return this.serverProblem;
  }

  /**
   * What the Redis we reached must be to hold the record: a primary (a replica refuses writes),
   * and with `maxmemory-policy noeviction` — any other policy may evict the record or the node
   * snapshots under memory pressure, silently losing acknowledged announcements (the snapshots
   * carry a TTL, so even the volatile-* policies would). At maxmemory with noeviction, Redis
   * refuses the write instead (OOM) and nothing is acknowledged.
   */
  private async checkServer(cmd: Redis): Promise<void> {
    const memory = parseInfo(String(await cmd.info('memory')));
    const policy = memory.get('maxmemory_policy');
    const problem =
      policy !== undefined && policy !== 'noeviction'
        ? `Redis maxmemory-policy is ${policy}: it may evict acknowledged announcements; set maxmemory-policy noeviction`
        : undefined;
    if (problem !== this.serverProblem) {
      if (problem)
        this.log.error(
          { event: 'cluster:redis:unsafe', policy, redis: describeRedisTarget(this.opts) },
          problem,
        );
      else if (this.serverProblem)
        this.log.info({ event: 'cluster:redis:safe', policy }, 'Redis no longer evicts keys');
    }
    this.serverProblem = problem;
  }

  async append(input: ClusterAppend): Promise<string> {
    const cmd = this.requireCmd();
    const id = await cmd.snodeClusterAppend(
      this.keys.record,
      this.keys.last,
      this.keys.nodePrefix + input.nodeIp,
      this.streamMaxLen,
      toBuffer(input.envelope),
      this.keys.channel,
      input.snapshot ? toBuffer(input.snapshot) : Buffer.alloc(0),
      SNAPSHOT_TTL_MS,
      input.snapshotIf ? (input.snapshotIf.upTo ?? STREAM_ID_ZERO) : '',
    );
    if ((this.opts.waitReplicas ?? 0) > 0) await this.replicated();
    return String(id);
  }

  /**
   * Resolves once `waitReplicas` replicas acknowledged every write sent before this call (one
   * WAIT sent after it returns); rejects (NOREPLICAS …) when fewer did within waitTimeoutMs.
   * Appends arriving while a WAIT is in flight share the next one.
   */
  private replicated(): Promise<void> {
    if (!this.waitInFlight) return this.startWait();
    if (!this.waitNext) {
      // every append arriving while a WAIT is in flight joins one WAIT sent after it
      this.waitNext = this.waitInFlight
        .catch(() => undefined)
        .then(() => {
          this.waitNext = undefined;
          return this.startWait();
        });
    }
    return this.waitNext;
  }

  private startWait(): Promise<void> {
    const want = this.opts.waitReplicas ?? 0;
    const timeout = this.opts.waitTimeoutMs ?? 1000;
    const run = (async () => {
      const got = Number(await this.requireCmd().wait(want, timeout));
      if (got < want)
        throw new Error(
          `NOREPLICAS ${got} of ${want} replica(s) acknowledged within ${timeout} ms`,
        );
    })();
    const inFlight = run.finally(() => {
      if (this.waitInFlight === inFlight) this.waitInFlight = undefined;
    });
    this.waitInFlight = inFlight;
    return inFlight;
  }

  async readAfter(afterId: string, count: number): Promise<ClusterRecordEntry[]> {
    const cmd = this.requireCmd();
    const rows = await cmd.xrangeBuffer(this.keys.record, `(${afterId}`, '+', 'COUNT', count);
    const out: ClusterRecordEntry[] = [];
    for (const [idBuf, fields] of rows) {
      const id = idBuf.toString('latin1');
      let prevId: string | undefined;
      let envelope: Uint8Array | undefined;
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const name = fields[i]!;
        if (name.length !== 1) continue;
        if (name[0] === FIELD_P) prevId = fields[i + 1]!.toString('latin1');
        else if (name[0] === FIELD_E) envelope = new Uint8Array(fields[i + 1]!); // a copy (bus.ts)
      }
      if (prevId === undefined || envelope === undefined || !isStreamId(prevId)) {
        // Pass it on with an empty envelope: the follower counts it malformed and moves past it.
        // Dropping it here left the position behind it for good (endless repairs, or a full
        // resync when a later entry pointed back at it). In XRANGE order its predecessor is the
        // previous row (or where we read from).
        this.log.warn({ event: 'cluster:record:malformed', id }, 'record entry without p/e fields');
        out.push({
          id,
          prevId: out.length > 0 ? out[out.length - 1]!.id : afterId,
          envelope: new Uint8Array(0),
        });
        continue;
      }
      out.push({ id, prevId, envelope });
    }
    return out;
  }

  async info(): Promise<ClusterRecordInfo> {
    const cmd = this.requireCmd();
    const [last, length] = await Promise.all([cmd.get(this.keys.last), cmd.xlen(this.keys.record)]);
    let trimmed = false;
    if (length > 0) {
      const raw = (await cmd.xinfo('STREAM', this.keys.record)) as unknown[];
      for (let i = 0; i + 1 < raw.length; i += 2) {
        if (raw[i] === 'entries-added') trimmed = Number(raw[i + 1]) > length;
      }
    }
    return { lastId: last && isStreamId(last) ? last : STREAM_ID_ZERO, length, trimmed };
  }

  async snapshotId(nodeIp: string): Promise<string | undefined> {
    // the id is the snapshot record's first word: a stream id is at most 41 characters
    const head = await this.requireCmd().getrange(this.keys.nodePrefix + nodeIp, 0, 41);
    const id = head.split(' ')[0];
    return id && isStreamId(id) ? id : undefined;
  }

  async *snapshots(batchSize: number): AsyncIterable<ClusterSnapshotEntry[]> {
    const cmd = this.requireCmd();
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await cmd.scan(
        cursor,
        'MATCH',
        `${this.keys.nodePrefix}*`,
        'COUNT',
        batchSize,
      );
      cursor = next;
      const fresh = keys.filter((k) => !seen.has(k));
      for (const k of fresh) seen.add(k);
      if (fresh.length === 0) continue;
      const values = await cmd.mgetBuffer(fresh);
      const batch: ClusterSnapshotEntry[] = [];
      fresh.forEach((key, i) => {
        const v = values[i];
        if (!v) return; // expired between SCAN and MGET
        try {
          const rec = decodeSnapshotRecord(new Uint8Array(v)); // a copy (bus.ts)
          batch.push({
            nodeIp: key.slice(this.keys.nodePrefix.length),
            id: rec.id,
            envelope: rec.envelope,
          });
        } catch (e) {
          this.log.warn(
            { event: 'cluster:snapshot:malformed', key, err: e },
            'ignored a malformed node snapshot',
          );
        }
      });
      if (batch.length > 0) yield batch;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events = undefined;
    for (const c of [this.sub, this.cmd]) {
      if (!c) continue;
      c.removeAllListeners('ready');
      c.disconnect(false);
    }
  }

  private requireCmd(): Redis & AppendCommand {
    if (this.closed || !this.cmd) throw new Error('the cluster bus is closed');
    return this.cmd;
  }

  /**
   * Run `step` once `conn` is ready, after every (re)connection. A step that fails while the
   * connection stays ready (a command timed out on a busy or just-promoted Redis) is tried again
   * after READY_STEP_RETRY_MS: waiting for the next `ready` could mean waiting for ever, with the
   * bus reported down although connected. A step that fails because the connection dropped is
   * left to the next `ready`.
   */
  private afterEachReady(conn: Redis, what: string, step: () => Promise<void>): void {
    const attempt = (): void => {
      if (this.closed || conn.status !== 'ready') return;
      step().catch((e: Error) => {
        this.logError(what, e);
        setTimeout(attempt, READY_STEP_RETRY_MS).unref();
      });
    };
    conn.on('ready', attempt);
  }

  /**
   * Connect `conn` again, every REVIVE_MS for as long as the bus is open, once ioredis has given
   * it up (status `end`). ioredis retries a connection that drops, but not one whose connector
   * fails: a sentinel lookup cut short by the sentinels' failover notice (`+switch-master`,
   * which closes the connector while it is still asking where the primary is) ends the
   * connection for good, and the process would stay off the cluster until restarted.
   */
  private reviveWhenGivenUp(conn: Redis, what: string): void {
    conn.on('end', () => {
      if (this.closed) return;
      this.logError(what, new Error('the Redis client gave the connection up; connecting again'));
      setTimeout(() => {
        if (!this.closed && conn.status === 'end') conn.connect().catch(() => undefined);
      }, REVIVE_MS).unref();
    });
  }

  private updateUp(reason?: string): void {
    const up = this.connected();
    if (up === this.reportedUp) return;
    this.reportedUp = up;
    if (up) {
      this.log.info(
        { event: 'cluster:redis:up', redis: describeRedisTarget(this.opts) },
        'cluster bus connected',
      );
      this.events?.up();
    } else {
      this.log.warn({ event: 'cluster:redis:down', reason }, 'cluster bus disconnected');
      this.events?.down(reason ?? 'disconnected');
    }
  }

  private logError(which: string, e: Error): void {
    // ioredis reports every failed reconnect; one line every 5 s is enough
    const now = Date.now();
    if (now - this.lastErrorLog < 5000) return;
    this.lastErrorLog = now;
    this.log.warn(
      { event: 'cluster:redis:error', connection: which, err: e.message },
      'cluster bus connection error',
    );
  }
}

/** `INFO` text → field → value. */
function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}
