/**
 * The embedded announcement store of a single route-server process (docs/store.md): at start it
 * reads the announcement log, drops expired nodes and replays the rest into the route server —
 * before the process listens, so a restarted node's next announcement finds the kept list and
 * `stateHash` it expects — then records every change of the live announcements and tells the
 * `ann` path when they are durable (group commit, announcement-log.ts).
 *
 * Independent of the route server and of the cluster bus: the server is reached through
 * `RestoreTarget` (the wiring in app.ts adapts it) and the changes arrive as `put`/`delete`.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../log.ts';
import {
  AnnouncementLog,
  type AnnouncementLogOptions,
  type AnnouncementLogStatus,
  type CommitResult,
  type LiveAnnouncement,
  type LiveAnnouncements,
} from './announcement-log.ts';
import { HASH_BYTES, LOG_HEADER_BYTES, NODE_KEY_BYTES, RECORD_PREFIX_BYTES } from './log-format.ts';
import type { LogMedium } from './log-medium.ts';
import { openLogContents, type LogReadStats } from './log-reader.ts';
import { restorePlan, type RestoreNode } from './restore-plan.ts';
import { rememberDerivedNode } from '../protocol/announcement.ts';
import { ip6FromPublicKey, ip6ToString, publicKeyToString } from '../protocol/keys.ts';
import { StoreMetrics } from './store-metrics.ts';

export type { CommitResult, LiveAnnouncement, LiveAnnouncements } from './announcement-log.ts';

/** The route server as the store sees it. */
export interface RestoreTarget {
  /**
   * Rebuild one node from its stored announcements, oldest first (its reset first), applied the
   * way the cluster mode applies them (no clock, snode or signature checks; an announcement
   * already stored is skipped); resolve with each one's reply error. Several nodes are in
   * flight at once.
   */
  restoreNode(announcements: readonly Uint8Array[]): Promise<readonly string[]>;
  /**
   * A reload is starting: the target may defer work that the end of it does once (the route
   * trees build once, not every few thousand nodes). Returns what ends the bulk load; it is
   * called however the replay ends.
   */
  bulkLoad?(): () => void;
  /** the live announcements (the replication store), which a compaction writes */
  readonly live: LiveAnnouncements;
}

export interface OpenStoreOptions {
  readonly medium: LogMedium;
  readonly target: RestoreTarget;
  readonly log: Logger;
  readonly registry?: Registry;
  /** the server's clock (expiry of stored nodes) */
  readonly now: () => number;
  /** nodes being restored at once (default 256) */
  readonly replayWindow?: number;
  /** progress is logged this often during a long reload (default 2 s) */
  readonly progressEveryMs?: number;
  /** compaction tuning (tests) */
  readonly tuning?: Pick<
    AnnouncementLogOptions,
    'minCompactBytes' | 'compactFactor' | 'compactSliceRecords' | 'retryMs' | 'maxRetryMs'
  >;
}

export interface ReloadReport {
  readonly file: string;
  /** announcements replayed, and nodes they belong to */
  readonly announcements: number;
  readonly nodes: number;
  readonly expiredNodes: number;
  readonly expiredAnnouncements: number;
  /** replays the server answered with an error other than `none`, by error */
  readonly refused: Readonly<Record<string, number>>;
  readonly ms: number;
  readonly read: LogReadStats;
}

export class AnnouncementStore {
  private constructor(
    private readonly writer: AnnouncementLog,
    readonly report: ReloadReport,
  ) {}

