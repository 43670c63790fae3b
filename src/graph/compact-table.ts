/**
 * The fast engine's node table (issue 17): `nodesByIp` with the original's order, and
 * docs/protocol.md §4.2 applied to records whose state lives in arenas (compact-record.ts) — no
 * object, Map or ArrayBuffer per link, per sample or per kept announcement, and the kept
 * announcements' bytes held once, in the announcement arena the replication store shares.
 *
 * The steps are the ones of apply-announcement.ts (the reference engine's record objects, and
 * this table's oracle in the tests): the same checks (`admit`), the same keep rule
 * (`Replacements`), the same peer rules and link-state arithmetic (`applyLinkStateTo`), the same
 * stateHash chain, and the same order of what the replication store adds and deletes.
 *
 * An apply is all or nothing for the kept list: the new list is written into a new block and
 * installed only after the Peer and LinkState entities were applied, so a throw half-way (a
 * broken invariant) leaves the record's kept list and reset as they were — what `rebuild`
 * replays. A reset builds a new record and installs it (same position in `nodesByIp`) when done.
 */
import { hash as digest } from 'node:crypto';
import type { Announcement } from '../protocol/announcement-types.ts';
import type { LinkStateEntity, PeerEntity } from '../protocol/entity-types.ts';
import { parseAnnouncement } from '../protocol/announcement.ts';
import {
  admit,
  type AnnounceInput,
  type AnnounceOptions,
  type AnnounceOutcome,
} from './apply-announcement.ts';
import type { AnnArena } from './ann-arena.ts';
import { CompactNodeRecord, CompactStore } from './compact-record.ts';
import {
  AGREED_TIMEOUT_MS,
  GLOBAL_TIMEOUT_MS,
  STATE_HASH_BYTES,
  WITHDRAW_LABEL,
} from './constants.ts';
import type { GraphTables } from './id-tables.ts';
import { Replacements } from './keep-rules.ts';
import { LinkArena } from './link-arena.ts';
import { applyLinkStateTo } from './link-state.ts';
import { timeslotOf } from './node-record.ts';
import { ArenaAnnouncement, parsedFromBytes } from './stored-announcement.ts';
import type {
  ClusterDelta,
  ClusterDeltaLinkUpdate,
  ClusterDeltaPeer,
} from '../protocol/cluster-delta.ts';
import type { LinkUpdates } from './record-delta.ts';
import { zeroStateHash } from './state-hash.ts';

export class CompactNodeTable implements Iterable<CompactNodeRecord> {
  readonly store: CompactStore;
  private readonly byIp = new Map<string, CompactNodeRecord>();
  private readonly seen = new Replacements();
  private keys: Int32Array = new Int32Array(64);
  /** what the last apply did to the links (record deltas, `linkUpdatesOf`): a link was added,
   *  replaced or removed (or a reset), else the links whose fields changed */
  private structureChanged = false;
  private readonly changedLinks: number[] = [];
  private foldInput = Buffer.allocUnsafe(4096);
  /** applyDelta's link ids of the updates it installs (reused: applies are synchronous) */
  private readonly deltaLinks: number[] = [];

  constructor(tables: GraphTables, anns: AnnArena) {
    this.store = new CompactStore(tables, anns, new LinkArena());
  }

  /** ip → record in the original's insertion order (read-only: mutate through this class). */
  get nodesByIp(): ReadonlyMap<string, CompactNodeRecord> {
    return this.byIp;
  }

  get(ip: string): CompactNodeRecord | undefined {
    return this.byIp.get(ip);
  }

  get size(): number {
    return this.byIp.size;
  }

  [Symbol.iterator](): IterableIterator<CompactNodeRecord> {
    return this.byIp.values();
  }

  /** Inward links held, every node together. */
  linkCount(): number {
    return this.store.links.size;
  }

  /**
   * docs/protocol.md §4.2 for the announcement's node. An accepted announcement is copied into
   * the announcement arena (`outcome.accepted` is its arena view), unless `annId` names it there
   * already (a rebuild replaying the node's own kept announcements).
   */
  apply(input: AnnounceInput, opts: AnnounceOptions): AnnounceOutcome {
    const node = 'ann' in input ? this.byIp.get(input.ann.nodeIp) : undefined;
    const { outcome, created } = this.applyTo(node, input, opts, -1);
    if (created) this.install(created, node);
    return outcome;
  }

