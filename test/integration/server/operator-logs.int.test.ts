/**
 * What an operator reads in the log of a running server (docs/logs.md): five announcements and a
 * `gr` over POST /subnode give six `debug` lines — each `ann` with its node, reply error and
 * stateHash prefix, the `gr` with its source, destination and whether a route was found — and
 * the periodic `info` summary counts them. At `info` the per-query lines are not written.
 */
import { expect } from 'chai';
import { startApp, type App } from '../../../src/app.ts';
import { validateConfig } from '../../../src/config.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { parseAnnouncement } from '../../../src/protocol/announcement.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { ip6FromString } from '../../../src/protocol/keys.ts';
import { waitFor } from '../../../src/cluster/native/processes.ts';
import { postSubnode } from '../../helpers/cluster.ts';
import { captureLog, type CapturedLog } from '../../helpers/log-capture.ts';
import { loadVectors } from '../../helpers/vectors.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
const scenario = (loadVectors('route_server.json').vectors as any[]).find(
  (s) => s.name === 'routes',
);
const annSteps = (scenario.steps as any[]).filter((s) => s.action === 'ann').slice(0, 5);

async function start(
  level: string,
  summaryMs: number,
): Promise<{ app: App; captured: CapturedLog; clock: ManualClock }> {
  const clock = new ManualClock(annSteps[0].now_ms);
  const captured = captureLog(level);
  const config = validateConfig({
    http: { host: '127.0.0.1', port: 0 },
    store: { mode: 'memory' },
    identity: { privateKey: scenario.self.private_hex, version: scenario.self.version ?? 22 },
    log: { level },
  });
  const app = await startApp(config, captured.log, {
    clock,
    expiryTimer: false,
    activitySummaryMs: summaryMs,
  });
  return { app, captured, clock };
}

/** The five announcements (each from its own node, at its step's time) and one gr. */
async function traffic(
  app: App,
  clock: ManualClock,
): Promise<{
  anns: Array<{ node: string; error: string; stateHash: string }>;
  gr: { src: string; dst: string; found: boolean };
}> {
  const port = app.address().port;
  const anns = [];
  for (const [i, step] of annSteps.entries()) {
    clock.set(step.now_ms);
    const bytes = hexToBytes(step.ann_hex);
    const node = parseAnnouncement(bytes, { verifySignature: false }).nodeIp;
    const r = await postSubnode(
      port,
      { sq: 'ann', txid: Uint8Array.of(i), ann: bytes, p: 22 },
      node,
    );
    expect(r.status).to.equal(200);
    expect(Buffer.from(r.reply!.error as Uint8Array).toString()).to.equal(step.expected.error);
    anns.push({
      node,
      error: step.expected.error as string,
      stateHash: bytesToHex(r.reply!.stateHash as Uint8Array).slice(0, 16),
    });
  }
  const src = anns[0]!.node;
  const dst = anns[anns.length - 1]!.node;
  const r = await postSubnode(
    port,
    { sq: 'gr', txid: Uint8Array.of(9), src: ip6FromString(src), tar: ip6FromString(dst), p: 22 },
    src,
  );
  expect(r.status).to.equal(200);
  return { anns, gr: { src, dst, found: r.reply!.n !== undefined } };
}

describe('operator logs (a running server, its pino stream captured)', () => {
  it('at debug: one line per ann (node, error, stateHash prefix) and per gr (src, dst, found); the summary counts them', async () => {
    const { app, captured, clock } = await start('debug', 50);
    try {
      const sent = await traffic(app, clock);
      const anns = captured.events('snode:ann:answered');
      expect(
        anns.map((l) => ({ node: l.node, error: l.error, stateHash: l.stateHash })),
      ).to.deep.equal(sent.anns);
      for (const l of anns) expect(l.level).to.equal(20);
      const grs = captured.events('snode:gr:answered');
      expect(grs).to.have.length(1);
      expect(grs[0]).to.include({ level: 20, ...sent.gr });
      if (sent.gr.found) expect(grs[0].label).to.match(/^[0-9a-f]{4}(\.[0-9a-f]{4}){3}$/);

      // the summary lines together count exactly this traffic
      const byError: Record<string, number> = {};
      for (const a of sent.anns) byError[a.error] = (byError[a.error] ?? 0) + 1;
      const total = (field: string): Record<string, number> => {
        const out: Record<string, number> = {};
        for (const l of captured.events('snode:activity:summary'))
          for (const [k, v] of Object.entries(l[field] as Record<string, number>))
            out[k] = (out[k] ?? 0) + v;
        return out;
      };
      await waitFor(
        'the summary lines to cover the traffic',
        () => (total('queries').gr ?? 0) === 1 && (total('queries').ann ?? 0) === 5,
        10_000,
        20,
      );
      expect(total('announcements')).to.deep.equal(byError);
      expect(total('queries')).to.deep.equal({ ann: 5, gr: 1 });
      const last = captured.events('snode:activity:summary').at(-1);
      expect(last.level).to.equal(30);
      expect(last.nodes).to.equal(app.server.nodes.size);
      expect(last.links).to.equal(app.server.linkCount());
    } finally {
      await app.close();
    }
  });

  it('at info: no per-query lines, the summary still comes', async () => {
    const { app, captured, clock } = await start('info', 50);
    try {
      await traffic(app, clock);
      await waitFor(
        'a summary line',
        () => captured.events('snode:activity:summary').length > 0,
        10_000,
        20,
      );
      expect(captured.events('snode:ann:answered')).to.deep.equal([]);
      expect(captured.events('snode:gr:answered')).to.deep.equal([]);
    } finally {
      await app.close();
    }
  });
});
