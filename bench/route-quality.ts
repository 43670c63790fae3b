/**
 * Route quality figures of the benchmark, computed from the generated topology itself — not by
 * the route server's code — so the bench can say independently which pairs have a route whose
 * label fits, and how short it can be.
 *
 * A route's label fits cjdns' 64-bit label when its directors take at most 59 bits. In the
 * bench's v358 mesh every one-hop label is in the smallest form of its interface number (4, 7 or
 * 10 bits), and the route server widens a hop's label to the form of the previous link's label
 * back when that one is wider: so hop a → b takes the size of the wider of a's two interfaces
 * used (towards b, and back towards where the packet came from; the first hop only its own).
 * `fewestFittingHops` is a breadth-first search over (node, form of the arrival interface)
 * keeping, per state, the fewest bits seen at an earlier or equal hop count.
 */
import { v358Label, type Topology } from './topology.ts';

const FORM_BITS = [4, 7, 10];
const MAX_BITS = 59;
/** states per node: arrival form 0..2, and 3 = the source */
const STATES = 4;
/** more than any hop count (59 bits, ≥ 4 per hop) */
const HOP_SPAN = 64;

export class FittingPaths {
  private readonly form: Uint8Array[];
  private readonly back: Int32Array[];
  private readonly bits: Uint8Array;
  private readonly stamp: Int32Array;
  /** the (gen, hop count) a state was last queued for: hops + HOP_SPAN · gen */
  private readonly queued: Float64Array;
  private gen = 0;
  private layer: Int32Array = new Int32Array(1024);
  private next: Int32Array = new Int32Array(1024);

  constructor(private readonly t: Topology) {
    this.form = t.neighbours.map((ns, i) =>
      Uint8Array.from(ns, (_, k) => v358Label(t.iface[i]![k]!).form),
    );
    this.back = t.neighbours.map((ns, i) =>
      Int32Array.from(ns, (j) => t.neighbours[j]!.indexOf(i)),
    );
    this.bits = new Uint8Array(t.n * STATES);
    this.stamp = new Int32Array(t.n * STATES);
    this.queued = new Float64Array(t.n * STATES);
  }

  /** The fewest hops of a route src → dst whose label fits, or -1 if there is none. */
  fewestFittingHops(src: number, dst: number): number {
    if (src === dst) return 0;
    const { neighbours } = this.t;
    const gen = ++this.gen;
    let layer = this.layer;
    let next = this.next;
    let size = 0;
    const start = src * STATES + 3;
    this.stamp[start] = gen;
    this.bits[start] = 0;
    layer[size++] = start;
    for (let hops = 1; size > 0; hops++) {
      let nextSize = 0;
      for (let q = 0; q < size; q++) {
        const s = layer[q]!;
        const u = (s / STATES) | 0;
        const arrival = s % STATES;
        const used = this.bits[s]!;
        const ns = neighbours[u]!;
        const forms = this.form[u]!;
        for (let k = 0; k < ns.length; k++) {
          const f = forms[k]!;
          const b = used + FORM_BITS[arrival === 3 || f >= arrival ? f : arrival]!;
          if (b > MAX_BITS) continue;
          const v = ns[k]!;
          if (v === dst) return hops;
          const sv = v * STATES + this.form[v]![this.back[u]![k]!]!;
          // a state is worth another visit with fewer bits, even after more hops
          if (this.stamp[sv] === gen && this.bits[sv]! <= b) continue;
          this.stamp[sv] = gen;
          this.bits[sv] = b;
          const mark = hops + HOP_SPAN * gen;
          if (this.queued[sv] !== mark) {
            this.queued[sv] = mark;
            if (nextSize === next.length) next = this.grow(next);
            next[nextSize++] = sv;
          }
        }
      }
      [layer, next] = [next, layer];
      size = nextSize;
    }
    this.layer = layer;
    this.next = next;
    return -1;
  }

  private grow(a: Int32Array): Int32Array {
    const b = new Int32Array(a.length * 2);
    b.set(a);
    return b;
  }
}
