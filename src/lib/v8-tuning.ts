/**
 * V8 settings the route server runs with, set once before the server builds anything.
 *
 * Allocation-site pretenuring off (`--no-allocation-site-pretenuring`). V8 watches which object
 * literals tend to outlive a scavenge and then allocates them straight into the old generation.
 * A route server's initial load (or sync) keeps tens of thousands of announcements in flight at
 * once, so the sites of the ingest path (the objects that carry one announcement from its parse
 * to its apply) are marked long-lived then, and stay so. Afterwards every announcement's
 * carriers start out old, and an old object's references are roots for the young generation
 * until the next full collection, dead or not: the freshly parsed objects they point to survive
 * two scavenges and are promoted with them. Measured (issue 17, docs/performance.md): ~2.1 KB
 * promoted per announcement at 10k nodes with pretenuring, ~50 B without, and the scavenges
 * that copy it were the main-thread pauses behind the query p99 under ingest.
 */
import { setFlagsFromString } from 'node:v8';

let applied = false;

export function applyV8Tuning(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString('--no-allocation-site-pretenuring');
}