  /**
   * Forget every node whose newest announcement is older than `now - GLOBAL_TIMEOUT_MS`
   * (docs/protocol.md §4.7). Returns the hashes to delete from the replication store: each
   * node's kept announcements, then its resetMsg.
   */
  expire(now: number): Uint8Array[] {
    const deleted: Uint8Array[] = [];
    const cutoff = now - GLOBAL_TIMEOUT_MS;
    for (const rec of [...this.byIp.values()]) this.expireNode(rec, cutoff, deleted);
    return deleted;
  }

  /** Forget `rec` if it is older than `cutoffMs`, appending its hashes to `deleted`; true if it went. */
  expireNode(rec: CompactNodeRecord, cutoffMs: number, deleted: Uint8Array[]): boolean {
    if (rec.dead || !(rec.timestamp < cutoffMs)) return false;
    const anns = this.store.anns;
    for (const id of rec.keptList()) deleted.push(anns.hash(id));
    deleted.push(anns.hash(rec.resetAnn));
    this.byIp.delete(rec.ipv6);
    this.kill(rec);
    return true;
  }

  /**
   * Crash recovery: a fresh record for `ip` from its reset and kept announcements as installed
   * (see the file comment), replayed as replication would (no clock or snode checks): the reset
   * first, then the kept ones oldest first. It takes the old record's place; undefined when
   * nothing could be rebuilt (the node is then forgotten).
   */
  rebuild(ip: string): CompactNodeRecord | undefined {
    const old = this.byIp.get(ip);
    if (!old || old.dead) return undefined;
    const anns = this.store.anns;
    const reset = old.resetAnn;
    const ids = [
      reset,
      ...[...old.keptList()].reverse().filter((id) => !anns.hashEquals(id, anns.hash(reset))),
    ];
    let rec: CompactNodeRecord | undefined;
    for (const id of ids) {
      let ann: Announcement;
      try {
        ann =
          anns.givenOf(id) ??
          parseAnnouncement(anns.bytes(id), { verifySignature: false, packedLinkStates: true });
      } catch {
        continue;
      }
      const t = this.applyTo(rec, { ann }, { fromNode: false, now: 0, selfIp: undefined }, id);
      if (t.created) {
        if (rec) this.kill(rec);
        rec = t.created;
      }
    }
    if (rec) this.install(rec, old);
    else {
      this.byIp.delete(ip);
      this.kill(old);
    }
    return rec;
  }

  /**
   * The links the last accepted announcement (applied to `rec` just now) changed, by position in
   * the record's link order, for its record delta; undefined when it added, replaced or removed
   * a link, or was a reset (the delta then carries every link).
   */
  linkUpdatesOf(rec: CompactNodeRecord): LinkUpdates | undefined {
    if (this.structureChanged || rec.dead) return undefined;
    const links = this.store.links;
    const changed = new Set(this.changedLinks);
    const updates: ClusterDeltaLinkUpdate[] = [];
    let pos = 0;
    for (let l = rec.firstLink; l >= 0; l = links.next[l]!, pos++) {
      if (!changed.has(l)) continue;
      updates.push({
        pos,
        peerNum: links.peerNum[l]!,
        mtu: links.mtu[l]!,
        flags: links.flags[l]!,
        time: links.time[l]!,
        mostRecentLsSlot: links.lsSlot[l]!,
        value: links.value[l]!,
      });
    }
    return { total: pos, updates };
  }

