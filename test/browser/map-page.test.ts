/// <reference lib="dom" />
/**
 * The live network map (`/ui/`) in a real browser: Debian's Chromium, headless, against a whole
 * route-server process holding a generated 10k-node mesh. The page is built first (as
 * `npm run build:ui` builds it) and served by the process from dist/ui. What is drawn is checked
 * twice: in sigma's state (what the page asked to draw) and in the pixels of a screenshot
 * (decoded by the browser itself).
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { feed, linkStateUpdate } from '../../bench/world.ts';
import type { MeshApp } from '../../bench/mesh-app.ts';
import { buildUi } from '../../scripts/build-ui.ts';
import { launchChromium, type TestBrowser } from '../helpers/chromium.ts';
import { startTestMesh } from '../helpers/mesh.ts';
// window.snodeMap, as the page declares it
import type {} from '../../ui/src/map-state.ts';

const NODES = 10_000;

type Rgb = [number, number, number];

function rgbOf(hex: string): Rgb {
  const v = parseInt(hex.slice(1), 16);
  return [v >> 16, (v >> 8) & 255, v & 255];
}

function near(a: Rgb, b: Rgb, tolerance = 40): boolean {
  return (
    Math.abs(a[0] - b[0]) <= tolerance &&
    Math.abs(a[1] - b[1]) <= tolerance &&
    Math.abs(a[2] - b[2]) <= tolerance
  );
}

interface PixelReport {
  readonly at: Rgb[];
  /** pixels in the map's box within 40 of `countColor` per channel */
  readonly counted: number;
}

