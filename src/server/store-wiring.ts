/**
 * The route server and its announcement store (src/store, docs/store.md): opening the store for
 * a single process (the reload before it listens), the server seen as the store's restore
 * target, and the listener that records every change of the live announcements.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../log.ts';
import {
  AnnouncementStore,
  type LiveAnnouncement,
  type RestoreTarget,
} from '../store/announcement-store.ts';
import { bytesEqual } from '../protocol/hex.ts';
import { FileLogMedium } from '../store/file-log-medium.ts';
import type { LogMedium } from '../store/log-medium.ts';
import { MemoryLogMedium } from '../store/memory-log-medium.ts';
import type { StoreSettings } from '../store/store-settings.ts';
import type { RouteServer } from './route-server.ts';

/**
 * Replays go through the cluster apply mode (`RouteServer.restoreNode`): the announcements were
 * verified when accepted, and they are addressed to us (so no self check) and older than the
 * clock allows (so no clock check); an announcement already stored is skipped.
 */
export function restoreTargetOf(server: RouteServer): RestoreTarget {
  return {
    restoreNode: (announcements) => server.restoreNode(announcements),
    bulkLoad: () => server.holdRouteUpdates(),
    live: { entries: () => liveAnnouncements(server) },
  };
}

/**
 * What a compaction writes: node by node in `nodesByIp` order, each node's reset, then its kept
 * announcements oldest first — exactly the replication store's content (every node's reset and
 * kept ones), in an order whose replay rebuilds each node and the original's node order.
 */
function* liveAnnouncements(server: RouteServer): Iterable<LiveAnnouncement> {
  for (const rec of server.nodes) {
    const nodeKey = rec.keyBytes;
    const reset = rec.resetMsg;
    yield { hash: reset.hash, binary: reset.binary, nodeKey };
    const kept = rec.announcements;
    for (let i = kept.length - 1; i >= 0; i--) {
      const a = kept[i]!;
      if (a !== reset && !bytesEqual(a.hash, reset.hash))
        yield { hash: a.hash, binary: a.binary, nodeKey };
    }
  }
}

/** From now on every accepted announcement is a PUT and every deleted hash a DEL. Returns the detach. */
export function recordChanges(server: RouteServer, store: AnnouncementStore): () => void {
  return server.addListener({
    accepted: (ann) => store.put({ hash: ann.hash, binary: ann.binary, nodeKey: ann.nodeKey }),
    deleted: (hash) => store.delete(hash),
  });
}

export interface ServerStoreOptions {
  readonly settings: StoreSettings;
  /** a cluster keeps its state in Redis; an edge process holds none */
  readonly clustered: boolean;
  readonly log: Logger;
  readonly registry?: Registry;
  /** a medium to use instead of the one the settings name (tests restart on it) */
  readonly medium?: LogMedium;
}

/**
 * Open the store of a single process, reload it into `server`, record from then on and make
 * every `ann` reply wait for the store's commit; undefined
 * when the store is off or the process is part of a cluster. Call before anything else can
 * change the server (the ways in are still closed).
 */
export async function openServerStore(
  server: RouteServer,
  o: ServerStoreOptions,
): Promise<AnnouncementStore | undefined> {
  const { mode, path } = o.settings;
  if (mode === 'off' || o.clustered) {
    if (mode !== 'off')
      o.log.info(
        { event: 'store:disabled', reason: 'cluster' },
        'no announcement log: the cluster keeps its state in Redis',
      );
    return undefined;
  }
  const medium =
    o.medium ?? (mode === 'file' ? await FileLogMedium.open(path) : new MemoryLogMedium());
  const store = await AnnouncementStore.open({
    medium,
    target: restoreTargetOf(server),
    log: o.log,
    registry: o.registry,
    now: () => server.clock.now(),
  });
  recordChanges(server, store);
  // every `ann` reply waits for the group commit that holds what it changed
  server.setDurability(() => store.durable());
  return store;
}
