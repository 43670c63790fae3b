/**
 * What the map page exposes as `window.snodeMap`: what it holds and draws, and a few actions.
 * Types only (the browser tests read it through the same declarations).
 */
import type { UiPath } from '../../src/server/ui/details-wire.ts';
import type { UiStatus } from '../../src/server/ui/status-wire.ts';

export interface MapTimings {
  fetchMs: number;
  decodeMs: number;
  layoutMs: number;
  graphMs: number;
  /** sigma: processing every node and link, and the first frame */
  drawMs: number;
  /** from navigation start to the first frame with the whole graph */
  loadMs: number;
}

export interface MapState {
  phase: 'loading' | 'ready' | 'error';
  error: string | null;
  nodes: number;
  edges: number;
  bytes: number;
  timings: Partial<MapTimings>;
  selected: string | null;
  /** the node whose details are shown (after they loaded) */
  detailsOf: string | null;
  path: UiPath | null;
  refine: 'idle' | 'running' | 'done';
  status: UiStatus | null;
  statusSamples: number;
  /** the colours the map draws with (COLORS in map-view.ts) */
  colors: Readonly<
    Record<
      | 'fresh'
      | 'recent'
      | 'stale'
      | 'edge'
      | 'faded'
      | 'fadedEdge'
      | 'path'
      | 'pathEnd'
      | 'selected',
      string
    >
  >;
  /** CSS pixel position of a node on the page, null if unknown */
  pointOf(ip: string): { x: number; y: number } | null;
  /** what sigma draws for a node after the highlight rules */
  drawn(ip: string): { color: string; size: number; hidden: boolean } | null;
  search(query: string): Promise<void>;
  route(src: string, dst: string): Promise<UiPath | null>;
  stopRefine(): void;
  /** resolves once the camera stopped moving and the frame after it is drawn */
  settled(): Promise<void>;
  /** frames drawn per second while the camera zooms in and out for `durationMs` (the bench) */
  frameRate(durationMs: number): Promise<number>;
}

declare global {
  interface Window {
    snodeMap: MapState;
  }
}