  /**
   * Install another process's record delta (docs/cluster.md, "Deltas"; record-delta.ts) for the
   * node of `bytes`, the announcement it describes: the kept list becomes the announcement and
   * the kept ones the delta names, the stateHash and the links (values included) the origin's —
   * what `apply` would have made from the same record, without parsing the entities, running
   * the keep rules or folding the hash. A link that kept its identity keeps its samples; a new
   * one has none (they only show in `/ni`). Undefined, and nothing changed, when the delta does
   * not fit the record: a kept announcement it names is not in the record's list, the record is
   * newer, or its version differs (the caller applies the announcement in full).
   */
  applyDelta(
    d: ClusterDelta,
    bytes: Uint8Array,
    node: {
      readonly nodeIp: string;
      /** the key `bytes` derive: needed for a reset (it makes the record) */
      readonly nodeKey: Uint8Array | undefined;
      readonly timestamp: number;
      readonly isReset: boolean;
    },
  ): AnnounceOutcome | undefined {
    const old = this.byIp.get(node.nodeIp);
    if (d.isReset !== node.isReset || (old && old.timestamp > node.timestamp)) return undefined;
    if (d.isReset && !node.nodeKey) return undefined;
    const store = this.store;
    const anns = store.anns;
    // not a reset: the announcement must be signed with the key of the record's reset (the same
    // node) — 32 bytes compared instead of the key derived from them
    if (!d.isReset && old && !old.dead && !sameSigningKey(anns, old.resetAnn, bytes))
      return undefined;
    const deleted: Uint8Array[] = [];
    const matched: number[] = [];
    if (d.isReset) {
      if (d.keptAfter.length !== 0) return undefined;
      if (old) {
        for (const k of old.keptList()) deleted.push(anns.hash(k));
        deleted.push(anns.hash(old.resetAnn));
      }
    } else {
      if (!old || old.dead || old.version !== d.version) return undefined;
      const list = store.kept.data;
      const off = old.keptOff;
      const n = old.keptCount;
      let j = 0;
      for (const prefix of d.keptAfter) {
        while (j < n && !anns.hashStartsWith(list[off + j]!, prefix)) {
          if (list[off + j] !== old.resetAnn) deleted.push(anns.hash(list[off + j]!));
          j++;
        }
        if (j === n) return undefined;
        matched.push(list[off + j++]!);
      }
      for (; j < n; j++)
        if (list[off + j] !== old.resetAnn) deleted.push(anns.hash(list[off + j]!));
    }
    // link updates name links of the record as it is, in its link order: check them all (one
    // pass) before changing anything
    const updated = this.deltaLinks;
    updated.length = 0;
    if (d.links.kind === 'updates') {
      if (d.isReset || !old) return undefined;
      const ups = d.links.updates;
      const links = store.links;
      let pos = 0;
      for (let l = old.firstLink; l >= 0; l = links.next[l]!, pos++) {
        const u = ups[updated.length];
        if (u === undefined || u.pos !== pos) continue;
        if (links.peerNum[l] !== u.peerNum) return undefined;
        updated.push(l);
      }
      if (pos !== d.links.total || updated.length !== ups.length) return undefined;
    }
    const id = anns.add(d.annHash, bytes);
    const kept = store.kept;
    const keptClass = kept.classFor(1 + matched.length);
    const keptOff = kept.alloc(keptClass);
    kept.data[keptOff] = id;
    anns.ref(id);
    for (let i = 0; i < matched.length; i++) {
      kept.data[keptOff + 1 + i] = matched[i]!;
      anns.ref(matched[i]!);
    }
    let rec: CompactNodeRecord;
    let created: CompactNodeRecord | undefined;
    if (d.isReset) {
      const nid = store.tables.ids.intern(node.nodeIp);
      store.tables.ids.setKey(nid, node.nodeKey!);
      rec = created = new CompactNodeRecord(store, nid, store.tables.ids.ipOf(nid));
      rec.version = d.version;
      rec.schemeId = store.tables.schemes.intern(d.scheme);
      rec.resetAnn = id;
      anns.ref(id);
    } else {
      rec = old!;
      this.releaseList(rec.keptOff, rec.keptClass, rec.keptCount);
    }
    rec.keptOff = keptOff;
    rec.keptClass = keptClass;
    rec.keptCount = 1 + matched.length;
    rec.timestamp = node.timestamp;
    if (d.links.kind === 'all') this.setLinks(rec, d.links.peers);
    else {
      const links = store.links;
      const ups = d.links.updates;
      for (let i = 0; i < ups.length; i++) {
        const u = ups[i]!;
        const l = updated[i]!;
        links.mtu[l] = u.mtu;
        links.flags[l] = u.flags;
        links.time[l] = u.time;
        links.lsSlot[l] = u.mostRecentLsSlot;
        links.value[l] = u.value;
      }
    }
    store.stateHashSlot(rec.id).set(d.stateHash);
    if (created) this.install(created, old);
    return {
      error: 'none',
      stateHash: store.stateHashOf(rec.id),
      node: rec,
      accepted: new ArenaAnnouncement(anns, id, rec),
      added: [anns.hash(id)],
      deleted,
    };
  }

