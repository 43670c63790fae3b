/**
 * Link state → link value (docs/protocol.md §4.6), graph side. The arithmetic is IEEE-754 double in the
 * original's exact order: the value is the edge cost (1/value) of route computation, so a
 * different rounding can change routes.
 */
import type { Announcement } from '../protocol/announcement-types.ts';
import type { LinkStateEntity } from '../protocol/entity-types.ts';
import { DECAY_PER_TIMESLOT, LINK_STATE_MAX_AGE_SLOTS, LINK_STATE_SLOTS } from './constants.ts';
import { PackedLinkState } from '../protocol/packed-link-state.ts';
import { LinkStateTable } from './link-state-table.ts';
import { timeslotOf, type Link, type LinkStateSample, type NodeRecord } from './node-record.ts';

/** Scratch slots of the entity being applied (applyLinkState runs to completion). */
const SLOTS = new Float64Array(3 * LINK_STATE_SLOTS);

/** The entity's 18 slots in SLOTS (packed-link-state.ts layout; NaN = not sent). */
function slotsOf(e: LinkStateEntity): Float64Array {
  if (e instanceof PackedLinkState) {
    e.fillSlots(SLOTS);
    return SLOTS;
  }
  const { lagSlots, dropSlots, kbRecvSlots } = e;
  for (let i = 0; i < LINK_STATE_SLOTS; i++) {
    SLOTS[3 * i] = lagSlots[i] ?? NaN;
    SLOTS[3 * i + 1] = dropSlots[i] ?? NaN;
    SLOTS[3 * i + 2] = kbRecvSlots[i] ?? NaN;
  }
  return SLOTS;
}

/** Value of one sample: kbRecv / (lag * 2^drops), 0 when lag is 0 ("probably not real data"). */
export function lsValue(s: LinkStateSample): number {
  return sampleValue(s.lag, s.drops, s.kbRecv);
}

function sampleValue(lag: number, drops: number, kbRecv: number): number {
  if (lag === 0) return 0;
  return kbRecv / (lag * Math.pow(2, drops));
}

/** The link a LinkState entity describes: the LAST link (map order, then array order) with peerNum = nodeId. */
export function findLinkForLinkState(record: NodeRecord, nodeId: number): Link | undefined {
  // plain loops, not the allLinks generator: a hub's announcement asks this once per link
  let found: Link | undefined;
  for (const links of record.inwardLinksByIp.values()) {
    for (let i = 0; i < links.length; i++) if (links[i]!.peerNum === nodeId) found = links[i];
  }
  return found;
}

/** Apply every LinkState entity of `ann` to the links of `record`, in entity order. */
export function applyLinkStates(record: NodeRecord, ann: Announcement): void {
  for (const e of ann.entities) {
    if (e.type !== 'LinkState') continue;
    const link = findLinkForLinkState(record, e.nodeId);
    if (link) applyLinkState(link, e, ann.timestamp);
  }
}

/**
 * What applying link state reads and writes of one link, whichever storage holds it: a record
 * object's Link (below) or the link arena (link-arena.ts).
 */
export interface LinkStateTarget {
  mostRecentLsSlot: number;
  value: number;
  /** forget the samples of slots below `minSlot`, keeping the others' order */
  deleteSamplesBelow(minSlot: number): void;
  /** the sample of `slot`: overwritten in place if present, else appended */
  setSample(slot: number, drops: number, lag: number, kbRecv: number): void;
}

/** A record object's link as a LinkStateTarget. */
class ObjectLinkTarget implements LinkStateTarget {
  constructor(private readonly link: Link) {}

  get mostRecentLsSlot(): number {
    return this.link.mostRecentLsSlot;
  }

  set mostRecentLsSlot(v: number) {
    this.link.mostRecentLsSlot = v;
  }

  get value(): number {
    return this.link.value;
  }

  set value(v: number) {
    this.link.value = v;
  }

  deleteSamplesBelow(minSlot: number): void {
    const ls = this.link.linkState;
    if (ls instanceof LinkStateTable) ls.deleteBelow(minSlot);
    else for (const slot of [...ls.keys()]) if (slot < minSlot) ls.delete(slot);
  }

  setSample(slot: number, drops: number, lag: number, kbRecv: number): void {
    this.link.linkState.set(slot, { drops, lag, kbRecv });
  }
}

/** One LinkState entity on one link object (see applyLinkStateTo). */
export function applyLinkState(link: Link, e: LinkStateEntity, annTimestampMs: number): void {
  applyLinkStateTo(new ObjectLinkTarget(link), e, annTimestampMs);
}

/**
 * One LinkState entity on one link (docs/protocol.md §4.6 steps 2–4):
 * forget samples older than 120 timeslots, decay the value when the announcement is older than
 * the newest one applied, then walk the ring backwards from the newest sample — the slot at
 * `startingPoint` (the oldest sample) is never used and empty slots consume no timeslot.
 */
export function applyLinkStateTo(
  link: LinkStateTarget,
  e: LinkStateEntity,
  annTimestampMs: number,
): void {
  const ts = timeslotOf(annTimestampMs);
  const earliestOkTs = ts - LINK_STATE_MAX_AGE_SLOTS;
  link.deleteSamplesBelow(earliestOkTs);

  const decaySlots = link.mostRecentLsSlot - ts;
  link.mostRecentLsSlot = ts;
  if (decaySlots > 0) link.value /= 1 + decaySlots * DECAY_PER_TIMESLOT;

  const slots = slotsOf(e);
  const sp = e.startingPoint % LINK_STATE_SLOTS;
  let time = ts;
  let value = link.value;
  for (let i = sp - 1; i !== sp; i--) {
    if (i < 0) {
      i = LINK_STATE_SLOTS - 1;
      if (i === sp) break;
    }
    // NaN = slot not sent (JS null)
    const lag = slots[3 * i]!;
    const drops = slots[3 * i + 1]!;
    const kbRecv = slots[3 * i + 2]!;
    if (lag !== lag || drops !== drops || kbRecv !== kbRecv) continue;
    link.setSample(time, drops, lag, kbRecv);
    value += sampleValue(lag, drops, kbRecv) / (1 + (ts - time) * DECAY_PER_TIMESLOT);
    time -= 1;
  }
  link.value = value;
}
