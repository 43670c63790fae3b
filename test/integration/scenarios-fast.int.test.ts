/**
 * The shared scenarios of scenarios-http.int.test.ts against `routing.mode: 'fast'` (subnode
 * actors, verification workers, worker tree replicas), with the tree replicas synced before
 * every step: once routes are current, every reply — `ann` stateHash and error, `gr` frames,
 * `/path`, `/ni`, `/walk`, `/dump` — is byte-identical to the original's. (Without the sync the
 * routes are those of the last swapped snapshot, up to `routing.swapIntervalMs` old, where the
 * original's are up to 3 s old: the reference mode keeps that timing.)
 *
 * The step checks below are those of scenarios-http.int.test.ts, which says:
 * Every scenario of shared/vectors/route_server.json through a running server: `ann` steps as
 * `POST /subnode` queries, `subnode_message` steps as the same dictionary over `POST /subnode`
 * with the route-header fields in headers, `getRoute` and `http` steps as GETs. Replies must be
 * byte-exact (the stubbed replication counts of `/` and `/ni` compared by presence, and the
 * deliberate 404 for unknown paths: docs/compatibility.md).
 */
import { expect } from 'chai';
import type { App } from '../../src/app.ts';
import { bencodeDecode, bencodeEncode, type BDict } from '../../src/protocol/bencode.ts';
import { bytesToHex, hexToBytes } from '../../src/protocol/hex.ts';
import { parseHandlerFrame } from '../../src/protocol/wire-headers.ts';
import { ManualClock } from '../../src/server/clock.ts';
import { startTestApp } from '../helpers/app.ts';
import { httpRequest } from '../helpers/http.ts';
import { loadVectors } from '../helpers/vectors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Step = any;

const file = loadVectors('route_server.json');

function stripStoreCounts(body: string): unknown {
  const v = JSON.parse(body) as Record<string, unknown>;
  for (const k of ['peer', 'peerInfo']) {
    const info = v[k] as Record<string, unknown> | undefined;
    if (info) {
      expect(info).to.have.keys('peers', 'announcements', 'annByHashLen');
      info.announcements = 'present';
      info.annByHashLen = 'present';
    }
  }
  return v;
}

describe('route server over HTTP, fast routing (shared scenarios)', () => {
  for (const scenario of file.vectors as Step[]) {
    describe(scenario.name as string, () => {
      let app: App;
      const clock = new ManualClock(0);
      before(async () => {
        app = await startTestApp({ privateKeyHex: scenario.self.private_hex, version: scenario.self.version, clock, config: { routing: { mode: 'fast' } } });
      });
      after(async () => app.close());

      (scenario.steps as Step[]).forEach((step: Step, i: number) => {
        it(`step ${i}: ${step.action} ${step.note ? '— ' + String(step.note).slice(0, 60) : ''}`, async () => {
          clock.set(step.now_ms);
          // fast routing: answers come from the active snapshot; make it current first
          await app.server.syncRoutes();
          const port = app.address().port;
          switch (step.action) {
            case 'ann': {
              const txid = Uint8Array.of(0x30, 0x31, i);
              const body = bencodeEncode({ sq: 'ann', ann: hexToBytes(step.ann_hex), txid, p: 22 });
              const ip = step.node_state_after?.links ? undefined : undefined;
              void ip;
              const res = await httpRequest(port, '/subnode', {
                method: 'POST',
                body,
                headers: { 'x-cjdns-ip': 'fc00:0000:0000:0000:0000:0000:0000:0001', 'x-cjdns-version': '22' },
              });
              expect(res.status).to.equal(200);
              const reply = bencodeDecode(new Uint8Array(res.body)) as BDict;
              expect(Buffer.from(reply.error as Uint8Array).toString()).to.equal(step.expected.error);
              expect(bytesToHex(reply.stateHash as Uint8Array)).to.equal(step.expected.stateHash);
              expect(reply.recvTime).to.equal(step.now_ms);
              expect(reply.p).to.equal(scenario.self.version);
              expect(bytesToHex(reply.txid as Uint8Array)).to.equal(bytesToHex(txid));
              break;
            }
            case 'gossip_ann': {
              // Replication is the way in for gossip; its wire is tested with the peer protocol.
              const o = await app.server.submitAnnouncement(hexToBytes(step.ann_hex), 'gossip');
              expect(o.error).to.equal(step.expected.error);
              expect(bytesToHex(o.stateHash)).to.equal(step.expected.stateHash);
              break;
            }
            case 'getRoute': {
              app.server.core.routes.forceRebuild();
              const res = await httpRequest(port, `/path/${step.srcIp}/${step.dstIp}`);
              expect(res.status).to.equal(200);
              const text = res.body.toString();
              if (step.expected === null && !app.server.core.nodes.get(step.dstIp)) expect(text).to.equal('tar not found');
              else expect(JSON.parse(text)).to.deep.equal(step.expected);
              break;
            }
            case 'subnode_message': {
              const frame = parseHandlerFrame(hexToBytes(step.request_frame_hex));
              const rh = frame.routeHeader;
              const res = await httpRequest(port, '/subnode', {
                method: 'POST',
                body: frame.content,
                headers: { 'x-cjdns-key': rh.publicKey ?? '', 'x-cjdns-ip': rh.ip ?? '', 'x-cjdns-version': String(rh.version) },
              });
              if (step.expected_reply_frame_hex === null) {
                expect(res.status).to.equal(204);
              } else {
                expect(res.status).to.equal(200);
                const expectedContent = hexToBytes(step.expected_reply_frame_hex).subarray(72);
                expect(bytesToHex(new Uint8Array(res.body))).to.equal(bytesToHex(expectedContent));
              }
              break;
            }
            case 'http': {
              const res = await httpRequest(port, step.path);
              if (step.path === '/nosuchthing') {
                expect(res.status).to.equal(404);
                expect(JSON.parse(res.body.toString()).error.code).to.equal('RS_ERR_HTTP_NOT_FOUND');
                break;
              }
              expect(res.status).to.equal(200);
              if (step.body_hex !== undefined) {
                expect(res.headers['content-type']).to.equal('application/octet-stream');
                expect(res.body.toString('hex')).to.equal(step.body_hex);
              } else if (step.path === '/' || step.path === '/ni') {
                expect(stripStoreCounts(res.body.toString())).to.deep.equal(stripStoreCounts(step.body));
              } else {
                expect(res.body.toString()).to.equal(step.body);
              }
              break;
            }
            default:
              throw new Error(`unknown action ${step.action}`);
          }
        });
      });
    });
  }
});
