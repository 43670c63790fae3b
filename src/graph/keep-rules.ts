/**
 * Which announcements of a node are kept (JS `addAnnouncement`, docs/protocol.md §4.3).
 *
 * Entities are non-ephemeral (Version, EncodingScheme, Peer) or ephemeral (LinkState and unknown
 * types). An announcement is kept while one of its non-ephemeral entities has not been replaced
 * by a newer one; the newest announcement is always kept (it may be an empty keep-alive);
 * anything older than the agreed timeout is dropped whatever it carries.
 *
 * The rule itself is `Replacements` (the entities seen walking from newest to oldest), shared by
 * both stores: `applyKeepRules` walks a record object's Announcement list, the compact table
 * (compact-table.ts) walks arena ids with the keys read from the bytes.
 */
import type { Announcement } from '../protocol/announcement-types.ts';
import { AGREED_TIMEOUT_MS } from './constants.ts';

/** Keep-rule key of a non-ephemeral entity: a Peer's peerNum (≥ 0), or one of these. */
export const KEEP_KEY_VERSION = -1;
export const KEEP_KEY_ENCODING_SCHEME = -2;

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
  const seen = SHARED;
  seen.clear();
  const kept: Announcement[] = [];
  const dropped: Announcement[] = [];
  const list = [newAnn, ...current];
  for (const a of list) {
    if (a.timestamp < sinceTime) {
      dropped.push(a);
      continue;
    }
    let needed = false;
    for (const e of a.entities) {
      if (e.type === 'Version') needed = seen.addVersion() || needed;
      else if (e.type === 'EncodingScheme') needed = seen.addEncodingScheme() || needed;
      else if (e.type === 'Peer') needed = seen.addPeer(e.peerNum) || needed;
    }
    if (needed || a === newAnn) kept.push(a);
    else dropped.push(a);
  }
  return { kept, dropped };
}

/**
 * The non-ephemeral entities already seen while walking a kept list from newest to oldest.
 * Entity `a` replaces `b` iff same type and (Version, or EncodingScheme, or Peers with equal
 * peerNum). Reusable (`clear`): peerNums of cjdns (u16) are marked in a stamped array, anything
 * else in a Set.
 */
export class Replacements {
  private version = false;
  private encodingScheme = false;
  private stamp = 1;
  private readonly seen = new Uint32Array(0x10000);
  private readonly others = new Set<number>();

  /** Start a new walk. */
  clear(): void {
    this.version = false;
    this.encodingScheme = false;
    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    if (this.others.size > 0) this.others.clear();
  }

  /** Mark a key (KEEP_KEY_* or a peerNum); true if it was not replaced yet (the entity is needed). */
  add(key: number): boolean {
    if (key === KEEP_KEY_VERSION) return this.addVersion();
    if (key === KEEP_KEY_ENCODING_SCHEME) return this.addEncodingScheme();
    return this.addPeer(key);
  }

  addVersion(): boolean {
    if (this.version) return false;
    return (this.version = true);
  }

  addEncodingScheme(): boolean {
    if (this.encodingScheme) return false;
    return (this.encodingScheme = true);
  }

  addPeer(key: number): boolean {
    if (key >= 0 && key <= 0xffff && Number.isInteger(key)) {
      if (this.seen[key] === this.stamp) return false;
      this.seen[key] = this.stamp;
      return true;
    }
    if (this.others.has(key)) return false;
    this.others.add(key);
    return true;
  }
}

/** The walk of applyKeepRules (synchronous: one at a time). */
const SHARED = new Replacements();
