/**
 * The route-server scenarios of scenarios-http.int.test.ts against `routing.mode: 'fast'` (subnode
 * actors, verification workers, worker tree replicas), with the tree replicas synced before
 * every step: once routes are current, every reply — `ann` stateHash and error, `gr` frames,
 * `/path`, `/ni`, `/walk`, `/dump` — is byte-identical to the original's. (Without the sync the
 * routes are those of the last swapped snapshot, up to `routing.swapIntervalMs` old, where the
 * original's are up to 3 s old: the reference mode keeps that timing.)
 *
 * The step checks below are those of scenarios-http.int.test.ts, which says:
 * Every scenario of test/fixtures/vectors/route_server.json through a running server: `ann` steps as
 * `POST /subnode` queries, `subnode_message` steps as the same dictionary over `POST /subnode`
 * with the route-header fields in headers, `getRoute` and `http` steps as GETs. Replies must be
 * byte-exact (the stubbed replication counts of `/` and `/ni` compared by presence, and the
 * deliberate 404 for unknown paths: docs/compatibility.md).
 */
import { describeScenariosOverHttp } from '../../helpers/scenario-suite.ts';

describeScenariosOverHttp('route server over HTTP, fast routing (route-server scenarios)', {
  // parity with the original's replies: the fast engine under the original's route policy
  routing: { mode: 'fast', policy: 'original' },
  // fast routing: answers come from the active snapshot; make it current first
  beforeStep: (app) => app.server.syncRoutes(),
});
