/**
 * One step of a shared route-server scenario (test/fixtures/vectors/route_server.json) against a running
 * server, checked byte-exactly: `ann` steps as `POST /subnode` queries, `subnode_message` steps as
 * the same dictionary over `POST /subnode` with the route-header fields in headers, `getRoute`
 * and `http` steps as GETs (the stubbed replication counts of `/` and `/ni` compared by presence;
 * the deliberate 404 for unknown paths: docs/compatibility.md).
 */
import { expect } from 'chai';
import type { App } from '../../src/app.ts';
import { parseAnnouncement } from '../../src/protocol/announcement.ts';
import { bencodeDecode, bencodeEncode, type BDict } from '../../src/protocol/bencode.ts';
import { bytesToHex, hexToBytes } from '../../src/protocol/hex.ts';
import { parseHandlerFrame } from '../../src/protocol/wire-headers.ts';
import type { RouteJson } from '../../src/routing/route-answer.ts';
import { httpRequest } from './http.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ScenarioStep = any;

/**
 * The `x-cjdns-*` headers of the node that signed `ann` (an `ann` is its node's own: the route
 * server refuses one sent under another node's name); an announcement that does not parse is
 * refused before the sender matters, and goes under a placeholder.
 */
export function announcerHeaders(ann: Uint8Array): Record<string, string> {
  let ip = 'fc00:0000:0000:0000:0000:0000:0000:0001';
  try {
    ip = parseAnnouncement(ann, { verifySignature: false }).nodeIp;
  } catch {
    // unparseable: its reply is failed_parse_or_validate whoever sent it
  }
  return { 'x-cjdns-ip': ip, 'x-cjdns-version': '22' };
}

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

export interface ScenarioCheckOptions {
  /**
   * The expected `/path` answer (the text or the route) when it is not the original's: a server
   * under route policy `best` is checked against the reference engine's `best` on the same records.
   */
  readonly path?: (srcIp: string, dstIp: string) => string | RouteJson | null;
}

export async function checkScenarioStep(
  app: App,
  scenario: ScenarioStep,
  step: ScenarioStep,
  i: number,
  opts: ScenarioCheckOptions = {},
): Promise<void> {
  const port = app.address().port;
  switch (step.action) {
    case 'ann': {
      const txid = Uint8Array.of(0x30, 0x31, i);
      const ann = hexToBytes(step.ann_hex);
      const body = bencodeEncode({ sq: 'ann', ann, txid, p: 22 });
      const res = await httpRequest(port, '/subnode', {
        method: 'POST',
        body,
        headers: announcerHeaders(ann),
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
      // the routes of every announcement so far: the reference rebuilds its graph, the fast
      // engine swaps its snapshot
      app.server.reference?.routes.forceRebuild();
      await app.server.syncRoutes();
      const res = await httpRequest(port, `/path/${step.srcIp}/${step.dstIp}`);
      expect(res.status).to.equal(200);
      const text = res.body.toString();
      if (opts.path) {
        const expected = opts.path(step.srcIp, step.dstIp);
        if (typeof expected === 'string') expect(text).to.equal(expected);
        else expect(JSON.parse(text)).to.deep.equal(expected);
      } else if (step.expected === null && !app.server.nodes.get(step.dstIp))
        expect(text).to.equal('tar not found');
      else expect(JSON.parse(text)).to.deep.equal(step.expected);
      break;
    }
    case 'subnode_message': {
      const frame = parseHandlerFrame(hexToBytes(step.request_frame_hex));
      const rh = frame.routeHeader;
      const res = await httpRequest(port, '/subnode', {
        method: 'POST',
        body: frame.content,
        headers: {
          'x-cjdns-key': rh.publicKey ?? '',
          'x-cjdns-ip': rh.ip ?? '',
          'x-cjdns-version': String(rh.version),
        },
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
}
