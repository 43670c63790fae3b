/**
 * Which routes the server answers (`routing.policy`; docs/compatibility.md "Route policy"):
 *  - `best`: the lowest-cost route whose spliced label fits cjdns' limit, with a finite cost for
 *    every link (best-cost.ts) and a tie-break that is the same in every process (node-order.ts);
 *    "no route" only when no route's label fits. The default of `snode serve`.
 *  - `original`: exactly the original route server's choice (cost 1/value, Infinity for an
 *    unmeasured link, node-dijkstra's tie-breaks); `snode replay`, the shared scenarios and the
 *    parity tests use it.
 * Kept free of runtime imports (the configuration schema reads it).
 */
export const ROUTE_POLICIES = ['best', 'original'] as const;

export type RoutePolicy = (typeof ROUTE_POLICIES)[number];
