/**
 * The map page's endpoints over HTTP, on a whole process (src/app.ts, fast routing) holding a
 * 300-node mesh: the page itself, the graph stream against the node table, node details by IPv6
 * and by key, routes equal to `/path`, the status stream, and the errors (400, 404, 405).
 */
import { expect } from 'chai';
import { request } from 'node:http';
import type { MeshApp } from '../../../bench/mesh-app.ts';
import { buildUi } from '../../../scripts/build-ui.ts';
import { decodeGraph, ipAt } from '../../../src/server/ui/graph-wire.ts';
import type { UiNode, UiPath } from '../../../src/server/ui/details-wire.ts';
import type { UiStatus } from '../../../src/server/ui/status-wire.ts';
import { httpRequest } from '../../helpers/http.ts';
import { startTestMesh } from '../../helpers/mesh.ts';

const N = 300;

/** The first `status` event of the stream. */
function firstStatus(port: number): Promise<UiStatus> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/ui/api/events', agent: false },
      (res) => {
        expect(res.statusCode).to.equal(200);
        expect(res.headers['content-type']).to.equal('text/event-stream; charset=utf-8');
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          const m = /event: status\ndata: (.*)\n\n/.exec(buf);
          if (m) {
            resolve(JSON.parse(m[1]!) as UiStatus);
            req.destroy();
          }
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('no status event')));
    req.on('error', reject);
    req.end();
  });
}

describe('map page endpoints over HTTP (300-node mesh)', function () {
  this.timeout(60_000);
  let mesh: MeshApp;
  let port: number;
  const get = (path: string, method = 'GET') => httpRequest(port, path, { method });
  const json = async <T>(path: string): Promise<T> => {
    const r = await get(path);
    expect(r.status, `${path}: ${r.body.toString()}`).to.equal(200);
    expect(r.headers['content-type']).to.equal('application/json; charset=utf-8');
    return JSON.parse(r.body.toString()) as T;
  };

  before(async () => {
    await buildUi();
    mesh = await startTestMesh(N);
    port = mesh.app.address().port;
  });

  after(async () => {
    await mesh?.close();
  });

  it('serves the built page at /ui/ (and sends /ui there), the original / unchanged', async () => {
    const redirect = await get('/ui');
    expect(redirect.status).to.equal(308);
    expect(redirect.headers.location).to.equal('/ui/');
    const page = await get('/ui/');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(page.body.toString()).to.contain('<script type="module" src="app.js"></script>');
    expect(page.body.toString(), 'nothing from elsewhere').to.not.match(
      /(src|href)="(https?:)?\/\//,
    );
    const app = await get('/ui/app.js');
    expect(app.headers['content-type']).to.equal('text/javascript; charset=utf-8');
    expect(app.body.length).to.be.greaterThan(50_000);
    expect((await get('/ui/app.css')).status).to.equal(200);
    const root = JSON.parse((await get('/')).body.toString()) as Record<string, unknown>;
    expect(Object.keys(root)).to.deep.equal(['peer', 'nodesByIp']);
  });

  it('streams the graph as the node table holds it', async () => {
    const r = await get('/ui/api/graph');
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.equal('application/octet-stream');
    expect(r.headers['transfer-encoding']).to.equal('chunked');
    const g = decodeGraph(new Uint8Array(r.body));
    const records = [...mesh.app.server.nodes];
    expect(g.nodeCount).to.equal(N);
    expect(records.map((x) => x.ipv6)).to.deep.equal(
      Array.from({ length: N }, (_, i) => ipAt(g.ips, i)),
    );
    expect(g.edgeCount).to.equal(mesh.world.topo.edges);
    // compact: 24 bytes a node, 8 a link, 4 per edge chunk (a chunk per slice of at most 1,024
    // nodes or ~2 ms: at least one, at most one per 64 nodes) and the end
    const framing = r.body.length - (16 + 24 * N + 8 * g.edgeCount);
    expect(framing % 4).to.equal(0);
    expect(framing / 4 - 1).to.be.within(1, Math.ceil(N / 64));
  });

  it('shows a node by IPv6 or by key', async () => {
    const ip = mesh.world.ips[17]!;
    const rec = mesh.app.server.nodes.get(ip)!;
    const byIp = await json<UiNode>(`/ui/api/node/${ip}`);
    expect(byIp).to.include({ ip, key: rec.key, lastSeen: rec.timestamp });
    expect(byIp.links).to.have.length(mesh.world.topo.neighbours[17]!.length);
    expect(byIp.announcements).to.have.length(rec.announcements.length);
    expect(await json<UiNode>(`/ui/api/node/${rec.key}`)).to.deep.equal(byIp);
    expect(
      await json<UiNode>(`/ui/api/node/${encodeURIComponent(ip.toUpperCase())}`),
    ).to.deep.equal(byIp);
  });

  it('gives the route /path gives', async () => {
    const [src, dst] = [mesh.world.ips[5]!, mesh.world.ips[250]!];
    const p = await json<UiPath>(`/ui/api/path/${src}/${dst}`);
    const original = JSON.parse((await get(`/path/${src}/${dst}`)).body.toString()) as {
      label: string;
      path: string[];
    };
    expect(p.found).to.equal(true);
    expect(p.label).to.equal(original.label);
    expect(p.nodes).to.deep.equal(original.path);
  });

  it('answers bad and unknown names with 400 and 404, other methods with 405', async () => {
    const cases: Array<[string, number, string]> = [
      ['/ui/api/node/nonsense', 400, 'RS_ERR_HTTP_BAD_REQUEST'],
      ['/ui/api/node/%E0%A4%A', 400, 'RS_ERR_HTTP_BAD_REQUEST'],
      ['/ui/api/node/fc00::1', 404, 'RS_ERR_HTTP_NOT_FOUND'],
      [`/ui/api/path/fc00::1/${mesh.world.ips[1]}`, 404, 'RS_ERR_HTTP_NOT_FOUND'],
      [`/ui/api/path/${mesh.world.ips[1]}/x`, 400, 'RS_ERR_HTTP_BAD_REQUEST'],
      ['/ui/api/path/a', 404, 'RS_ERR_HTTP_NOT_FOUND'],
      ['/ui/api/nothing', 404, 'RS_ERR_HTTP_NOT_FOUND'],
      ['/ui/..%2F..%2Fpackage.json', 404, 'RS_ERR_HTTP_NOT_FOUND'],
      ['/ui/../package.json', 404, 'RS_ERR_HTTP_NOT_FOUND'],
      ['/ui/sub/app.js', 404, 'RS_ERR_HTTP_NOT_FOUND'],
    ];
    for (const [path, status, code] of cases) {
      const r = await get(path);
      expect(r.status, path).to.equal(status);
      expect(
        (JSON.parse(r.body.toString()) as { error: { code: string } }).error.code,
        path,
      ).to.equal(code);
    }
    expect((await get('/ui/api/graph', 'POST')).status).to.equal(405);
  });

  it('streams the status: the first sample at once', async () => {
    const s = await firstStatus(port);
    expect(s).to.include({ nodes: N, links: mesh.app.server.linkCount(), ready: true });
    expect(s.self.ipv6).to.equal(mesh.app.identity.ipv6);
    expect(s.announcements.total.none).to.equal(mesh.world.initial.flat().length);
    expect(s.cluster.processes).to.have.length(1);
  });
});