/** Screenshot the page, decode it in the browser, read the pixels at `points` and count one colour in the map. */
async function pixels(
  page: Page,
  points: readonly { x: number; y: number }[],
  countColor: string,
): Promise<PixelReport> {
  const png = (await page.screenshot()).toString('base64');
  return page.evaluate(
    async ({ png, points, countColor }) => {
      const img = new Image();
      img.src = `data:image/png;base64,${png}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(img, 0, 0);
      const at = points.map((p) => {
        const d = ctx.getImageData(Math.round(p.x), Math.round(p.y), 1, 1).data;
        return [d[0]!, d[1]!, d[2]!] as [number, number, number];
      });
      const box = document.getElementById('map')!.getBoundingClientRect();
      const data = ctx.getImageData(box.left, box.top, box.width, box.height).data;
      const v = parseInt(countColor.slice(1), 16);
      const [r, g, b] = [v >> 16, (v >> 8) & 255, v & 255];
      let counted = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (
          Math.abs(data[i]! - r) <= 40 &&
          Math.abs(data[i + 1]! - g) <= 40 &&
          Math.abs(data[i + 2]! - b) <= 40
        )
          counted++;
      }
      return { at, counted };
    },
    { png, points, countColor },
  );
}

describe('map page in Chromium (10k-node mesh)', function () {
  this.timeout(180_000);
  let mesh: MeshApp;
  let browser: TestBrowser;
  let page: Page;
  let colors: Record<string, string>;

  before(async function () {
    await buildUi();
    browser = await launchChromium();
    mesh = await startTestMesh(NODES);
    page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${mesh.url}/ui/`);
    await page.waitForFunction(() => window.snodeMap?.phase !== 'loading', null, {
      timeout: 120_000,
    });
    const state = await page.evaluate(() => ({
      phase: window.snodeMap.phase,
      error: window.snodeMap.error,
    }));
    expect(state, `page errors: ${errors.join('; ')}`).to.deep.equal({
      phase: 'ready',
      error: null,
    });
    colors = await page.evaluate(() => ({ ...window.snodeMap.colors }));
  });

  after(async () => {
    await browser?.close();
    await mesh?.close();
  });

  it('loads and draws the whole graph: every node, every link once', async () => {
    const s = await page.evaluate(() => ({
      nodes: window.snodeMap.nodes,
      edges: window.snodeMap.edges,
      timings: window.snodeMap.timings,
    }));
    expect(s.nodes).to.equal(NODES);
    expect(s.edges).to.equal(mesh.world.topo.edges);
    expect(s.timings.loadMs).to.be.a('number');
    // the best-connected node is drawn in its colour where the page says it is
    const degrees = mesh.world.topo.neighbours.map((ns) => ns.length);
    const hub = mesh.world.ips[degrees.indexOf(Math.max(...degrees))]!;
    const drawn = await page.evaluate((ip) => window.snodeMap.drawn(ip), hub);
    expect(drawn).to.include({ color: colors.fresh, hidden: false });
    const at = await page.evaluate((ip) => window.snodeMap.pointOf(ip), hub);
    const px = await pixels(page, [at!], colors.fresh!);
    expect(near(px.at[0]!, rgbOf(colors.fresh!)), `pixel ${px.at[0]} at the hub`).to.equal(true);
    expect(px.counted, 'node-coloured pixels on the map').to.be.greaterThan(5000);
  });

  it('finds a node by part of its IPv6, shows its links, announcements and last seen', async () => {
    const ip = mesh.world.ips[1234]!;
    const rec = mesh.app.server.nodes.get(ip)!;
    await page.fill('#search-input', ip.slice(0, 14));
    await page.waitForSelector(`#search-results li[data-ip="${ip}"]`);
    await page.press('#search-input', 'Enter');
    await page.waitForFunction((want) => window.snodeMap.detailsOf === want, ip);
    expect(await page.evaluate(() => window.snodeMap.selected)).to.equal(ip);
    expect(await page.textContent('#node-ip')).to.equal(ip);
    let links = 0;
    for (const l of rec.inwardLinksByIp.values()) links += l.length;
    expect(links).to.equal(mesh.world.topo.neighbours[1234]!.length);
    expect(await page.locator('#node-links tr').count()).to.equal(links + 1);
    expect(await page.locator('#node-announcements tr').count()).to.equal(
      rec.announcements.length + 1,
    );
    expect(await page.textContent('#node-last-seen')).to.contain(
      new Date(rec.timestamp).toISOString().slice(0, 19).replace('T', ' '),
    );
    // the selected node is drawn on top in the selection colour
    await page.evaluate(() => window.snodeMap.settled());
    const drawn = await page.evaluate((x) => window.snodeMap.drawn(x), ip);
    expect(drawn?.color).to.equal(colors.selected);
    const at = await page.evaluate((x) => window.snodeMap.pointOf(x), ip);
    const px = await pixels(page, [at!], colors.selected!);
    expect(
      near(px.at[0]!, rgbOf(colors.selected!)),
      `pixel ${px.at[0]} at the selected node`,
    ).to.equal(true);
  });

  it('finds a node by its key', async () => {
    const ip = mesh.world.ips[777]!;
    const key = mesh.app.server.nodes.get(ip)!.key;
    await page.fill('#search-input', key);
    await page.press('#search-input', 'Enter');
    await page.waitForFunction((want) => window.snodeMap.detailsOf === want, ip);
    expect(await page.textContent('#node-ip')).to.equal(ip);
  });

  it('asks the route between two nodes and draws it on the map', async () => {
    const src = mesh.world.ips[42]!;
    const dst = mesh.world.ips[9_000]!;
    const expected = mesh.app.server.getRoute(src, dst);
    expect(expected, 'the server has a route').to.not.equal(null);
    await page.fill('#path-src', src);
    await page.fill('#path-dst', dst);
    await page.click('#path-go');
    await page.waitForFunction(() => window.snodeMap.path !== null);
    const path = (await page.evaluate(() => window.snodeMap.path))!;
    expect(path.found).to.equal(true);
    expect(path.label).to.equal(expected!.label);
    expect(path.nodes).to.deep.equal(expected!.path);
    expect(path.hops.map((h) => h.label)).to.deep.equal(expected!.hops.map((h) => h.label));
    expect(await page.textContent('#path-label')).to.equal(expected!.label);
    expect(await page.textContent('#path-hops')).to.equal(String(expected!.hops.length));
    expect(await page.locator('#path-table tr').count()).to.equal(path.nodes.length + 1);

    await page.evaluate(() => window.snodeMap.settled());
    const inner = path.nodes.slice(1, -1);
    for (const ip of path.nodes) {
      const want = ip === src || ip === dst ? colors.pathEnd : colors.path;
      expect((await page.evaluate((x) => window.snodeMap.drawn(x), ip))?.color, ip).to.equal(want);
    }
    const far = mesh.world.ips.find(
      (ip) => !path.nodes.includes(ip) && ip !== mesh.world.ips[777],
    )!;
    expect((await page.evaluate((x) => window.snodeMap.drawn(x), far))?.color).to.equal(
      colors.faded,
    );

    const points = await page.evaluate(
      (ips) => ips.map((ip) => window.snodeMap.pointOf(ip)!),
      [src, dst, ...inner],
    );
    const px = await pixels(page, points, colors.fresh!);
    expect(near(px.at[0]!, rgbOf(colors.pathEnd!)), `pixel ${px.at[0]} at the source`).to.equal(
      true,
    );
    expect(
      near(px.at[1]!, rgbOf(colors.pathEnd!)),
      `pixel ${px.at[1]} at the destination`,
    ).to.equal(true);
    for (let i = 2; i < px.at.length; i++)
      expect(near(px.at[i]!, rgbOf(colors.path!)), `pixel ${px.at[i]} on hop ${i - 1}`).to.equal(
        true,
      );
    // every other node fades: no node is left in its normal colour
    expect(px.counted, 'pixels in the normal node colour while a route is shown').to.equal(0);

    await page.click('#path-clear');
    await page.waitForFunction(() => window.snodeMap.path === null);
  });

  it('names an unknown destination instead of drawing a route', async () => {
    await page.fill('#path-src', mesh.world.ips[1]!);
    await page.fill('#path-dst', 'fc00::1');
    await page.click('#path-go');
    await page.waitForSelector('#path-error');
    expect(await page.textContent('#path-error')).to.contain('tar not found');
  });

  it('retries the graph while the server refuses it as busy', async () => {
    const second = await browser.context.newPage();
    let asked = 0;
    await second.route('**/ui/api/graph', async (route) => {
      if (++asked === 1) {
        await route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({
            error: { code: 'RS_ERR_HTTP_BUSY', message: '2 graph streams already in progress' },
          }),
        });
      } else {
        await route.continue();
      }
    });
    await second.goto(`${mesh.url}/ui/?refine=0`);
    await second.waitForFunction(() => window.snodeMap?.phase !== 'loading', null, {
      timeout: 120_000,
    });
    expect(
      await second.evaluate(() => ({ phase: window.snodeMap.phase, nodes: window.snodeMap.nodes })),
    ).to.deep.equal({ phase: 'ready', nodes: NODES });
    expect(asked).to.equal(2);
    await second.close();
  });

  it('streams the live status: nodes, links, announcements per second by result', async () => {
    await page.waitForFunction(() => window.snodeMap.statusSamples >= 2);
    const first = (await page.evaluate(() => window.snodeMap.status))!;
    expect(first.nodes).to.equal(NODES);
    expect(first.links).to.equal(mesh.app.server.linkCount());
    expect(first.cluster.bus).to.equal('memory');
    expect(first.cluster.processes.filter((p) => p.self)).to.have.length(1);
    expect(first.cjdns).to.equal(null);
    expect(await page.textContent('#status-nodes')).to.equal(NODES.toLocaleString('en-US'));
    const before = first.announcements.total.none ?? 0;

    const updates = Array.from({ length: 50 }, (_, i) => linkStateUpdate(mesh.world, i));
    const r = await feed(mesh.app.server, mesh.world, updates);
    expect(r.accepted).to.equal(50);
    const seen = await page.waitForFunction((want) => {
      const s = window.snodeMap.status;
      return s && (s.announcements.total.none ?? 0) >= want ? s : null;
    }, before + 50);
    const after = (await seen.jsonValue())!;
    expect(after.announcements.total.none).to.equal(before + 50);
    expect(
      after.announcements.perSecond.none,
      'the sample that saw them counts them per second',
    ).to.be.greaterThan(0);
    expect(await page.locator('#status-announcements tr[data-key="none"]').count()).to.equal(1);
  });
});