  /** Read the log, replay it into `target`, and start recording (see the file comment). */
  static async open(opts: OpenStoreOptions): Promise<AnnouncementStore> {
    const t0 = performance.now();
    const { medium, log } = opts;
    const contents = await openLogContents(medium, log);
    const plan = restorePlan(contents.live, opts.now());
    // the plan holds the announcements now; the hashes are recomputed by the parse
    contents.live.length = 0;
    log.info(
      {
        event: 'store:reload:start',
        file: medium.description,
        bytes: contents.stats.bytes,
        announcements: plan.announcements,
        nodes: plan.nodes.length,
        expiredNodes: plan.expiredNodes,
      },
      'reloading the stored announcements',
    );
    const refused: Record<string, number> = {};
    const every = opts.progressEveryMs ?? 2000;
    let lastProgress = performance.now();
    let applied = 0;
    let liveBytes = LOG_HEADER_BYTES;
    for (const n of plan.nodes)
      for (const a of n.announcements)
        liveBytes += RECORD_PREFIX_BYTES + 1 + HASH_BYTES + a.length + NODE_KEY_BYTES;
    const endBulk = opts.target.bulkLoad?.();
    try {
      await replay(plan.nodes, opts.replayWindow ?? 256, opts.target, (errors) => {
        applied += errors.length;
        for (const error of errors)
          if (error !== 'none') refused[error] = (refused[error] ?? 0) + 1;
        if (performance.now() - lastProgress >= every) {
          lastProgress = performance.now();
          log.info(
            {
              event: 'store:reload:progress',
              announcements: applied,
              total: plan.announcements,
              ms: Math.round(lastProgress - t0),
            },
            'reloading the stored announcements',
          );
        }
      });
    } finally {
      endBulk?.();
    }
    const report: ReloadReport = {
      file: medium.description,
      announcements: plan.announcements,
      nodes: plan.nodes.length,
      expiredNodes: plan.expiredNodes,
      expiredAnnouncements: plan.expiredAnnouncements,
      refused,
      ms: Math.round(performance.now() - t0),
      read: contents.stats,
    };
    log.info(
      {
        event: 'store:reload:done',
        ...report,
        read: undefined,
        bytes: contents.stats.bytes,
        droppedBytes: contents.stats.droppedBytes,
      },
      'stored announcements reloaded',
    );
    const writer = new AnnouncementLog({
      medium,
      live: opts.target.live,
      log,
      initialBytes: contents.stats.bytes,
      metrics: new StoreMetrics(opts.registry),
      ...opts.tuning,
    });
    // a log holding much more than what survived (replaced, deleted, expired, refused) is
    // rewritten now, in the background
    if (contents.stats.bytes > 1.5 * liveBytes + 64 * 1024 || Object.keys(refused).length > 0)
      void writer.compact('reload');
    return new AnnouncementStore(writer, report);
  }

  /** An announcement entered the live set (the server accepted it). */
  put(ann: LiveAnnouncement): void {
    this.writer.put(ann);
  }

  /** An announcement left the live set. */
  delete(hash: Uint8Array): void {
    this.writer.delete(hash);
  }

  /** Resolves once everything recorded so far is durable (acknowledge a node's `ann` after it). */
  durable(): Promise<CommitResult> {
    return this.writer.durable();
  }

  compact(reason?: string): Promise<void> {
    return this.writer.compact(reason);
  }

  status(): AnnouncementLogStatus & { readonly file: string } {
    return { file: this.report.file, ...this.writer.status() };
  }

  /** For /readyz: not ok while writes fail (announcements are then acknowledged without being durable). */
  readiness(): { ok: boolean; detail: string } {
    const s = this.writer.status();
    if (s.state === 'ok') return { ok: true, detail: `durable (${this.report.file})` };
    return {
      ok: false,
      detail: s.state === 'closed' ? 'closed' : `writes failing: ${s.lastError ?? 'unknown error'}`,
    };
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}

/**
 * The node's identity as the log stored it, so that parsing its announcements costs no key
 * conversion (the log is our own, checksummed file: trusted as the memory it mirrors).
 */
function rememberIdentity(n: RestoreNode): void {
  const first = n.announcements[0]!;
  const nodeKey = n.nodeKey;
  rememberDerivedNode(first.subarray(64, 96), {
    nodeKey,
    nodePubKey: publicKeyToString(nodeKey),
    nodeIp: ip6ToString(ip6FromPublicKey(nodeKey)),
  });
}

/** Restore every node through `target`, at most `window` nodes in flight. */
async function replay(
  nodes: readonly RestoreNode[],
  window: number,
  target: RestoreTarget,
  done: (errors: readonly string[]) => void,
): Promise<void> {
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const settle = (errors: readonly string[]): void => {
    inFlight--;
    done(errors);
    const w = wake;
    wake = undefined;
    w?.();
  };
  let turn = performance.now();
  for (const node of nodes) {
    const anns = node.announcements;
    while (inFlight >= window) await new Promise<void>((r) => (wake = r));
    // let timers and worker messages through now and then (a target may restore synchronously)
    if (performance.now() - turn > 20) {
      await new Promise<void>((r) => setImmediate(r));
      turn = performance.now();
    }
    inFlight++;
    rememberIdentity(node);
    target.restoreNode(anns).then(settle, (e: unknown) => {
      const code =
        e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : 'failed';
      settle(anns.map(() => code));
    });
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
}
