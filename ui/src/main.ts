/**
 * The live network map (`/ui/`): loads the whole graph (binary stream), lays it out, draws it with
 * sigma, and wires search, node details, routes and the live status panel. `window.snodeMap`
 * exposes what the page holds and draws (the browser tests read it).
 */
import { ApiError, fetchGraph, fetchNode, watchStatus } from './api.ts';
import { showError, showLoading, showNode } from './details-panel.ts';
import { byId } from './dom.ts';
import { count } from './format.ts';
import { adjacencyOf, radialLayout } from './layout.ts';
import { buildGraph, COLORS, MapView } from './map-view.ts';
import { PathPanel } from './path-panel.ts';
import type { MapState } from './map-state.ts';
import { LayoutRefiner } from './refine.ts';
import { Search } from './search.ts';
import { StatusPanel } from './status-panel.ts';

/**
 * Refinement (ForceAtlas2 in a worker) runs on demand (the button, or `?refine=1`) for at most
 * this long: the first layout is already readable and deterministic, refinement is a nicety.
 */
const REFINE_BUDGET_MS = 20_000;

const state: MapState = {
  phase: 'loading',
  error: null,
  nodes: 0,
  edges: 0,
  bytes: 0,
  timings: {},
  selected: null,
  detailsOf: null,
  path: null,
  refine: 'idle',
  status: null,
  statusSamples: 0,
  colors: COLORS,
  pointOf: () => null,
  drawn: () => null,
  search: () => Promise.reject(new Error('the map is not loaded yet')),
  route: () => Promise.reject(new Error('the map is not loaded yet')),
  stopRefine: () => undefined,
  settled: () => Promise.resolve(),
  frameRate: () => Promise.reject(new Error('the map is not loaded yet')),
};
window.snodeMap = state;

/** Date.now() when the last status sample arrived (its `time` is the server's clock then) */
let statusAt = Date.now();
const statusPanel = new StatusPanel((s) => {
  state.status = s;
  state.statusSamples++;
  statusAt = Date.now();
});
watchStatus(
  (s) => statusPanel.update(s),
  (connected) => statusPanel.connection(connected),
);

/** The next frame sigma draws (a render only: the data is processed already). */
function nextFrame(map: MapView): Promise<void> {
  return new Promise((resolve) => {
    map.sigma.once('afterRender', () => resolve());
    map.sigma.scheduleRender();
  });
}

/** The graph; while the server's graph streams are all taken (503, or 429 for this client), retry a few times. */
async function loadGraph(): Promise<Awaited<ReturnType<typeof fetchGraph>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchGraph();
    } catch (e) {
      if (!(e instanceof ApiError) || (e.status !== 503 && e.status !== 429) || attempt >= 6)
        throw e;
      byId('summary').textContent = `the server is busy (${e.message}); retrying…`;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

async function boot(): Promise<void> {
  const loaded = await loadGraph();
  const g = loaded.graph;
  const t0 = performance.now();
  const { offsets, nbr } = adjacencyOf(g.nodeCount, g.edges);
  const degree = new Uint32Array(g.nodeCount);
  for (let i = 0; i < g.nodeCount; i++) degree[i] = offsets[i + 1]! - offsets[i]!;
  const layout = radialLayout(g.nodeCount, offsets, nbr);
  const t1 = performance.now();
  const { graph, ips } = buildGraph(g, layout, degree);
  const t2 = performance.now();
  const map = new MapView(graph, byId('map'));
  await nextFrame(map);
  Object.assign(state, {
    nodes: graph.order,
    edges: graph.size,
    bytes: loaded.bytes,
    timings: {
      fetchMs: loaded.fetchMs,
      decodeMs: loaded.decodeMs,
      layoutMs: t1 - t0,
      graphMs: t2 - t1,
      drawMs: performance.now() - t2,
      loadMs: performance.now(),
    },
  });
  byId('summary').textContent =
    `${count(graph.order)} nodes · ${count(graph.size)} links · drawn in ${count(performance.now())} ms`;

  const serverOffset = g.serverTimeSec * 1000 - Date.now();
  const serverNow = (): number =>
    state.status ? state.status.time + (Date.now() - statusAt) : Date.now() + serverOffset;

  const highlight = (): void =>
    map.setHighlight({ selected: state.selected, path: state.path?.found ? state.path.nodes : [] });
  let detailsSeq = 0;
  const select = (ip: string): void => {
    state.selected = ip;
    highlight();
    if (graph.hasNode(ip)) void map.focus(ip);
    showLoading(ip);
    const seq = ++detailsSeq;
    fetchNode(ip).then(
      (node) => {
        if (seq !== detailsSeq) return;
        showNode(node, graph.hasNode(ip) ? graph.degree(ip) : 0, {
          select,
          routeFrom: (x) => paths.setSrc(x),
          routeTo: (x) => paths.setDst(x),
          serverNow,
        });
        state.detailsOf = node.ip;
      },
      (e: Error) => {
        if (seq === detailsSeq) showError(ip, e.message);
      },
    );
  };
  const paths = new PathPanel((p) => {
    state.path = p;
    highlight();
    if (p?.found) void map.frame(p.nodes);
  }, select);
  const search = new Search(ips, select);
  map.sigma.on('clickNode', ({ node }) => select(node));

  const refiner = new LayoutRefiner(graph);
  const refineButton = byId<HTMLButtonElement>('refine');
  refiner.onChange = (s) => {
    state.refine = s;
    refineButton.textContent = s === 'running' ? 'Stop layout' : 'Refine layout';
  };
  refineButton.disabled = false;
  refineButton.addEventListener('click', () =>
    refiner.state === 'running' ? refiner.stop() : refiner.start(REFINE_BUDGET_MS),
  );
  const resetView = byId<HTMLButtonElement>('reset-view');
  resetView.disabled = false;
  resetView.addEventListener(
    'click',
    () => void map.sigma.getCamera().animatedReset({ duration: 300 }),
  );

  Object.assign(state, {
    pointOf: (ip: string) => map.pagePointOf(ip),
    drawn: (ip: string) => {
      const d = map.sigma.getNodeDisplayData(ip);
      return d ? { color: d.color, size: d.size, hidden: d.hidden } : null;
    },
    search: (q: string) => search.run(q),
    route: async (src: string, dst: string) => {
      byId<HTMLInputElement>('path-src').value = src;
      byId<HTMLInputElement>('path-dst').value = dst;
      return paths.find();
    },
    stopRefine: () => refiner.stop(),
    settled: async () => {
      while (map.sigma.getCamera().isAnimated()) await new Promise((r) => setTimeout(r, 20));
      await nextFrame(map);
    },
    frameRate: async (durationMs: number) => {
      const camera = map.sigma.getCamera();
      let frames = 0;
      const count = (): void => void frames++;
      map.sigma.on('afterRender', count);
      const t0 = performance.now();
      await camera.animate({ ratio: 0.3, x: 0.6, y: 0.4 }, { duration: durationMs / 2 });
      await camera.animate({ ratio: 1, x: 0.5, y: 0.5 }, { duration: durationMs / 2 });
      map.sigma.off('afterRender', count);
      return (frames * 1000) / (performance.now() - t0);
    },
  });
  state.phase = 'ready';
  if (new URLSearchParams(location.search).get('refine') === '1') refiner.start(REFINE_BUDGET_MS);
}

boot().catch((e: unknown) => {
  state.phase = 'error';
  state.error = e instanceof Error ? e.message : String(e);
  byId('summary').textContent = `could not load the graph: ${state.error}`;
});
