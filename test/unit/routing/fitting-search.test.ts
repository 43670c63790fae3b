/**
 * The fitting search on its own: on cjdns-like networks it finds, for every pair, the route the
 * reference finds (its exactness against brute force is in the property tests), and with its
 * work bound exhausted it still answers every pair that has a fitting route — with the
 * fewest-bits route, whose label walks to the destination — and "no route" only when nothing fits.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { NodeTable } from '../../../src/graph/apply-announcement.ts';
import { BestRouting } from '../../../src/routing/best-routing.ts';
import { newGraphTables, type GraphTables } from '../../../src/graph/id-tables.ts';
import { nodeUpdateOf } from '../../../src/routing/node-update.ts';
import {
  recordHops,
  recordHopBits,
  type RecordHop,
} from '../../../src/routing/reference/best-route.ts';
import { RouteEngine } from '../../../src/routing/reference/route-engine.ts';
import { ReplicaModel } from '../../../src/routing/replica-model.ts';
import { spliceSteps, type LabelStep } from '../../../src/routing/route-label.ts';
import type { SnapshotData } from '../../../src/routing/snapshot-data.ts';
import { HOP_UNUSABLE, MAX_DIRECTOR_BITS } from '../../../src/routing/hop-bits.ts';
import { arbNetwork } from '../../helpers/route-networks.ts';
import { nodeOfIp, tableOfTopology, walkLabel } from '../../helpers/route-topology.ts';
import { T0 } from '../graph/fixtures.ts';

function built(table: NodeTable): { data: SnapshotData; tables: GraphTables; best: BestRouting } {
  const tables = newGraphTables();
  const model = new ReplicaModel({ policy: 'best' });
  let seq = 0;
  for (const rec of table) model.apply({ ...nodeUpdateOf(rec, tables), seq: ++seq });
  return { data: model.build(), tables, best: new BestRouting(tables) };
}

/** The fewest bits of any simple route src → dst whose label fits, by enumeration (Infinity: none). */
function fewestBits(hops: Map<string, RecordHop[]>, src: string, dst: string): number {
  let best = Infinity;
  const seen = new Set([src]);
  const walk = (ip: string, arrival: number | undefined, bits: number): void => {
    for (const h of hops.get(ip) ?? []) {
      const b = recordHopBits(h, arrival);
      if (b === HOP_UNUSABLE || bits + b > MAX_DIRECTOR_BITS || bits + b >= best) continue;
      if (h.to.ipv6 === dst) best = bits + b;
      else if (!seen.has(h.to.ipv6)) {
        seen.add(h.to.ipv6);
        walk(h.to.ipv6, h.encodingFormNum, bits + b);
        seen.delete(h.to.ipv6);
      }
    }
  };
  walk(src, undefined, 0);
  return best;
}

describe('fitting search', () => {
  it('finds what the reference finds, for every pair', () => {
    fc.assert(
      fc.property(arbNetwork, (topo) => {
        const table = tableOfTopology(topo);
        const { data, tables, best } = built(table);
        const reference = new RouteEngine(table, 'best');
        for (const s of table.nodesByIp.keys())
          for (const d of table.nodesByIp.keys()) {
            if (s === d) continue;
            const si = tables.ids.find(s)!;
            const di = tables.ids.find(d)!;
            const r = best.fitting.find(data, si, di, best.classes());
            const want = reference.getRoute(s, d, T0);
            expect(
              r?.path.map((id) => tables.ids.ipOf(id)) ?? null,
              `${nodeOfIp(s)} -> ${nodeOfIp(d)}`,
            ).to.deep.equal(want?.path ?? null);
            expect(best.fitting.lastBudgetExceeded).to.equal(false);
          }
      }),
      { numRuns: 60, seed: 0xf17_01 },
    );
  });

  it('past its work bound answers the fewest-bits route: it fits and walks to the destination', () => {
    let fallbacks = 0;
    fc.assert(
      fc.property(arbNetwork, (topo) => {
        const table = tableOfTopology(topo);
        const hops = recordHops(table.nodesByIp);
        const { data, tables, best } = built(table);
        for (const s of table.nodesByIp.keys())
          for (const d of table.nodesByIp.keys()) {
            if (s === d) continue;
            const r = best.fitting.find(
              data,
              tables.ids.find(s)!,
              tables.ids.find(d)!,
              best.classes(),
              () => 0,
              1,
            );
            const fewest = fewestBits(hops, s, d);
            const ctx = `${nodeOfIp(s)} -> ${nodeOfIp(d)}`;
            if (fewest === Infinity) {
              expect(r, ctx).to.equal(null);
              continue;
            }
            expect(r, ctx).to.not.equal(null);
            if (best.fitting.lastBudgetExceeded) fallbacks++;
            const steps: LabelStep[] = r!.edges.map((e, i) => ({
              label: tables.labels.valueOf(data.labelId[e]!)!,
              origLabel: tables.labels.textOf(data.labelId[e]!),
              encodingFormNum: data.form[e]!,
              scheme: tables.schemes.get(data.schemeId[r!.path[i]!]!),
            }));
            const label = spliceSteps(steps, false).label;
            const nodes = r!.path.map((id) => nodeOfIp(tables.ids.ipOf(id)));
            expect(walkLabel(topo, nodes[0]!, label), ctx).to.deep.equal(nodes.slice(1));
            if (best.fitting.lastBudgetExceeded) expect(r!.bits, ctx).to.equal(fewest);
          }
      }),
      { numRuns: 60, seed: 0xf17_02 },
    );
    expect(fallbacks).to.be.greaterThan(200);
  });
});
