/**
 * A node record in the notation of test/fixtures/vectors/route_server.json (`node_state_after`):
 * what `snode replay` prints and what the vector tests compare. `names` maps peer IPv6 → a
 * name for the optional `from` key.
 */
import { bytesToHex } from '../protocol/hex.ts';
import type { NodeRecordView } from './node-record.ts';

export function nodeStateSummary(
  rec: NodeRecordView | undefined,
  names: ReadonlyMap<string, string>,
): unknown {
  if (!rec) return null;
  return {
    announcements_newest_first: rec.announcements.map((a) => bytesToHex(a.hash)),
    resetMsg: bytesToHex(rec.resetMsg.hash),
    timestamp_hex: rec.timestampHex,
    version: rec.version,
    links: [...rec.inwardLinksByIp].map(([ip, links]) => ({
      ...(names.has(ip) ? { from: names.get(ip) } : {}),
      fromIp: ip,
      links: links.map((l) => ({
        label: l.label,
        peerNum: l.peerNum,
        encodingFormNum: l.encodingFormNum,
        mtu: l.mtu,
        flags: l.flags,
        time: l.time,
        value: l.value,
        mostRecentLsSlot: l.mostRecentLsSlot,
        linkState: Object.fromEntries(
          [...l.linkState].map(([k, v]) => [
            String(k),
            { drops: v.drops, lag: v.lag, kbRecv: v.kbRecv },
          ]),
        ),
      })),
    })),
  };
}
