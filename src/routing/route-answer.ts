/**
 * What a route query answers, whichever engine computed it: the original's route object for
 * `/path`, and the three things a `gr` reply needs.
 */
import type { RouteHop } from './route-label.ts';

/** The original's route object (`/path` JSON). No `path` key for src = dst. */
export interface RouteJson {
  label: string;
  hops: RouteHop[];
  path?: string[];
}

/** What a `gr` reply needs: `n` = key ‖ label (8 bytes BE), `np` = [1, version]. */
export interface GrRoute {
  readonly key: Uint8Array;
  readonly version: number;
  readonly label: bigint;
}
