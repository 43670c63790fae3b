import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, validateConfig } from '../../../src/config.ts';
import {
  DROP_AFTER_MS,
  PING_AFTER_MS,
  PING_CYCLE_MS,
  RECONNECT_AFTER_CLOSE_MS,
  RECONNECT_AFTER_ERROR_MS,
} from '../../../src/replication/replication-settings.ts';

describe('replication-settings', () => {
  describe('config `replication` section', () => {
    it("has a default for every limit, with the original's timers", () => {
      const r = validateConfig({}).replication;
      expect(r).to.include({
        maxFrameBytes: 1024 * 1024,
        maxInvHashes: 1024,
        pingCycleMs: PING_CYCLE_MS,
        pingAfterMs: PING_AFTER_MS,
        dropAfterMs: DROP_AFTER_MS,
        reconnectBaseMs: RECONNECT_AFTER_CLOSE_MS,
        reconnectErrorBaseMs: RECONNECT_AFTER_ERROR_MS,
      });
      expect(r.allowList).to.deep.equal([]);
      expect(Object.isFrozen(r)).to.equal(true);
    });

    it('merges partial settings over the defaults', () => {
      const r = validateConfig({
        replication: { requestTimeoutMs: 500, allowList: ['10.0.0.0/8'] },
      }).replication;
      expect(r.requestTimeoutMs).to.equal(500);
      expect(r.maxOutstandingPerPeer).to.equal(
        validateConfig({}).replication.maxOutstandingPerPeer,
      );
    });

    it('names invalid and unknown keys', () => {
      expect(() => validateConfig({ replication: { allowList: ['not-an-ip'] } })).to.throw(
        /replication\.allowList\.0/,
      );
      expect(() => validateConfig({ replication: { maxFrameBytes: 10 } })).to.throw(
        /replication\.maxFrameBytes/,
      );
      expect(() => validateConfig({ replication: { maxFrames: 10 } })).to.throw(
        /replication\.maxFrames: unknown key/,
      );
    });

    it('reads the original cjdnsnode config.js {connectCjdns, peers} with replication defaults', () => {
      const dir = mkdtempSync(join(tmpdir(), 'snode-repl-'));
      const file = join(dir, 'config.js');
      writeFileSync(
        file,
        "/*@flow*/\nmodule.exports = {\n  connectCjdns: false,\n  peers: [\n    'ws://[fc50:71b5:aebf:7b70:6577:ec8:2542:9dd9]:3333/cjdnsnode_websocket', // a peer\n  ],\n};\n",
      );
      const c = loadConfig({ file, env: {} });
      expect(c.peers).to.deep.equal([
        'ws://[fc50:71b5:aebf:7b70:6577:ec8:2542:9dd9]:3333/cjdnsnode_websocket',
      ]);
      expect(c.replication).to.deep.equal(validateConfig({}).replication);
    });
  });
});
