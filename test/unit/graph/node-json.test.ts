import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RouteServer } from '../../../src/server/route-server.ts';
import { referenceServer } from '../../helpers/reference-server.ts';
import { linkStateToJson, nodeRecordToJson } from '../../../src/graph/node-json.ts';
import { captureBytes, fixturesDir } from '../../helpers/vectors.ts';

interface CapturedAnn {
  binary: { type: 'Buffer'; data: number[] };
  isReset: boolean;
}

const captureText = readFileSync(join(fixturesDir(), 'captures', 'ni-B.json'), 'utf8');
const capture = JSON.parse(captureText) as {
  node: { ipv6: string; mut: { announcements: CapturedAnn[]; resetMsg: CapturedAnn } };
};

/** The `ann` byte string of a captured subnode frame (RouteHeader | DataHeader | bencoded dict). */
function annOfFrame(frame: Uint8Array): Uint8Array {
  const text = Buffer.from(frame).toString('latin1');
  const m = /3:ann(\d+):/.exec(text);
  if (!m) throw new Error('no ann in frame');
  const start = m.index + m[0].length;
  return frame.slice(start, start + Number(m[1]));
}

/**
 * Replay what the original received from node B: its reset, the periodic link-state-only update
 * of capture 17 (dropped from the kept list later, but its samples stay in the links), then the
 * newest update. Sent by B itself, so fromNode with A as our own node, at each message's time.
 */
async function replayCapture(): Promise<RouteServer> {
  const { server, announce } = referenceServer('fc0c:d99e:8c36:fbdf:7ac2:748a:05ba:31b4');
  const { announcements, resetMsg } = capture.node.mut;
  const newest = announcements.find((a) => !a.isReset)!;
  const sequence = [
    Uint8Array.from(resetMsg.binary.data),
    annOfFrame(captureBytes('17-B-ann-incremental.bin')),
    Uint8Array.from(newest.binary.data),
  ];
  for (const bytes of sequence) {
    const ts = Number(Buffer.from(bytes.subarray(112, 120)).readBigUInt64BE() >> 4n);
    const out = await announce(bytes, { fromNode: true, now: ts });
    expect(out.error).to.equal('none');
  }
  return server;
}

describe('node-json', () => {
  describe('#nodeRecordToJson()', () => {
    it("reproduces the original's /ni/<ip> capture byte for byte", async () => {
      const server = await replayCapture();
      const record = server.nodes.get(capture.node.ipv6)!;
      const body = JSON.stringify({ node: nodeRecordToJson(record) }, null, 2);
      expect(JSON.parse(body)).to.deep.equal(capture);
      expect(body).to.equal(captureText.trimEnd());
    });

    it('prints stateHash and binary as Node Buffer JSON', async () => {
      const record = (await replayCapture()).nodes.get(capture.node.ipv6)!;
      const json = nodeRecordToJson(record);
      expect(json.mut.stateHash).to.deep.equal({
        type: 'Buffer',
        data: Array.from(record.stateHash),
      });
      expect(json.mut.resetMsg.binary.data).to.have.length(record.resetMsg.binary.length);
    });
  });

  describe('#linkStateToJson()', () => {
    it('orders integer-like timeslots ascending whatever the insertion order', () => {
      const m = new Map([
        [170000003, { drops: 0, lag: 1, kbRecv: 1 }],
        [170000001, { drops: 0, lag: 2, kbRecv: 2 }],
        [170000002, { drops: 0, lag: 3, kbRecv: 3 }],
      ]);
      expect(Object.keys(linkStateToJson(m))).to.deep.equal([
        '170000001',
        '170000002',
        '170000003',
      ]);
    });

    it('keeps the drops, lag, kbRecv key order of the original', () => {
      const m = new Map([[1, { kbRecv: 5, lag: 4, drops: 3 }]]);
      expect(JSON.stringify(linkStateToJson(m))).to.equal('{"1":{"drops":3,"lag":4,"kbRecv":5}}');
    });
  });
});
