/** The page's calls to its server (all relative to /ui/, so the page works behind a prefix too). */
import { decodeGraph, type DecodedGraph } from '../../src/server/ui/graph-wire.ts';
import type { UiNode, UiPath } from '../../src/server/ui/details-wire.ts';
import type { UiRates, UiStatus } from '../../src/server/ui/status-wire.ts';

export type { UiNode, UiPath, UiRates, UiStatus };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function failure(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, message);
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

export async function fetchGraph(): Promise<{
  graph: DecodedGraph;
  bytes: number;
  fetchMs: number;
  decodeMs: number;
}> {
  const t0 = performance.now();
  const res = await fetch('api/graph');
  if (!res.ok) throw await failure(res);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const t1 = performance.now();
  const graph = decodeGraph(bytes);
  return { graph, bytes: bytes.byteLength, fetchMs: t1 - t0, decodeMs: performance.now() - t1 };
}

export function fetchNode(id: string): Promise<UiNode> {
  return getJson<UiNode>(`api/node/${encodeURIComponent(id)}`);
}

export function fetchPath(src: string, dst: string): Promise<UiPath> {
  return getJson<UiPath>(`api/path/${encodeURIComponent(src)}/${encodeURIComponent(dst)}`);
}

/** The live status stream; `onStatus` gets every sample. Returns a function that closes it. */
export function watchStatus(
  onStatus: (s: UiStatus) => void,
  onState: (connected: boolean) => void,
): () => void {
  const es = new EventSource('api/events');
  es.addEventListener('status', (ev) =>
    onStatus(JSON.parse((ev as MessageEvent<string>).data) as UiStatus),
  );
  es.onopen = () => onState(true);
  es.onerror = () => onState(false);
  return () => es.close();
}