  /** The record's links become `peers`' in their order; one with the same identity keeps its slot. */
  private setLinks(rec: CompactNodeRecord, peers: readonly ClusterDeltaPeer[]): void {
    const links = this.store.links;
    const tables = this.store.tables;
    const oldLinks: number[] = [];
    for (let l = rec.firstLink; l >= 0; l = links.next[l]!) oldLinks.push(l);
    let last = -1;
    rec.firstLink = -1;
    for (const p of peers) {
      const pid = tables.ids.intern(p.ipv6);
      for (const x of p.links) {
        const labelId = tables.labels.intern(x.label);
        let l = -1;
        for (let i = 0; i < oldLinks.length; i++) {
          const o = oldLinks[i]!;
          if (
            o >= 0 &&
            links.peer[o] === pid &&
            links.peerNum[o] === x.peerNum &&
            links.label[o] === labelId &&
            links.form[o] === x.encodingFormNum &&
            links.createTime[o] === x.createTime
          ) {
            l = o;
            oldLinks[i] = -1;
            break;
          }
        }
        if (l < 0) {
          l = links.alloc();
          links.peer[l] = pid;
          links.label[l] = labelId;
          links.peerNum[l] = x.peerNum;
          links.form[l] = x.encodingFormNum;
          links.createTime[l] = x.createTime;
        }
        links.flags[l] = x.flags;
        links.mtu[l] = x.mtu;
        links.time[l] = x.time;
        links.lsSlot[l] = x.mostRecentLsSlot;
        links.value[l] = x.value;
        links.next[l] = -1;
        if (last < 0) rec.firstLink = l;
        else links.next[last] = l;
        last = l;
      }
    }
    for (const o of oldLinks) if (o >= 0) links.free(o);
  }

  /**
   * Start-up restore and tests: put `rec` (made by this table) in place of `old` (same position)
   * or last, and forget `old`.
   */
  private install(rec: CompactNodeRecord, old: CompactNodeRecord | undefined): void {
    this.byIp.set(rec.ipv6, rec);
    if (old && old !== rec) this.kill(old);
  }

  /** Release everything a record holds and mark it dead. */
  private kill(rec: CompactNodeRecord): void {
    if (rec.dead) return;
    const links = this.store.links;
    for (let l = rec.firstLink; l >= 0;) {
      const next = links.next[l]!;
      links.free(l);
      l = next;
    }
    rec.firstLink = -1;
    this.releaseList(rec.keptOff, rec.keptClass, rec.keptCount);
    rec.keptCount = 0;
    rec.keptOff = -1;
    if (rec.resetAnn >= 0) this.store.anns.unref(rec.resetAnn);
    rec.resetAnn = -1;
    rec.dead = true;
  }

  private releaseList(off: number, cls: number, count: number): void {
    if (off < 0) return;
    const kept = this.store.kept;
    for (let i = 0; i < count; i++) this.store.anns.unref(kept.data[off + i]!);
    kept.free(off, cls);
  }

  /**
   * §4.2 on `node` (not looked up: a rebuild replays into a record outside the table). A reset
   * returns its new record in `created`, not yet installed.
   */
  private applyTo(
    node: CompactNodeRecord | undefined,
    input: AnnounceInput,
    opts: AnnounceOptions,
    annId: number,
  ): { outcome: AnnounceOutcome; created: CompactNodeRecord | undefined } {
    if (!('ann' in input)) node = undefined;
    const a = admit(node, input, opts);
    if (!a.ann) return { outcome: unchanged(a.error, node), created: undefined };
    const ann = a.ann;
    if (!ann.isReset && !node)
      return { outcome: unchanged('unknown_node', undefined), created: undefined };
    this.structureChanged = ann.isReset;
    this.changedLinks.length = 0;
    const store = this.store;
    const anns = store.anns;
    const id =
      annId >= 0 ? annId : anns.add(ann.hash, ann.binary, parsedFromBytes(ann) ? undefined : ann);
    const deleted: Uint8Array[] = [];
    let rec: CompactNodeRecord;
    let created: CompactNodeRecord | undefined;
    let keptOff: number;
    let keptClass: number;
    let keptCount: number;
    let droppedAny: boolean;
    if (ann.isReset) {
      if (node) {
        for (const k of node.keptList()) deleted.push(anns.hash(k));
        deleted.push(anns.hash(node.resetAnn));
      }
      const nid = store.tables.ids.intern(ann.nodeIp);
      store.tables.ids.setKey(nid, ann.nodeKey);
      rec = created = new CompactNodeRecord(store, nid, store.tables.ids.ipOf(nid));
      rec.version = a.version;
      rec.schemeId = store.tables.schemes.intern(a.scheme);
      keptClass = store.kept.classFor(1);
      keptOff = store.kept.alloc(keptClass);
      store.kept.data[keptOff] = id;
      anns.ref(id);
      keptCount = 1;
      droppedAny = true;
    } else {
      rec = node!;
      ({ keptOff, keptClass, keptCount, droppedAny } = this.keep(rec, id, ann.timestamp, deleted));
    }
    try {
      // 10., 11.
      for (const e of ann.entities) if (e.type === 'Peer') this.applyPeer(rec, e, ann.timestamp);
      for (const e of ann.entities)
        if (e.type === 'LinkState') this.applyLinkState(rec, e, ann.timestamp);
    } catch (e) {
      this.releaseList(keptOff, keptClass, keptCount);
      if (created) this.kill(created);
      if (annId < 0) anns.discard(id);
      throw e;
    }
    // install the kept list, the reset and the timestamp; 12., 13.
    if (created) {
      rec.resetAnn = id;
      anns.ref(id);
    } else {
      this.releaseList(rec.keptOff, rec.keptClass, rec.keptCount);
    }
    rec.keptOff = keptOff;
    rec.keptClass = keptClass;
    rec.keptCount = keptCount;
    rec.timestamp = ann.timestamp;
    const slot = store.stateHashSlot(rec.id);
    if (droppedAny) {
      // the chain over the kept list, oldest first (a reset: over itself)
      slot.fill(0);
      for (let i = keptCount - 1; i >= 0; i--)
        this.fold(slot, anns.bytes(store.kept.data[keptOff + i]!));
    } else {
      // nothing fell out: the new list is the old one with `ann` on top
      this.fold(slot, anns.bytes(id));
    }
    const accepted = new ArenaAnnouncement(anns, id, rec);
    return {
      outcome: {
        error: 'none',
        stateHash: store.stateHashOf(rec.id),
        node: rec,
        accepted,
        added: [accepted.hash],
        deleted,
      },
      created,
    };
  }

