/**
 * Replay a scenario (the format of test/fixtures/vectors/route_server.json) against a fresh in-memory
 * route server driven by the step clock. Each step yields the actual outcome under the field
 * names the scenario uses for its expectations (`expected`, `replication`, `node_state_after`,
 * `expected_reply_frame_hex`, `body`/`body_hex`), so the two can be compared key by key.
 */
import { z } from 'zod';
import { RsError, isRsError } from '../errors.ts';
import { nodeStateSummary } from '../graph/node-state-summary.ts';
import { bytesToHex, hexToBytes } from '../protocol/hex.ts';
import { ManualClock } from '../lib/clock.ts';
import { handleHandlerFrame } from './handler-frame.ts';
import { identityFromPrivateKey } from './identity.ts';
import { answerRead } from './read-api.ts';
import { RouteServer } from './route-server.ts';

const stepSchema = z.looseObject({ action: z.string(), now_ms: z.number().optional() });
export const scenarioSchema = z.looseObject({
  id: z.string().optional(),
  name: z.string().optional(),
  self: z.looseObject({
    private_hex: z.string().regex(/^[0-9a-fA-F]{64}$/),
    version: z.number().int().optional(),
  }),
  steps: z.array(stepSchema),
});
export type Scenario = z.infer<typeof scenarioSchema>;

const identitiesSchema = z.array(z.looseObject({ name: z.string(), ipv6: z.string() })).optional();

/** A file holding one scenario, or a whole vectors file (`{identities?, vectors: [scenario…]}`). */
export function readScenarios(value: unknown): {
  scenarios: Scenario[];
  names: Map<string, string>;
} {
  const names = new Map<string, string>();
  const obj = (value ?? {}) as Record<string, unknown>;
  const ids = identitiesSchema.safeParse(obj.identities);
  if (ids.success && ids.data) for (const i of ids.data) names.set(i.ipv6, i.name);
  const list = Array.isArray(obj.vectors) ? obj.vectors : Array.isArray(value) ? value : [value];
  const scenarios = list.map((s, i) => {
    const r = scenarioSchema.safeParse(s);
    if (!r.success) {
      const first = r.error.issues[0];
      throw new RsError(
        'RS_ERR_INPUT_INVALID',
        `scenario ${i}: ${first?.path.join('.') ?? ''} ${first?.message ?? 'invalid'}`,
      );
    }
    return r.data;
  });
  return { scenarios, names };
}

function hexList(hashes: readonly Uint8Array[]): string[] {
  return hashes.map(bytesToHex);
}

function str(step: Record<string, unknown>, key: string): string {
  const v = step[key];
  if (typeof v !== 'string')
    throw new RsError('RS_ERR_INPUT_INVALID', `step field ${key} must be a string`);
  return v;
}

/** Run one scenario; returns one result object per step. */
export async function replayScenario(
  scenario: Scenario,
  names: ReadonlyMap<string, string> = new Map(),
): Promise<Record<string, unknown>[]> {
  const clock = new ManualClock(0);
  const self = identityFromPrivateKey(
    hexToBytes(scenario.self.private_hex.toLowerCase()),
    scenario.self.version ?? 22,
  );
  // the scenarios hold the original's answers: its engine, its timing, its route choice
  const server = new RouteServer({
    self,
    clock,
    routing: { mode: 'reference', policy: 'original' },
  });
  const store = { added: [] as Uint8Array[], deleted: [] as Uint8Array[] };
  server.addListener({
    accepted: (ann) => store.added.push(ann.hash),
    deleted: (h) => store.deleted.push(h),
  });
  const takeReplication = (): { addAnn: string[]; deleteAnn: string[] } => {
    const r = { addAnn: hexList(store.added), deleteAnn: hexList(store.deleted) };
    store.added = [];
    store.deleted = [];
    return r;
  };
  const id = scenario.id ?? scenario.name ?? 'scenario';
  const out: Record<string, unknown>[] = [];
  try {
    for (const [i, step] of scenario.steps.entries()) {
      if (step.now_ms !== undefined) clock.set(step.now_ms);
      const base = { id, step: i, action: step.action };
      const s = step as Record<string, unknown>;
      try {
        switch (step.action) {
          case 'ann':
          case 'gossip_ann': {
            const o = await server.submitAnnouncement(
              hexToBytes(str(s, 'ann_hex').toLowerCase()),
              step.action === 'ann' ? 'node' : 'gossip',
            );
            const ip = o.node?.ipv6 ?? o.accepted?.nodeIp;
            out.push({
              ...base,
              expected: { error: o.error, stateHash: bytesToHex(o.stateHash) },
              replication: takeReplication(),
              node_state_after: nodeStateSummary(ip ? server.nodes.get(ip) : undefined, names),
            });
            break;
          }
          case 'getRoute': {
            server.reference?.routes.forceRebuild();
            out.push({ ...base, expected: server.getRoute(str(s, 'srcIp'), str(s, 'dstIp')) });
            takeReplication();
            break;
          }
          case 'subnode_message': {
            const r = await handleHandlerFrame(
              hexToBytes(str(s, 'request_frame_hex').toLowerCase()),
              (dict, sender) => server.handleSubnodeQueryResult(dict, sender),
            );
            out.push({
              ...base,
              expected_reply_frame_hex: r.kind === 'reply' ? bytesToHex(r.frame) : null,
              replication: takeReplication(),
            });
            break;
          }
          case 'http': {
            const path = str(s, 'path');
            let status: number;
            let contentType: string;
            let body: string | Uint8Array;
            try {
              const a = answerRead(path.split('?')[0]!, {
                views: server.views,
                peerInfo: () => ({ peers: [], ...server.store.sizes() }),
                setDebugNode: (ip) => server.setDebugNode(ip),
              });
              if (!a) throw new RsError('RS_ERR_HTTP_NOT_FOUND', `${path} is not replayed`);
              ({ status, contentType, body } = a);
            } catch (e) {
              if (!isRsError(e)) throw e;
              status = e.code === 'RS_ERR_HTTP_NOT_FOUND' ? 404 : 400;
              contentType = 'application/json; charset=utf-8';
              body = JSON.stringify({ error: { code: e.code, message: e.message } }, null, 2);
            }
            const res: Record<string, unknown> = {
              ...base,
              path,
              status,
              ended: true,
              headers: { 'Content-Type': contentType },
            };
            if (typeof body === 'string') res.body = body;
            else if (/^(application\/json|text\/)/.test(contentType))
              res.body = Buffer.from(body).toString('utf8'); // a JSON answer printed straight to bytes
            else res.body_hex = bytesToHex(body);
            out.push(res);
            break;
          }
          default:
            out.push({
              ...base,
              error: { code: 'RS_ERR_INPUT_INVALID', message: `unknown action ${step.action}` },
            });
        }
      } catch (e) {
        if (!isRsError(e)) throw e;
        out.push({ ...base, error: e.toJSON() });
      }
    }
  } finally {
    server.close();
  }
  return out;
}
