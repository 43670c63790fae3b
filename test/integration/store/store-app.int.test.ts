/**
 * The announcement store as `startApp` wires it (in process, on the memory medium): an `ann`
 * reply over HTTP waits for the log's commit — accepted or not —, /readyz and /status show the
 * store, and an app started again on what a crash left answers with every node's stateHash.
 */
import { expect } from 'chai';
import type { App } from '../../../src/app.ts';
import { bstr } from '../../../src/protocol/bencode.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { generateIdentity } from '../../../src/server/identity.ts';
import { MemoryLogMedium } from '../../../src/store/memory-log-medium.ts';
import { startTestApp } from '../../helpers/app.ts';
import { postSubnode, stateHashAt } from '../../helpers/cluster.ts';
import { httpRequest } from '../../helpers/http.ts';
import { sleep, TreeNetwork } from '../../helpers/cluster-fixtures.ts';
import { GatedMedium } from '../../unit/store/fixtures.ts';

describe('the announcement store in the app', function () {
  this.timeout(60_000);
  const own = generateIdentity(22);
  const privateKeyHex = bytesToHex(own.privateKey!);
  const apps: App[] = [];
  after(async () => {
    for (const a of apps) await a.close();
  });
  const start = async (
    storeMedium: MemoryLogMedium,
    mode: 'fast' | 'reference' = 'fast',
  ): Promise<App> => {
    const app = await startTestApp({ privateKeyHex, storeMedium, config: { routing: { mode } } });
    apps.push(app);
    return app;
  };
  const ann = (app: App, net: TreeNetwork, i: number, bytes: Uint8Array) =>
    postSubnode(
      app.address().port,
      { sq: 'ann', ann: bytes, txid: Uint8Array.of(i), p: 22 },
      net.nodes[i]!.ipv6,
    );

  it('holds every ann reply until the log has synced it, accepted or not', async () => {
    const medium = new GatedMedium();
    const app = await start(medium);
    const net = new TreeNetwork(3, own.ipv6, 21);
    const reset = net.reset(0, Date.now());
    const first = await ann(app, net, 0, reset);
    expect(bstr(first.reply!.error)).to.equal('none');

    medium.hold();
    try {
      let replied = false;
      const pending = ann(app, net, 0, net.update(0, Date.now())).then(
        (r) => ((replied = true), r),
      );
      for (let i = 0; i < 100 && medium.waiting === 0; i++) await sleep(10);
      expect(medium.waiting, 'the commit is waiting for its sync').to.equal(1);
      await sleep(100);
      expect(replied, 'no reply before the sync').to.equal(false);
      // a refused announcement (older than the node's newest) waits for the same commit
      let refusedReplied = false;
      const refused = ann(app, net, 0, reset).then((r) => ((refusedReplied = true), r));
      await sleep(100);
      expect(refusedReplied, 'no reply before the sync').to.equal(false);
      medium.release();
      expect(bstr((await pending).reply!.error)).to.equal('none');
      expect(bstr((await refused).reply!.error)).to.equal('old_message');
    } finally {
      medium.release();
    }

    const ready = JSON.parse((await httpRequest(app.address().port, '/readyz')).body.toString());
    expect(ready.checks.store).to.deep.include({ ok: true });
    const status = JSON.parse(
      (await httpRequest(app.adminAddress()!.port, '/status')).body.toString(),
    );
    expect(status.store).to.include({ file: 'memory', state: 'ok' });
    expect(status.store.commits).to.be.greaterThan(0);
  });

  for (const mode of ['fast', 'reference'] as const) {
    it(`comes back on what a crash left with every node's stateHash (${mode} engine)`, async () => {
      const medium = new MemoryLogMedium();
      const a = await start(medium, mode);
      const net = new TreeNetwork(3, own.ipv6, 21);
      const hashes = new Map<string, string>();
      for (let i = 0; i < 3; i++) await ann(a, net, i, net.reset(i, Date.now()));
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 3; i++) {
          const r = await ann(a, net, i, net.update(i, Date.now()));
          hashes.set(net.nodes[i]!.ipv6, bytesToHex(r.reply!.stateHash as Uint8Array));
        }
      }
      const b = await start(MemoryLogMedium.holding(medium.crashImage(0)), mode);
      for (const [ip, h] of hashes) expect(await stateHashAt(b.address().port, ip), ip).to.equal(h);
      for (let i = 0; i < 3; i++)
        expect(bstr((await ann(b, net, i, net.update(i, Date.now()))).reply!.error)).to.equal(
          'none',
        );
    });
  }
});
