import { expect } from 'chai';
import type { NodeRecordView } from '../../../src/graph/node-record.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { ip6ToString } from '../../../src/protocol/keys.ts';
import { formatLabel } from '../../../src/protocol/routing-label.ts';
import { referenceServer, type ReferenceServer } from '../../helpers/reference-server.ts';
import { fromVectorValue, loadVectors } from '../../helpers/vectors.ts';
import { nodeStateSummary } from '../../../src/graph/node-state-summary.ts';

interface Identity {
  name: string;
  ipv6: string;
}
interface Step {
  action: string;
  now_ms: number;
  node?: string;
  from?: string;
  ann_hex?: string;
  srcIp?: string;
  dstIp?: string;
  note?: string;
  expected?: unknown;
  replication?: { addAnn: string[]; deleteAnn: string[] };
  node_state_after?: unknown;
  path?: string;
  body?: string;
  request_content?: Record<string, unknown>;
  expected_reply_content?: Record<string, unknown> | null;
}
interface Scenario {
  id: string;
  name: string;
  self: Identity;
  steps: Step[];
}

const file = loadVectors<Scenario>('route_server.json');
const identities = file.identities as Identity[];
const ipOf = (name: string): string => {
  const id = identities.find((i) => i.name === name);
  if (!id) throw new Error(`unknown identity ${name}`);
  return id.ipv6;
};

/** The vectors' node_state_after without the informative `from` (identity name) of link groups. */
function withoutNames(state: unknown): unknown {
  if (!state) return state;
  const s = state as { links: { from?: string; fromIp: string }[] };
  for (const g of s.links) {
    const id = identities.find((i) => i.name === g.from);
    if (id) expect(id.ipv6).to.equal(g.fromIp);
  }
  return { ...s, links: s.links.map(({ from: _from, ...rest }) => rest) };
}

function nodeState(r: NodeRecordView | undefined): unknown {
  return nodeStateSummary(r, new Map());
}

const hexes = (hs: Uint8Array[]): string[] => hs.map(bytesToHex);
const utf8 = (b: unknown): string => Buffer.from(b as Uint8Array).toString('utf8');

describe('route_server.json scenarios (graph core)', () => {
  for (const scenario of file.vectors) {
    describe(scenario.name, () => {
      // Steps share state: each `it` runs one step against the scenario's server (reference
      // engine, through the ingest funnel), in order.
      let ref: ReferenceServer;
      before(() => {
        ref = referenceServer(scenario.self.ipv6);
      });

      scenario.steps.forEach((step, i) => {
        const title = `step ${i} ${step.action}${step.note ? ` (${step.note.slice(0, 60)})` : ''}`;

        if (step.action === 'ann' || step.action === 'gossip_ann') {
          it(`${title} replies, replicates and updates the record as the original`, async () => {
            const out = await ref.announce(hexToBytes(step.ann_hex!), {
              fromNode: step.action === 'ann',
              now: step.now_ms,
            });
            const exp = step.expected as { error: string; stateHash: string };
            expect({ error: out.error, stateHash: bytesToHex(out.stateHash) }).to.deep.equal(exp);
            expect({ addAnn: hexes(out.added), deleteAnn: hexes(out.deleted) }).to.deep.equal(
              step.replication,
            );
            expect(nodeState(ref.server.nodes.get(ipOf(step.node!)))).to.deep.equal(
              withoutNames(step.node_state_after),
            );
          });
        } else if (step.action === 'getRoute') {
          it(`${title} returns the original's route`, () => {
            ref.server.reference!.routes.forceRebuild();
            ref.clock.set(step.now_ms);
            expect(ref.server.getRoute(step.srcIp!, step.dstIp!)).to.deep.equal(step.expected);
          });
        } else if (step.action === 'subnode_message') {
          const content = fromVectorValue(step.request_content) as Record<string, unknown>;
          const sq = content.sq === undefined ? undefined : utf8(content.sq);
          const reply = step.expected_reply_content
            ? (fromVectorValue(step.expected_reply_content) as Record<
                string,
                Uint8Array | undefined
              >)
            : undefined;
          if (sq === 'ann') {
            it(`${title} applies the ann as fromNode and replies as the original`, async () => {
              const out = await ref.announce(content.ann as Uint8Array, {
                fromNode: true,
                now: step.now_ms,
              });
              expect(utf8(reply!.error)).to.equal(out.error);
              expect(bytesToHex(out.stateHash)).to.equal(bytesToHex(reply!.stateHash!));
              expect({ addAnn: hexes(out.added), deleteAnn: hexes(out.deleted) }).to.deep.equal(
                step.replication,
              );
            });
          } else if (sq === 'gr') {
            it(`${title} computes the route of the gr reply (no forced rebuild)`, () => {
              const src = ip6ToString(content.src as Uint8Array);
              const tar = ip6ToString(content.tar as Uint8Array);
              ref.clock.set(step.now_ms);
              const r = ref.server.routeForGr(src, tar);
              if (!reply!.n) {
                expect(r).to.equal(null);
                return;
              }
              expect(r).to.not.equal(null);
              const n = bytesToHex(reply!.n);
              expect(bytesToHex(r!.key)).to.equal(n.slice(0, 64));
              expect(formatLabel(r!.label).replace(/\./g, '')).to.equal(n.slice(64));
              expect([...reply!.np!]).to.deep.equal([1, r!.version]);
            });
          } else if (sq === 'pn') {
            it(`${title} has the stateHash the pn reply carries`, () => {
              const rec = ref.server.nodes.get(ipOf(step.from!));
              const expected = bytesToHex(reply!.stateHash!);
              expect(rec ? bytesToHex(rec.stateHash) : '00'.repeat(64)).to.equal(expected);
            });
          }
          // other subnode messages change nothing in the graph
        }
        if (step.action === 'http' && step.path?.startsWith('/path/')) {
          // /path queries getRoute (no forced rebuild): it can rebuild the graph, which sorts links
          it(`${title} ${step.path} computes the original's route`, () => {
            const [, , srcIp, dstIp] = step.path!.split('/');
            const body = step.body;
            const srcKnown = ref.server.nodes.get(srcIp!) !== undefined;
            const dstKnown = ref.server.nodes.get(dstIp!) !== undefined;
            if (!srcKnown) expect(body).to.equal('src not found');
            else if (!dstKnown) expect(body).to.equal('tar not found');
            else {
              ref.clock.set(step.now_ms);
              expect(JSON.stringify(ref.server.getRoute(srcIp!, dstIp!), null, 2)).to.equal(body);
            }
          });
        }
        // the other http steps belong to the server layer and change no graph state
      });
    });
  }
});
