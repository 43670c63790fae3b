/**
 * Which announcements of a node are kept (JS `addAnnouncement`, docs/protocol.md §4.3).
 *
 * Entities are non-ephemeral (Version, EncodingScheme, Peer) or ephemeral (LinkState and unknown
 * types). An announcement is kept while one of its non-ephemeral entities has not been replaced
 * by a newer one; the newest announcement is always kept (it may be an empty keep-alive);
 * anything older than the agreed timeout is dropped whatever it carries.
 */
import type { Announcement } from '../protocol/announcement-types.ts';
import { AGREED_TIMEOUT_MS } from './constants.ts';
import {
  KEEP_KEY_ENCODING_SCHEME,
  KEEP_KEY_VERSION,
  KeptAnnouncement,
} from './kept-announcement.ts';

export interface KeepResult {
  /** the new kept list, newest first */
  readonly kept: Announcement[];
  /** every announcement that fell out of the list, in list order (newest first) */
  readonly dropped: Announcement[];
}

/**
 * Prepend `newAnn` to `current` (newest first) and apply the keep rules. Identity, not the hash,
 * tells the new announcement apart, as in the original (`a === ann`): an older copy of the same
 * bytes is an ordinary older announcement.
 */
export function applyKeepRules(current: readonly Announcement[], newAnn: Announcement): KeepResult {
  const sinceTime = newAnn.timestamp - AGREED_TIMEOUT_MS;
  const seen = new ReplacementSet();
  const kept: Announcement[] = [];
  const dropped: Announcement[] = [];
  const list = [newAnn, ...current];
  for (const a of list) {
    if (a.timestamp < sinceTime) {
      dropped.push(a);
      continue;
    }
    const needed = seen.addAll(a);
    if (needed || a === newAnn) kept.push(a);
    else dropped.push(a);
  }
  return { kept, dropped };
}

/**
 * The entities already seen while walking from newest to oldest. Entity `a` replaces `b` iff
 * same type and (Version, or EncodingScheme, or Peers with equal peerNum).
 */
class ReplacementSet {
  private version = false;
  private encodingScheme = false;
  private readonly peerNums = new Set<number>();

  /** Add the announcement's non-ephemeral entities; true if any of them was not yet replaced. */
  addAll(ann: Announcement): boolean {
    if (ann instanceof KeptAnnouncement) return this.addKeys(ann.keepKeys);
    let needed = false;
    for (const e of ann.entities) {
      switch (e.type) {
        case 'Version':
          if (!this.version) needed = this.version = true;
          break;
        case 'EncodingScheme':
          if (!this.encodingScheme) needed = this.encodingScheme = true;
          break;
        case 'Peer':
          if (!this.peerNums.has(e.peerNum)) {
            this.peerNums.add(e.peerNum);
            needed = true;
          }
          break;
        case 'LinkState':
          break;
      }
    }
    return needed;
  }

  /** The same for a compact announcement's keys (kept-announcement.ts). */
  private addKeys(keys: readonly number[]): boolean {
    let needed = false;
    for (const k of keys) {
      if (k === KEEP_KEY_VERSION) {
        if (!this.version) needed = this.version = true;
      } else if (k === KEEP_KEY_ENCODING_SCHEME) {
        if (!this.encodingScheme) needed = this.encodingScheme = true;
      } else if (!this.peerNums.has(k)) {
        this.peerNums.add(k);
        needed = true;
      }
    }
    return needed;
  }
}
