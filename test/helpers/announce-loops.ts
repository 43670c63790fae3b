/**
 * Ingest under way: every node announces one acknowledged announcement after another (each
 * `announceOne(i)` resolves once node i's announcement was acknowledged), pausing `pauseMs`
 * between its own, until `stop()`, which resolves with how many were acknowledged in all.
 */
export function announceUntilStopped(
  nodes: number,
  announceOne: (i: number) => Promise<void>,
  pauseMs: number,
): { stop: () => Promise<number> } {
  let stopped = false;
  const loops = Array.from({ length: nodes }, async (_n, i) => {
    let n = 0;
    while (!stopped) {
      await announceOne(i);
      n++;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    return n;
  });
  return {
    stop: async () => {
      stopped = true;
      return (await Promise.all(loops)).reduce((a, b) => a + b, 0);
    },
  };
}