  /**
   * The keep rules (keep-rules.ts) over `[id, ...rec's kept list]`, written into a new block;
   * the hashes of what falls out (but the reset's) go to `deleted`. Takes a reference to each
   * id of the new list; the old list is the caller's to release.
   */
  private keep(
    rec: CompactNodeRecord,
    id: number,
    timestamp: number,
    deleted: Uint8Array[],
  ): { keptOff: number; keptClass: number; keptCount: number; droppedAny: boolean } {
    const store = this.store;
    const anns = store.anns;
    const kept = store.kept;
    const sinceTime = timestamp - AGREED_TIMEOUT_MS;
    const seen = this.seen;
    seen.clear();
    const total = 1 + rec.keptCount;
    const keptClass = kept.classFor(total);
    const keptOff = kept.alloc(keptClass);
    let keptCount = 0;
    let droppedAny = false;
    for (let i = 0; i < total; i++) {
      // read the old list after alloc: the blocks' array may have moved
      const a = i === 0 ? id : kept.data[rec.keptOff + i - 1]!;
      let needed = false;
      if (anns.timestamp(a) >= sinceTime) {
        const [keys, n] = anns.keepKeys(a, this.keys);
        this.keys = keys;
        for (let k = 0; k < n; k++) needed = seen.add(keys[k]!) || needed;
        if (needed || i === 0) {
          kept.data[keptOff + keptCount++] = a;
          anns.ref(a);
          continue;
        }
      }
      droppedAny = true;
      if (a !== rec.resetAnn) deleted.push(anns.hash(a));
    }
    return { keptOff, keptClass, keptCount, droppedAny };
  }

