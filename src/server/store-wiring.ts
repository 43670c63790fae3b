/**
 * The route server and its announcement store (src/store, docs/store.md): the server seen as the
 * store's restore target, and the listener that records every change of the live announcements.
 */
import type { AnnouncementStore, RestoreTarget } from '../store/announcement-store.ts';
import type { RouteServer } from './route-server.ts';

/**
 * Replays go through the cluster apply mode: the announcements were verified when accepted, and
 * they are addressed to us (so no self check), older than the clock allows (so no clock check);
 * an announcement already stored is skipped. One node's announcements are applied one after
 * the other (a node may keep more than its mailbox holds).
 */
export function restoreTargetOf(server: RouteServer): RestoreTarget {
  return {
    restoreNode: async (announcements) => {
      const errors: string[] = [];
      for (const a of announcements) errors.push((await server.submitAnnouncement(a, 'cluster')).error);
      return errors;
    },
    live: server.store,
  };
}

/** From now on every accepted announcement is a PUT and every deleted hash a DEL. Returns the detach. */
export function recordChanges(server: RouteServer, store: AnnouncementStore): () => void {
  return server.addListener({
    accepted: (ann) => store.put(ann.hash, ann.binary),
    deleted: (hash) => store.delete(hash),
  });
}
