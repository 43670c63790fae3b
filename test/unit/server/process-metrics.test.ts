/**
 * The process's metrics: prom-client's defaults without the event-loop-lag family that resets on
 * every scrape, the windowed event-loop gauges (only their timer ends a window), build info.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  EventLoopDelayWindow,
  processRegistry,
  type DelaySampler,
} from '../../../src/server/process-metrics.ts';

class FakeSampler implements DelaySampler {
  p99 = 0;
  max = 0;
  resets = 0;
  percentile(): number {
    return this.p99;
  }
  reset(): void {
    this.resets++;
    this.p99 = 0;
    this.max = 0;
  }
}

describe('process metrics', () => {
  describe('EventLoopDelayWindow', () => {
    it('before the first window closes, reads the window in progress (seconds)', () => {
      const s = new FakeSampler();
      const w = new EventLoopDelayWindow(s);
      s.p99 = 2e6;
      s.max = 5e6;
      expect(w.read()).to.deep.equal({ p99Seconds: 0.002, maxSeconds: 0.005 });
    });

    it('reading never resets: every reader sees the last complete window until the next one closes', () => {
      const s = new FakeSampler();
      const w = new EventLoopDelayWindow(s);
      s.p99 = 3e6;
      s.max = 9e6;
      w.close();
      expect(s.resets).to.equal(1);
      s.p99 = 1e9; // the next window fills up
      s.max = 2e9;
      for (let i = 0; i < 5; i++)
        expect(w.read()).to.deep.equal({ p99Seconds: 0.003, maxSeconds: 0.009 });
      expect(s.resets, 'reads do not reset the sampler').to.equal(1);
      w.close();
      expect(w.read()).to.deep.equal({ p99Seconds: 1, maxSeconds: 2 });
    });
  });

  describe('processRegistry', () => {
    it('is one registry per process', () => {
      expect(processRegistry()).to.equal(processRegistry());
    });

    it("has prom-client's process and Node.js metrics, without its reset-on-read event-loop lag", async () => {
      const names = (await processRegistry().getMetricsAsJSON()).map((m) => m.name);
      expect(names).to.include.members([
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_heap_size_used_bytes',
        'nodejs_gc_duration_seconds',
      ]);
      expect(names.filter((n) => n.startsWith('nodejs_eventloop_lag'))).to.deep.equal([]);
      expect(names).to.include.members([
        'snode_event_loop_lag_p99_seconds',
        'snode_event_loop_lag_max_seconds',
      ]);
    });

    it('snode_build_info is 1 with the package version and the Node.js version', async () => {
      const pkg = JSON.parse(
        readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
      ) as { version: string };
      const text = await processRegistry().getSingleMetricAsString('snode_build_info');
      expect(text).to.contain(
        `snode_build_info{version="${pkg.version}",node="${process.versions.node}"} 1`,
      );
    });
  });
});
