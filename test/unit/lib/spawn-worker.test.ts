import { expect } from 'chai';
import { once } from 'node:events';
import { spawnWorker } from '../../../src/lib/spawn-worker.ts';

describe('spawnWorker', () => {
  it("starts a module of the sources whose native addon (sodium-native) loads in the worker's thread", async () => {
    // from the sources the worker runs an esbuild bundle: the addon stays out of it and is
    // required from the module's own location (a bundle that took it in would fall back to OpenSSL)
    const worker = spawnWorker(
      new URL('../../helpers/signature-backend-probe.ts', import.meta.url),
    );
    try {
      const [message] = (await once(worker, 'message')) as [{ backend: string; called: boolean }];
      expect(message).to.deep.equal({ backend: 'libsodium', called: false });
    } finally {
      await worker.terminate();
    }
  });
});
