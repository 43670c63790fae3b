/**
 * Optional refinement of the first layout: ForceAtlas2 (graphology's, Barnes–Hut above a few
 * thousand nodes) in a web worker, so the page stays responsive while it runs; it stops by
 * itself after a time budget, or when asked.
 */
import FA2Layout from 'graphology-layout-forceatlas2/worker';
import forceAtlas2 from 'graphology-layout-forceatlas2';
import type { MapGraph } from './map-view.ts';

export type RefineState = 'idle' | 'running' | 'done';

export class LayoutRefiner {
  private layout: FA2Layout | undefined;
  private timer: number | undefined;
  state: RefineState = 'idle';
  onChange: ((s: RefineState) => void) | undefined;

  constructor(private readonly graph: MapGraph) {}

  start(budgetMs: number): void {
    if (this.state === 'running' || this.graph.order === 0) return;
    const settings = forceAtlas2.inferSettings(this.graph);
    this.layout ??= new FA2Layout(this.graph, {
      settings: {
        ...settings,
        barnesHutOptimize: this.graph.order > 2000,
        gravity: 0.5,
        scalingRatio: 8,
        slowDown: 5,
      },
    });
    this.layout.start();
    this.set('running');
    this.timer = window.setTimeout(() => this.stop(), budgetMs);
  }

  stop(): void {
    if (this.timer !== undefined) window.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state !== 'running') return;
    this.layout?.stop();
    this.set('done');
  }

  private set(s: RefineState): void {
    this.state = s;
    this.onChange?.(s);
  }

  kill(): void {
    this.stop();
    this.layout?.kill();
    this.layout = undefined;
  }
}
