/**
 * The map: a graphology graph drawn by sigma (WebGL). Nodes are keyed by IPv6, sized by degree
 * and coloured by how recently they announced; the selected node and a route's nodes and links
 * are drawn on top in their own colours while the rest fades. Only reducers change what is
 * drawn: the graph's attributes stay the data.
 */
import Graph from 'graphology';
import Sigma from 'sigma';
import { EdgeLineProgram, EdgeRectangleProgram } from 'sigma/rendering';
import type { DecodedGraph } from '../../src/server/ui/graph-wire.ts';
import { ipAt } from '../../src/server/ui/graph-wire.ts';
import type { Layout } from './layout.ts';

export const COLORS = {
  fresh: '#2a9d8f',
  recent: '#457b9d',
  stale: '#9aa5b1',
  edge: '#d3dbe3',
  faded: '#dde3e9',
  fadedEdge: '#f0f3f6',
  path: '#ff3b00',
  pathEnd: '#b5179e',
  selected: '#ffb000',
} as const;

/**
 * A node's attributes carry every field sigma's display data has (its defaults would otherwise
 * add them to each of 50k objects on every pass: a shape change per object).
 */
export interface NodeAttributes {
  x: number;
  y: number;
  size: number;
  color: string;
  label: string;
  degree: number;
  type: string;
  hidden: boolean;
  highlighted: boolean;
  forceLabel: boolean;
  zIndex: number;
}

export interface EdgeAttributes {
  size: number;
  color: string;
  label: string;
  type: string;
  hidden: boolean;
  forceLabel: boolean;
  zIndex: number;
}

const EDGE: EdgeAttributes = {
  size: 0.4,
  color: COLORS.edge,
  label: '',
  type: 'line',
  hidden: false,
  forceLabel: false,
  zIndex: 0,
};

export type MapGraph = Graph<NodeAttributes, EdgeAttributes>;

/** Node size on screen from its degree: hubs stand out, leaves stay visible. */
export function nodeSize(degree: number): number {
  return Math.min(14, 0.8 + 0.6 * Math.sqrt(degree));
}

function ageColor(ageSec: number): string {
  if (ageSec < 10 * 60) return COLORS.fresh;
  if (ageSec < 60 * 60) return COLORS.recent;
  return COLORS.stale;
}

/** Build the graph from the decoded stream and the layout. */
export function buildGraph(
  g: DecodedGraph,
  layout: Layout,
  degree: Uint32Array,
): { graph: MapGraph; ips: string[] } {
  const graph: MapGraph = new Graph<NodeAttributes, EdgeAttributes>({
    type: 'undirected',
    multi: false,
    allowSelfLoops: false,
  });
  const ips: string[] = new Array<string>(g.nodeCount);
  for (let i = 0; i < g.nodeCount; i++) {
    const ip = ipAt(g.ips, i);
    ips[i] = ip;
    graph.addNode(ip, {
      x: layout.x[i]!,
      y: layout.y[i]!,
      size: nodeSize(degree[i]!),
      color: ageColor(g.serverTimeSec - g.lastSeenSec[i]!),
      label: ip,
      degree: degree[i]!,
      type: 'circle',
      hidden: false,
      highlighted: false,
      forceLabel: false,
      zIndex: 0,
    });
  }
  // one edge per pair (a link read twice while the table changed during the stream is skipped)
  const seen = new Set<number>();
  for (let e = 0; e < g.edgeCount; e++) {
    const [i, j] = [g.edges[2 * e]!, g.edges[2 * e + 1]!];
    const pair = Math.min(i, j) * g.nodeCount + Math.max(i, j);
    if (i === j || seen.has(pair)) continue;
    seen.add(pair);
    graph.addEdge(ips[i]!, ips[j]!, { ...EDGE });
  }
  return { graph, ips };
}

export interface Highlight {
  selected: string | null;
  /** the route's nodes, src … dst */
  path: readonly string[];
}

export class MapView {
  readonly sigma: Sigma<NodeAttributes, EdgeAttributes>;
  private highlight: Highlight = { selected: null, path: [] };
  private pathNodes = new Set<string>();
  private pathEdges = new Set<string>();

