import { expect } from 'chai';
import { InitialSync } from '../../../src/replication/initial-sync.ts';

describe('InitialSync', () => {
  it('moves waiting → syncing → done once, and describes itself for /readyz', () => {
    const s = new InitialSync('ws://x/cjdnsnode_websocket');
    expect(s.describe()).to.equal('waiting for the first connection');
    s.start(10);
    s.advertised = 10;
    s.present = 2;
    s.needed = 8;
    s.fetched = 2;
    expect(s.describe()).to.equal('syncing 25% (2/8 fetched, 10 advertised, 2 present)');
    expect(s.finish('done', 20)).to.equal(true);
    expect(s.finish('failed', 30)).to.equal(false);
    expect(s.snapshot()).to.include({ state: 'done', settledAt: 20, startedAt: 10 });
    expect(s.settled).to.equal(true);
  });
});
