/** CSR snapshots for graph tests, from adjacency rows. */
import { alloc, inEdgesOf, type SnapshotData } from '../../src/routing/snapshot-data.ts';

/** A CSR snapshot from adjacency rows (only the fields the search reads). */
export function csr(rows: [number, number][][]): SnapshotData {
  const n = rows.length;
  const offsets = alloc.i32(n + 1);
  let e = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = e;
    e += rows[i]!.length;
  }
  offsets[n] = e;
  const nbr = alloc.i32(e);
  const cost = alloc.f64(e);
  let k = 0;
  for (const row of rows)
    for (const [v, c] of row) {
      nbr[k] = v;
      cost[k++] = c;
    }
  return {
    ...inEdgesOf({ n, offsets, nbr, cost }),
    seq: 0,
    n,
    present: alloc.u8(n).fill(1),
    version: alloc.u32(n),
    schemeId: alloc.i32(n),
    offsets,
    nbr,
    cost,
    labelId: alloc.i32(e),
    form: alloc.u8(e),
    stats: { full: true, rowsRebuilt: n, edges: e, buildMs: 0 },
  };
}
