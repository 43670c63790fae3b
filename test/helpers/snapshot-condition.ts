/**
 * The conditional snapshot write of a re-published entry (ClusterAppend.snapshotIf), checked the
 * same way on every bus: the snapshot replaces the node's key only while the key is absent or
 * names no entry newer than `upTo` (none: only while absent); the entry is appended either way.
 */
import { expect } from 'chai';
import type { ClusterBus } from '../../src/cluster/bus.ts';

/** Runs the cases on `bus` (started, connected, empty record) with node ips that start with `ipBase`. */
export async function checkSnapshotCondition(bus: ClusterBus, ipBase: string): Promise<void> {
  const bytes = (n: number): Uint8Array => Uint8Array.of(n, n, n);
  const env = bytes(0);
  const ip = `${ipBase}1`;
  const length = async (): Promise<number> => (await bus.info()).length;
  /** a re-published entry of `nodeIp` whose snapshot is `bytes(n)`, conditional on `upTo` */
  const republish = (nodeIp: string, n: number, upTo: string | undefined): Promise<string> =>
    bus.append({ envelope: env, nodeIp, snapshot: bytes(n), snapshotIf: { upTo } });

  const a1 = await bus.append({ envelope: env, nodeIp: ip, snapshot: bytes(1) });
  expect(await bus.snapshotId(ip), 'unconditional').to.equal(a1);

  const a2 = await republish(ip, 2, a1);
  expect(await bus.snapshotId(ip), 'the key names upTo: written').to.equal(a2);

  let before = await length();
  const a3 = await republish(ip, 3, a1);
  expect(await bus.snapshotId(ip), 'the key names a newer entry: kept').to.equal(a2);
  expect(await length(), 'appended anyway').to.equal(before + 1);
  expect((await bus.info()).lastId).to.equal(a3);
  expect(await snapshotBytes(bus, ip)).to.deep.equal(bytes(2));

  before = await length();
  await republish(ip, 4, undefined);
  expect(await bus.snapshotId(ip), 'no watermark, a key exists: kept').to.equal(a2);
  expect(await length(), 'appended anyway').to.equal(before + 1);

  const a5 = await republish(ip, 5, a3);
  expect(await bus.snapshotId(ip), 'the key names an older entry: written').to.equal(a5);
  expect(await snapshotBytes(bus, ip)).to.deep.equal(bytes(5));

  const fresh = `${ipBase}2`;
  const b1 = await republish(fresh, 6, undefined);
  expect(await bus.snapshotId(fresh), 'no watermark, no key: written').to.equal(b1);

  const other = `${ipBase}3`;
  const c1 = await republish(other, 7, a1);
  expect(await bus.snapshotId(other), 'a watermark, no key: written').to.equal(c1);

  // a direct append (no condition) writes whatever the key names
  const d1 = await bus.append({ envelope: env, nodeIp: ip, snapshot: bytes(8) });
  expect(await bus.snapshotId(ip)).to.equal(d1);
}

async function snapshotBytes(bus: ClusterBus, ip: string): Promise<Uint8Array | undefined> {
  for await (const batch of bus.snapshots(100))
    for (const s of batch) if (s.nodeIp === ip) return new Uint8Array(s.envelope);
  return undefined;
}
