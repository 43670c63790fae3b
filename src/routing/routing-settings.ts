/**
 * The `routing` section of the configuration: which route engine serves, and the tunables of
 * the fast one (README "Tunables"). The zod schema holds every default; `src/config.ts` mounts
 * it and maps the SNODE_ROUTING_* variables; routing-supervisor.ts turns it into the fast engine's
 * options.
 * Kept free of runtime imports so loading the configuration stays cheap.
 */
import { z } from 'zod';
import { ROUTE_POLICIES } from './route-policy.ts';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const routingSchema = z
  .object({
    /**
     * `fast`: subnode actors, verification workers, double-buffered tree replicas (answers equal
     * the reference's on each snapshot); `reference`: the original's single table and 3 s lazy
     * graph rebuild (what `snode replay` uses)
     */
    mode: z.enum(['fast', 'reference']).default('fast'),
    /**
     * `best`: the lowest-cost route whose label fits (finite costs for every link, a
     * canonical tie-break); `original`: exactly the original's route choice (what `snode replay`
     * and the shared scenarios use). docs/compatibility.md "Route policy".
     */
    policy: z.enum(ROUTE_POLICIES).default('best'),
    /** the standby tree is built and swapped in at least this often while updates wait */
    swapIntervalMs: int(10, 60_000).default(250),
    /** swap as soon as this many node updates wait */
    maxUpdatesPerSwap: int(1, 10_000_000).default(5000),
    /** destination shortest-path trees cached on the active snapshot (4 bytes per node each) */
    treeCacheSize: int(0, 100_000).default(64),
    /**
     * queries for one destination (per snapshot) after which its whole tree is grown in the
     * background (at least n/500 on large graphs; at most 8 trees per snapshot); 0 = never
     */
    hotDestinationQueries: int(0, 1_000_000).default(16),
    /** where the tree replicas build: a worker thread each, or the main thread */
    replicaBackend: z.enum(['worker', 'thread']).default('worker'),
    /** update batches queued per tree replica before the coordinator holds them back */
    replicaMailbox: int(4, 1_000_000).default(1024),
    /**
     * nice value of the tree replicas' worker threads (Linux; 0 = the main thread's priority): on
     * a machine whose cores are all busy, a query on the main thread gets the core before a
     * snapshot build (the builds keep up: a swap every 250 ms needs a few ms of a core)
     */
    replicaNice: int(0, 19).default(10),
    /** verification worker threads; `auto` = cores − 1 (at least 1); 0 = verify on the main thread */
    verifyWorkers: z.union([z.literal('auto'), int(0, 256)]).default('auto'),
    /**
     * verification worker threads while the initial sync from configured peers pulls (the
     * server is not ready yet); `auto` = cores − 1, as `verifyWorkers` (libsodium verifies as fast
     * as the main thread applies, docs/performance.md); never fewer than `verifyWorkers`
     */
    syncVerifyWorkers: z.union([z.literal('auto'), int(1, 256)]).default('auto'),
    /**
     * nice value of the verification worker threads (Linux; 0 = the main thread's priority):
     * on a busy machine a signature check waits for the core rather than a query
     */
    verifyWorkerNice: int(0, 19).default(10),
    /**
     * the verification worker threads run under SCHED_IDLE once the server serves (Linux, set
     * with util-linux `chrt`; where it cannot be, they keep their nice value): they use what the
     * main thread leaves of the cores, and give a core back the moment the main thread wakes up
     */
    verifyWorkerSchedIdle: z.boolean().default(true),
    /**
     * a verification worker that leaves a batch unanswered this long (ms) is taken for hung:
     * stopped and replaced, its batches refused with RS_ERR_WORKER_FAILED (replication asks again)
     */
    verifyBatchTimeoutMs: int(100, 3_600_000).default(10_000),
    /** announcements per batch sent to a verification worker */
    verifyBatchSize: int(1, 4096).default(64),
    /** announcements waiting for verification before new ones are refused */
    verifyMaxQueued: int(1, 10_000_000).default(10_000),
    /**
     * verified announcements are applied in slices of this many ms per event-loop turn (twice
     * that while other work such as queries took longer since the last slice), so that ingest
     * and queries share the main thread; 0 = a verification batch is applied all at once
     */
    ingestSliceMs: z.coerce.number().min(0).max(1000).default(1),
    /** announcements of one node waiting (for verification, or in its subnode actor's mailbox) before more are refused */
    subnodeMailbox: int(1, 1_000_000).default(64),
    /** a subnode actor idle this long is stopped (its record stays); 0 = never */
    subnodeIdleMs: int(0, 24 * 3_600_000).default(120_000),
  })
  .strict()
  .prefault({});

export type RoutingSettings = z.infer<typeof routingSchema>;

/** Every default of the section (the schema is the one place they are written). */
export const ROUTING_DEFAULTS: RoutingSettings = routingSchema.parse(undefined);
