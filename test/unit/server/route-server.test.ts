/**
 * RouteServer in fast routing mode against the route-server scenarios (test/fixtures): every `ann` /
 * `gossip_ann` reply (error and stateHash) is the vector's, and once the tree replicas are in
 * sync every `getRoute` is the vector's — with the replicas in this thread and parsing on the
 * main thread, and with worker replicas and the verification pool.
 */
import { expect } from 'chai';
import { defaultFastRoutingOptions } from '../../../src/routing/routing-supervisor.ts';
import { DEFAULT_TREE_OPTIONS } from '../../../src/routing/tree-replicas.ts';
import { bytesToHex, hexToBytes } from '../../../src/protocol/hex.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { identityFromPrivateKey } from '../../../src/server/identity.ts';
import { RouteServer } from '../../../src/server/route-server.ts';
import { loadVectors } from '../../helpers/vectors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Step = any;
const file = loadVectors('route_server.json');

for (const variant of ['thread', 'worker'] as const) {
  describe(`route server, fast routing (${variant === 'thread' ? 'in-thread replicas, main-thread parsing' : 'worker replicas, verification pool'})`, () => {
    for (const scenario of file.vectors as Step[]) {
      it(`replays ${scenario.name as string} with the vectors' replies and routes`, async () => {
        const clock = new ManualClock(0);
        const self = identityFromPrivateKey(
          hexToBytes(scenario.self.private_hex),
          scenario.self.version ?? 22,
        );
        const options = defaultFastRoutingOptions({
          // the vectors hold the original's routes
          tree: {
            ...DEFAULT_TREE_OPTIONS,
            backend: variant,
            swapIntervalMs: 60_000,
            policy: 'original',
          },
          ...(variant === 'thread' ? { verifyPool: undefined } : {}),
        });
        const server = new RouteServer({ self, clock, routing: { mode: 'fast', options } });
        try {
          let routes = 0;
          for (const step of scenario.steps as Step[]) {
            clock.set(step.now_ms);
            if (step.action === 'ann' || step.action === 'gossip_ann') {
              const o = await server.submitAnnouncement(
                hexToBytes(step.ann_hex),
                step.action === 'ann' ? 'node' : 'gossip',
              );
              expect(o.error).to.equal(step.expected.error);
              expect(bytesToHex(o.stateHash)).to.equal(step.expected.stateHash);
            } else if (step.action === 'getRoute') {
              await server.syncRoutes();
              expect(server.getRoute(step.srcIp, step.dstIp)).to.deep.equal(step.expected);
              routes++;
            }
          }
          if (scenario.name === 'routes') expect(routes).to.be.greaterThan(5);
        } finally {
          await server.close();
        }
      });
    }
  });
}

describe('RouteServer#submitAnnouncement with a pick (what replication keeps of an outcome)', () => {
  for (const variant of ['thread', 'worker'] as const) {
    it(`hands the outcome to pick in the apply's turn and resolves with pick's value only (${variant})`, async () => {
      const scenario = (file.vectors as Step[]).find((s) =>
        (s.steps as Step[]).some((st) => st.action === 'ann' || st.action === 'gossip_ann'),
      );
      const clock = new ManualClock(0);
      const self = identityFromPrivateKey(hexToBytes(scenario.self.private_hex), 22);
      const options = defaultFastRoutingOptions({
        tree: { ...DEFAULT_TREE_OPTIONS, backend: variant, swapIntervalMs: 60_000 },
        ...(variant === 'thread' ? { verifyPool: undefined } : {}),
      });
      const server = new RouteServer({ self, clock, routing: { mode: 'fast', options } });
      try {
        let checked = 0;
        for (const step of scenario.steps as Step[]) {
          if (step.action !== 'ann' && step.action !== 'gossip_ann') continue;
          clock.set(step.now_ms);
          const picked = await server.submitAnnouncement(
            hexToBytes(step.ann_hex),
            step.action === 'ann' ? 'node' : 'gossip',
            (o) => ({ error: o.error, stateHash: bytesToHex(o.stateHash) }),
          );
          expect(picked).to.deep.equal({
            error: step.expected.error,
            stateHash: step.expected.stateHash,
          });
          checked++;
        }
        expect(checked).to.be.greaterThan(0);
        // a parse failure reaches pick too
        expect(
          await server.submitAnnouncement(new Uint8Array(10), 'gossip', (o) => o.error),
        ).to.equal('failed_parse_or_validate');
        // a throwing pick rejects the submission
        const bytes = hexToBytes(
          (scenario.steps as Step[]).find((st) => st.action === 'gossip_ann' || st.action === 'ann')
            .ann_hex,
        );
        const err = await server
          .submitAnnouncement(bytes, 'gossip', () => {
            throw new Error('pick threw');
          })
          .then(
            () => undefined,
            (e: Error) => e.message,
          );
        expect(err).to.equal('pick threw');
      } finally {
        await server.close();
      }
    });
  }
});