  /** One Peer entity (docs/protocol.md §4.4; peer-links.ts on record objects). */
  private applyPeer(rec: CompactNodeRecord, p: PeerEntity, timestamp: number): void {
    const links = this.store.links;
    const tables = this.store.tables;
    const pid = tables.ids.intern(p.ipv6);
    if (p.label === WITHDRAW_LABEL) {
      // every link of that peer with that peerNum
      let prev = -1;
      for (let l = rec.firstLink; l >= 0;) {
        const next = links.next[l]!;
        if (links.peer[l] === pid && links.peerNum[l] === p.peerNum) {
          if (prev < 0) rec.firstLink = next;
          else links.next[prev] = next;
          links.free(l);
          this.structureChanged = true;
        } else prev = l;
        l = next;
      }
      return;
    }
    checkLinkFields(p);
    const labelId = tables.labels.intern(p.label);
    // the peer's links are together: the first one with this peerNum, the last one of the peer
    let match = -1;
    let groupLast = -1;
    let tail = -1;
    for (let l = rec.firstLink; l >= 0; l = links.next[l]!) {
      tail = l;
      if (links.peer[l] !== pid) continue;
      groupLast = l;
      if (match < 0 && links.peerNum[l] === p.peerNum) match = l;
    }
    if (match >= 0 && links.label[match] === labelId && links.form[match] === p.encodingFormNum) {
      links.flags[match] = p.flags;
      links.mtu[match] = p.mtu;
      links.time[match] = timestamp;
      this.changedLinks.push(match);
      return;
    }
    this.structureChanged = true;
    // JS mkLink: a fresh link (value 0, no link state); it replaces `match` in place
    const l = match >= 0 ? match : links.alloc();
    if (match >= 0) {
      links.clearSamples(l);
      links.value[l] = 0;
    }
    links.peer[l] = pid;
    links.label[l] = labelId;
    links.peerNum[l] = p.peerNum;
    links.form[l] = p.encodingFormNum;
    links.flags[l] = p.flags;
    links.mtu[l] = p.mtu;
    links.createTime[l] = timestamp;
    links.time[l] = timestamp;
    links.lsSlot[l] = timeslotOf(timestamp);
    if (match >= 0) return;
    const after = groupLast >= 0 ? groupLast : tail;
    if (after < 0) {
      links.next[l] = rec.firstLink;
      rec.firstLink = l;
    } else {
      links.next[l] = links.next[after]!;
      links.next[after] = l;
    }
  }

  /** One LinkState entity on the LAST link with peerNum = nodeId (docs/protocol.md §4.6). */
  private applyLinkState(rec: CompactNodeRecord, e: LinkStateEntity, timestamp: number): void {
    const links = this.store.links;
    let found = -1;
    for (let l = rec.firstLink; l >= 0; l = links.next[l]!)
      if (links.peerNum[l] === e.nodeId) found = l;
    if (found >= 0) {
      applyLinkStateTo(links.target(found), e, timestamp);
      this.changedLinks.push(found);
    }
  }

  /** slot ← sha512(slot ‖ binary) (state-hash.ts's step, without a buffer per step). */
  private fold(slot: Uint8Array, binary: Uint8Array): void {
    const need = STATE_HASH_BYTES + binary.length;
    if (need > this.foldInput.length) this.foldInput = Buffer.allocUnsafe(2 * need);
    this.foldInput.set(slot, 0);
    this.foldInput.set(binary, STATE_HASH_BYTES);
    slot.set(digest('sha512', this.foldInput.subarray(0, need), 'buffer'));
  }
}

/** The columns hold what a Peer entity can carry (u8 form and flags, mtu = u16 · 8, u16 peerNum). */
/** where an announcement's header holds the node's ed25519 signing key (docs/protocol.md §1) */
const SIGNING_KEY_AT = 64;
const SIGNING_KEY_BYTES = 32;

/** True if `bytes` carry the signing key of the arena's announcement `id`. */
function sameSigningKey(anns: AnnArena, id: number, bytes: Uint8Array): boolean {
  if (bytes.length < SIGNING_KEY_AT + SIGNING_KEY_BYTES) return false;
  for (let i = SIGNING_KEY_AT; i < SIGNING_KEY_AT + SIGNING_KEY_BYTES; i++)
    if (anns.byteAt(id, i) !== bytes[i]) return false;
  return true;
}

function checkLinkFields(p: PeerEntity): void {
  const ok =
    Number.isInteger(p.encodingFormNum) &&
    p.encodingFormNum >= 0 &&
    p.encodingFormNum <= 0xff &&
    Number.isInteger(p.flags) &&
    p.flags >= 0 &&
    p.flags <= 0xff &&
    Number.isInteger(p.mtu) &&
    p.mtu >= 0 &&
    p.mtu <= 0xffffffff &&
    Number.isInteger(p.peerNum) &&
    Math.abs(p.peerNum) <= 0x7fffffff;
  if (!ok)
    throw new RangeError(`a Peer entity the compact table cannot hold: ${JSON.stringify(p)}`);
}

/** A reply that changes nothing, with the node's hash (apply-announcement.ts `unchanged`). */
function unchanged(
  error: AnnounceOutcome['error'],
  node: CompactNodeRecord | undefined,
): AnnounceOutcome {
  return {
    error,
    stateHash: node ? node.stateHash : zeroStateHash(),
    node,
    accepted: undefined,
    added: [],
    deleted: [],
  };
}
