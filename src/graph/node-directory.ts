/**
 * What the rest of the server reads of a node table — the reference engine's NodeTable of record
 * objects or the fast engine's CompactNodeTable — in the original's `nodesByIp` order.
 */
import type { NodeRecordView } from './node-record.ts';

export interface NodeDirectory extends Iterable<NodeRecordView> {
  get(ip: string): NodeRecordView | undefined;
  readonly size: number;
  /** ip → record, in insertion order */
  readonly nodesByIp: ReadonlyMap<string, NodeRecordView>;
  /** inward links held, every node together */
  linkCount(): number;
}

/** The reset is still among the node's kept announcements (`/ni`'s `rst` is its negation). */
export function keepsResetMsg(rec: NodeRecordView): boolean {
  return rec.keepsResetMsg ?? rec.announcements.includes(rec.resetMsg);
}
