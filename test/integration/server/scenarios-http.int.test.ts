/**
 * Every scenario of test/fixtures/vectors/route_server.json through a running server: `ann` steps as
 * `POST /subnode` queries, `subnode_message` steps as the same dictionary over `POST /subnode`
 * with the route-header fields in headers, `getRoute` and `http` steps as GETs. Replies must be
 * byte-exact (the stubbed replication counts of `/` and `/ni` compared by presence, and the
 * deliberate 404 for unknown paths: docs/compatibility.md).
 */
import { describeScenariosOverHttp } from '../../helpers/scenario-suite.ts';

describeScenariosOverHttp('route server over HTTP (route-server scenarios)', {
  // the scenarios are the original's exact replies, with its 3 s graph cadence: the reference engine
  routing: { mode: 'reference', policy: 'original' },
});
