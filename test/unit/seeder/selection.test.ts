/**
 * Which peers a posting node is handed (docs/seeder.md): oldest first, at most 6, public
 * only, same address family, never the asker itself, never a node that already has the asker
 * as a peer, never a node the graph does not hold or that is full; ring passes; the random trim.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  decodeCredentialRecord,
  type PeeringCredential,
} from '../../../src/protocol/peering-credentials.ts';
import { SeederTable } from '../../../src/seeder/seeder-table.ts';
import { Seeder } from '../../../src/seeder/seeder.ts';
import {
  Selection,
  isAppropriate,
  selectFor,
  trimSelection,
} from '../../../src/seeder/selection.ts';
import { PUB, credOf, graphOf, recordOf, settingsOf, testNode, type TestNode } from './fixtures.ts';

const T = 1_700_000_000;

function handed(seeder: Seeder, node: TestNode, ...creds: PeeringCredential[]): string[] {
  const out = seeder.post(node.ip, recordOf(PUB(), ...creds), T);
  if (!('pr' in out)) throw new Error(`post refused: ${out.err}`);
  return decodeCredentialRecord(out.pr).peers.map(
    (p) => Buffer.from(p.address.ip).join('.') + ':' + p.address.port,
  );
}

const addr = (c: PeeringCredential): string =>
  Buffer.from(c.address.ip).join('.') + ':' + c.address.port;

describe('seeder selection', () => {
  const nodes = Array.from({ length: 12 }, (_, i) => testNode(`n${i}`));
  const everyoneKnown = (): Map<string, string[]> => new Map(nodes.map((n) => [n.ip, []]));

  it('hands a node the 6 oldest other public entries of its family', () => {
    const seeder = new Seeder({ settings: settingsOf(), graph: graphOf(everyoneKnown()) });
    for (let i = 0; i < 9; i++)
      expect(handed(seeder, nodes[i]!, credOf(nodes[i]!, i))).to.have.length(Math.min(i, 6));
    expect(handed(seeder, nodes[9]!, credOf(nodes[9]!, 9))).to.deep.equal(
      [0, 1, 2, 3, 4, 5].map((i) => addr(credOf(nodes[i]!, i))),
    );
    // the oldest node is handed the next oldest: never itself
    expect(handed(seeder, nodes[0]!, credOf(nodes[0]!, 0))).to.deep.equal(
      [1, 2, 3, 4, 5, 6].map((i) => addr(credOf(nodes[i]!, i))),
    );
  });

  it('never offers a node to itself, even under another credential of its own', () => {
    const seeder = new Seeder({ settings: settingsOf(), graph: graphOf(everyoneKnown()) });
    handed(seeder, nodes[0]!, credOf(nodes[0]!, 100));
    expect(handed(seeder, nodes[0]!, credOf(nodes[0]!, 101))).to.deep.equal([]);
  });

  it('never offers a node that already announced the asker as its peer', () => {
    const graph = everyoneKnown();
    graph.set(nodes[1]!.ip, [nodes[0]!.ip]);
    const seeder = new Seeder({ settings: settingsOf(), graph: graphOf(graph) });
    handed(seeder, nodes[1]!, credOf(nodes[1]!, 1));
    handed(seeder, nodes[2]!, credOf(nodes[2]!, 2));
    expect(handed(seeder, nodes[0]!, credOf(nodes[0]!, 0))).to.deep.equal([
      addr(credOf(nodes[2]!, 2)),
    ]);
  });

  it('never offers a node the graph does not hold, nor one with max_connection_count peers', () => {
    const graph = new Map<string, string[]>([
      [nodes[0]!.ip, []],
      [nodes[2]!.ip, ['a', 'b']],
      [nodes[3]!.ip, ['a']],
    ]);
    const seeder = new Seeder({
      settings: settingsOf({ max_connection_count: 2 }),
      graph: graphOf(graph),
    });
    for (const i of [1, 2, 3]) handed(seeder, nodes[i]!, credOf(nodes[i]!, i));
    expect(handed(seeder, nodes[0]!, credOf(nodes[0]!, 0))).to.deep.equal([
      addr(credOf(nodes[3]!, 3)),
    ]);
  });

  it('offers only PUB_ entries (case-sensitive bytes); a private node is still handed peers', () => {
    const seeder = new Seeder({ settings: settingsOf(), graph: graphOf(everyoneKnown()) });
    handed(seeder, nodes[1]!, credOf(nodes[1]!, 1));
    for (const [i, id] of [
      [2, 'pub_lower'],
      [3, 'PUB'],
      [4, 'private'],
    ] as const) {
      const out = seeder.post(
        nodes[i]!.ip,
        recordOf(new TextEncoder().encode(id), credOf(nodes[i]!, i)),
        T,
      );
      expect(
        decodeCredentialRecord((out as { pr: Uint8Array }).pr).peers.map(addr),
        id,
      ).to.deep.equal([addr(credOf(nodes[1]!, 1))]);
    }
    expect(handed(seeder, nodes[0]!, credOf(nodes[0]!, 0))).to.deep.equal([
      addr(credOf(nodes[1]!, 1)),
    ]);
  });

  it('keeps the first-decided privacy when the PeerID changes (the Rust port does not recompute it)', () => {
    const seeder = new Seeder({ settings: settingsOf(), graph: graphOf(everyoneKnown()) });
    seeder.post(nodes[1]!.ip, recordOf(new TextEncoder().encode('mine'), credOf(nodes[1]!, 1)), T);
    seeder.post(nodes[1]!.ip, recordOf(PUB('now'), credOf(nodes[1]!, 1)), T);
    expect(handed(seeder, nodes[0]!, credOf(nodes[0]!, 0))).to.deep.equal([]);
  });

  it('matches address families: an IPv4 credential gets IPv4 peers, an IPv6 one IPv6 peers', () => {
    const seeder = new Seeder({ settings: settingsOf(), graph: graphOf(everyoneKnown()) });
    handed(seeder, nodes[1]!, credOf(nodes[1]!, 1, 4));
    handed(seeder, nodes[2]!, credOf(nodes[2]!, 2, 6));
    expect(handed(seeder, nodes[0]!, credOf(nodes[0]!, 0, 4))).to.deep.equal([
      addr(credOf(nodes[1]!, 1, 4)),
    ]);
    expect(handed(seeder, nodes[0]!, credOf(nodes[0]!, 0, 6))).to.deep.equal([
      addr(credOf(nodes[2]!, 2, 6)),
    ]);
  });

  it('trims a v4+v6 post from up to 12 to 6, never dropping the first', () => {
    const seeder = new Seeder({
      settings: settingsOf(),
      graph: graphOf(everyoneKnown()),
      random: () => 0.999,
    });
    for (let i = 1; i <= 7; i++)
      handed(seeder, nodes[i]!, credOf(nodes[i]!, i, 4), credOf(nodes[i]!, i, 6));
    const got = handed(seeder, nodes[0]!, credOf(nodes[0]!, 0, 4), credOf(nodes[0]!, 0, 6));
    // 6 IPv4 + 6 IPv6 chosen; random() ≈ 1 always drops the last: the six IPv4 remain
    expect(got).to.deep.equal([1, 2, 3, 4, 5, 6].map((i) => addr(credOf(nodes[i]!, i, 4))));
  });

  it('trimSelection drops uniformly among indexes 1…n-1 and keeps index 0 and the order', () => {
    const creds = Array.from({ length: 12 }, (_, i) => credOf(nodes[0]!, i));
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
          minLength: 6,
          maxLength: 6,
        }),
        (rs) => {
          let k = 0;
          const out = trimSelection(creds, () => rs[k++]!);
          expect(out).to.have.length(6);
          expect(out[0]).to.equal(creds[0]);
          const idx = out.map((c) => creds.indexOf(c));
          expect(idx).to.deep.equal([...idx].sort((a, b) => a - b));
        },
      ),
    );
    expect(trimSelection(creds, () => 0).map((c) => creds.indexOf(c))).to.deep.equal([
      0, 7, 8, 9, 10, 11,
    ]);
    expect(trimSelection(creds.slice(0, 4), () => 0)).to.have.length(4);
  });

  describe('rings', () => {
    // the Rust port puts every entry in ring 0; the passes still order other rings as specified
    function tableWithRings(rings: number[]): SeederTable {
      const t = new SeederTable({ maxEntries: 100, maxPerNode: 4, expireAfterSec: 3600 });
      rings.forEach((ring, i) =>
        t.report(nodes[i + 1]!.ip, credOf(nodes[i + 1]!, i + 1), PUB(), T, ring),
      );
      return t;
    }
    const pick = (t: SeederTable, myRing: number, out = new Selection()): number[] => {
      const mine = t.report(nodes[0]!.ip, credOf(nodes[0]!, 0), PUB(), T, myRing);
      selectFor(mine, t.entries(), out, graphOf(everyoneKnown()), 128);
      return out.creds.map((c) => c.login - 1000);
    };

    it('first takes one peer from the ring below, then its own ring, then higher rings, then any', () => {
      //          entry:   1  2  3  4  5  6  7  8
      const t = tableWithRings([2, 0, 1, 1, 3, 0, 1, 2]);
      // myRing 2: attempt 0 → one of ring 1 (entry 3); attempt 1 → ring 2 (1, 8); attempt 2 → ≥ 2 (5); attempt 3 → any (2)
      expect(pick(t, 2)).to.deep.equal([3, 1, 8, 5, 2, 4]);
    });

    it('skips the ring below when the output already holds peers of an earlier credential', () => {
      const t = tableWithRings([2, 0, 1, 1, 3, 0, 1, 2]);
      const out = new Selection();
      out.add(t.entries()[5]!); // entry 6 (ring 0), chosen for an earlier TLV
      expect(pick(t, 2, out)).to.deep.equal([6, 1, 8, 5, 2, 3, 4]);
    });

    it('in ring 0 (what the Rust port does) hands the oldest eligible entries', () => {
      expect(pick(tableWithRings([0, 0, 0, 0, 0, 0, 0, 0]), 0)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    });
  });

  it('isAppropriate without an asker only looks at the graph', () => {
    const g = graphOf(new Map([[nodes[0]!.ip, [nodes[1]!.ip]]]));
    expect(isAppropriate(nodes[0]!.ip, undefined, g, 2)).to.equal(true);
    expect(isAppropriate(nodes[0]!.ip, undefined, g, 1)).to.equal(false);
    expect(isAppropriate(nodes[0]!.ip, nodes[1]!.ip, g, 2)).to.equal(false);
    expect(isAppropriate(nodes[0]!.ip, nodes[0]!.ip, g, 2)).to.equal(false);
    expect(isAppropriate(nodes[5]!.ip, undefined, g, 1_000_000)).to.equal(false);
  });
});
