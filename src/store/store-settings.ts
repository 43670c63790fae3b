/**
 * The `store` section of the configuration (docs/store.md): where a single process keeps its
 * accepted announcements across restarts. Mounted by src/config.ts; kept free of runtime
 * imports so loading the configuration stays cheap.
 */
import { z } from 'zod';

export const DEFAULT_STORE_PATH = '.snode/announcements.log';

export const storeSchema = z
  .object({
    /**
     * file: the announcement log at `path` (the default of `snode serve`); memory: the same
     * store without a file (tests, replay; nothing survives the process); off: no store. A
     * cluster (cluster.redisUrl) and an edge (cluster.forwardSubnodeUrl) never use it.
     */
    mode: z.enum(['file', 'memory', 'off']).default('file'),
    /** the announcement log (under $STATE_DIRECTORY when systemd sets it) */
    path: z.string().min(1).default(DEFAULT_STORE_PATH),
  })
  .strict()
  .default({ mode: 'file', path: DEFAULT_STORE_PATH });

export type StoreSettings = z.infer<typeof storeSchema>;
