/**
 * The in-memory bus keeps the Redis bus' semantics where the cluster actor relies on them: here,
 * the conditional snapshot write of a re-published entry (redis-bus.ts' script does the same;
 * test/integration/cluster/cluster-redis.int.test.ts runs these cases on a real Redis).
 */
import { MemoryClusterBus, MemoryClusterHub } from '../../../src/cluster/memory-bus.ts';
import { checkSnapshotCondition } from '../../helpers/snapshot-condition.ts';

describe('memory cluster bus', () => {
  it("writes a re-published entry's snapshot only while the node's key names nothing newer than the publisher's watermark, and appends the entry either way", async () => {
    const bus = new MemoryClusterBus(new MemoryClusterHub());
    await bus.start({ frame: () => undefined, up: () => undefined, down: () => undefined });
    try {
      await checkSnapshotCondition(bus, 'fc00::');
    } finally {
      await bus.close();
    }
  });
});
