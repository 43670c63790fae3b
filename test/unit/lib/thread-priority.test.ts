/**
 * lib/thread-priority.ts and lib/thread-run-queue.ts on this (Linux) machine. What changes a
 * thread's priority runs in the verification pool's workers (verify-pool.test.ts): here only
 * what leaves the test's own thread as it was.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { currentThreadId, threadPolicy, useIdlePolicy } from '../../../src/lib/thread-priority.ts';
import { runQueueWaitMs } from '../../../src/lib/thread-run-queue.ts';

describe('thread-priority', () => {
  it("knows the calling thread's id and policy (the main thread's id is the process's)", () => {
    expect(currentThreadId()).to.equal(process.pid);
    expect(threadPolicy(process.pid)).to.equal(0); // SCHED_OTHER
    expect(threadPolicy(0x7fffffff)).to.equal(undefined); // no such thread
  });

  it('says why SCHED_IDLE could not be applied, and leaves the thread as it was', async () => {
    expect(await useIdlePolicy('/nonexistent/chrt')).to.deep.equal({
      applied: false,
      reason: '/nonexistent/chrt not found (util-linux)',
    });
    // a command that succeeds without changing the policy is not taken at its word
    expect(await useIdlePolicy('true')).to.deep.equal({
      applied: false,
      reason: 'true left the policy unchanged',
    });
    expect(threadPolicy(process.pid)).to.equal(0);
  });

  it('finds util-linux chrt here (the policy is applied by it; CI installs util-linux)', () => {
    const r = spawnSync('chrt', ['--max'], { encoding: 'utf8' });
    expect(r.error, 'chrt (util-linux) is missing').to.equal(undefined);
    expect(r.stdout).to.match(/SCHED_IDLE/);
  });
});

describe('thread-run-queue', () => {
  it("reads a live thread's run-queue wait, which only grows, and nothing for a thread that is not", async () => {
    const a = runQueueWaitMs(process.pid);
    expect(a).to.be.a('number');
    await new Promise((r) => setTimeout(r, 20));
    expect(runQueueWaitMs(process.pid)).to.be.at.least(a!);
    expect(runQueueWaitMs(0x7fffffff)).to.equal(undefined);
  });
});
