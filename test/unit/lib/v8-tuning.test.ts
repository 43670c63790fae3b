/**
 * The route server runs with V8's allocation-site pretenuring off (src/lib/v8-tuning.ts): seen
 * from outside, V8 then stops putting allocation mementos behind the objects of tracked
 * literals, so the same allocations take fewer young-generation bytes. Each case runs in a
 * process of its own (a V8 flag, once set, holds for the whole process).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const probe = fileURLToPath(new URL('../../helpers/memento-probe.ts', import.meta.url));

async function bytesPerObject(mode: 'none' | 'tuning' | 'startApp'): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', probe, mode],
    { timeout: 60_000 },
  );
  return (JSON.parse(stdout.trim().split('\n').at(-1)!) as { bytesPerObject: number })
    .bytesPerObject;
}

describe('v8-tuning', () => {
  it('turns allocation-site pretenuring off, and startApp applies it before building the server', async () => {
    const [none, tuning, app] = await Promise.all([
      bytesPerObject('none'),
      bytesPerObject('tuning'),
      bytesPerObject('startApp'),
    ]);
    // with pretenuring on, each object carries an allocation memento (the control)
    expect(none).to.be.greaterThan(tuning);
    expect(app).to.equal(tuning);
  });
});