  constructor(
    readonly graph: MapGraph,
    container: HTMLElement,
  ) {
    this.sigma = new Sigma<NodeAttributes, EdgeAttributes>(graph, container, {
      hideEdgesOnMove: graph.size > 20_000,
      renderEdgeLabels: false,
      labelRenderedSizeThreshold: 9,
      labelDensity: 0.3,
      zIndex: true,
      minCameraRatio: 0.002,
      maxCameraRatio: 4,
      defaultEdgeColor: COLORS.edge,
      // 1-pixel lines (2 vertices each) for the ~100k links; a route's links thick on top
      defaultEdgeType: 'line',
      edgeProgramClasses: { line: EdgeLineProgram, thick: EdgeRectangleProgram },
      nodeReducer: (node, data) => this.reduceNode(node, data),
      edgeReducer: (edge, data) => this.reduceEdge(edge, data),
    });
  }

  private get active(): boolean {
    return this.pathNodes.size > 0 || this.highlight.selected !== null;
  }

  private reduceNode(node: string, data: NodeAttributes): NodeAttributes {
    if (node === this.highlight.selected) {
      return {
        ...data,
        color: COLORS.selected,
        size: data.size + 6,
        zIndex: 3,
        forceLabel: true,
        highlighted: true,
      };
    }
    if (this.pathNodes.has(node)) {
      const end =
        node === this.highlight.path[0] ||
        node === this.highlight.path[this.highlight.path.length - 1];
      return {
        ...data,
        color: end ? COLORS.pathEnd : COLORS.path,
        size: data.size + 4,
        zIndex: 2,
        forceLabel: end,
      };
    }
    // faded nodes shrink: sigma draws every node above every link, so they would cut the route's links
    if (this.active)
      return { ...data, color: COLORS.faded, size: Math.min(data.size, 1.5), label: '', zIndex: 0 };
    return data;
  }

  private reduceEdge(edge: string, data: EdgeAttributes): EdgeAttributes {
    if (this.pathEdges.has(edge))
      return { ...data, color: COLORS.path, size: 4, zIndex: 2, type: 'thick' };
    if (this.pathNodes.size > 0) return { ...data, color: COLORS.fadedEdge, zIndex: 0 };
    return data;
  }

  setHighlight(h: Highlight): void {
    this.highlight = h;
    this.pathNodes = new Set(h.path);
    this.pathEdges = new Set();
    for (let i = 0; i + 1 < h.path.length; i++) {
      const e = this.graph.edge(h.path[i]!, h.path[i + 1]!);
      if (e !== undefined) this.pathEdges.add(e);
    }
    this.sigma.refresh(); // sizes and zIndex change: a full pass
  }

  /** Move the camera to a node (zoomed in). */
  focus(node: string, ratio = 0.08): Promise<void> {
    const d = this.sigma.getNodeDisplayData(node);
    if (!d) return Promise.resolve();
    return this.sigma.getCamera().animate({ x: d.x, y: d.y, ratio }, { duration: 400 });
  }

  /** Frame a set of nodes (a route). */
  frame(nodes: readonly string[]): Promise<void> {
    const pts = nodes.map((n) => this.sigma.getNodeDisplayData(n)).filter((d) => d !== undefined);
    if (pts.length === 0) return Promise.resolve();
    const xs = pts.map((p) => p.x);
    const ys = pts.map((p) => p.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const ratio = Math.min(1, Math.max(0.02, 1.4 * Math.max(x1 - x0, y1 - y0)));
    return this.sigma
      .getCamera()
      .animate({ x: (x0 + x1) / 2, y: (y0 + y1) / 2, ratio }, { duration: 400 });
  }

  /** Where a node is drawn, in CSS pixels of the page (tests read the pixels there). */
  pagePointOf(node: string): { x: number; y: number } | null {
    if (!this.graph.hasNode(node)) return null;
    const a = this.graph.getNodeAttributes(node);
    const p = this.sigma.graphToViewport({ x: a.x, y: a.y });
    const box = this.sigma.getContainer().getBoundingClientRect();
    return { x: box.left + p.x, y: box.top + p.y };
  }
}
