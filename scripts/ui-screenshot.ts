/**
 * Regenerate docs/ui.png: a process holding the 10,000-node test mesh, the map page in headless
 * Chromium, a route between two nodes drawn, the source's details shown.
 * `node --import tsx scripts/ui-screenshot.ts [out.png]`
 */
import { buildUi } from './build-ui.ts';
import { launchChromium } from '../test/helpers/chromium.ts';
import { startTestMesh } from '../test/helpers/mesh.ts';
import type {} from '../ui/src/map-state.ts';

const out = process.argv[2] ?? new URL('../docs/ui.png', import.meta.url).pathname;
await buildUi();
const mesh = await startTestMesh(10_000);
const browser = await launchChromium({ width: 1440, height: 1200 });
try {
  const page = await browser.context.newPage();
  await page.goto(`${mesh.url}/ui/`);
  await page.waitForFunction(() => window.snodeMap?.phase === 'ready', null, { timeout: 120_000 });
  const [src, dst] = [mesh.world.ips[4321]!, mesh.world.ips[8765]!];
  await page.fill('#search-input', src.slice(0, 9));
  await page.press('#search-input', 'Enter');
  await page.waitForFunction((ip) => window.snodeMap.detailsOf === ip, src);
  await page.click('#route-from');
  await page.fill('#path-dst', dst);
  await page.click('#path-go');
  await page.waitForFunction(() => window.snodeMap.path !== null);
  await page.waitForFunction(() => window.snodeMap.statusSamples >= 3);
  await page.evaluate(() => window.snodeMap.settled());
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await mesh.close();
}
