/**
 * docs/metrics.md is the list of metrics: a server with every optional part on (fast routing,
 * the cjdns link) is scraped over HTTP, and the documented metrics and the served ones must be
 * the same set, with the documented types. Every series names its process.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { App } from '../../../src/app.ts';
import { bytesToHex } from '../../../src/protocol/hex.ts';
import { generateIdentity } from '../../../src/server/identity.ts';
import { startTestApp } from '../../helpers/app.ts';
import { httpRequest } from '../../helpers/http.ts';

const DOC = new URL('../../../docs/metrics.md', import.meta.url);

/** `| \`name\` | type | …` rows of the doc's tables. */
function documentedMetrics(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const m =
      /^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*(counter|gauge|histogram|summary)\s*\|/.exec(line);
    if (!m) continue;
    expect(out.has(m[1]!), `${m[1]} is listed twice`).to.equal(false);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/** `# TYPE name type` lines of a scrape. */
function servedMetrics(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

describe('docs/metrics.md against /metrics', () => {
  let app: App;
  let scrape: string;

  before(async () => {
    const own = generateIdentity(22);
    app = await startTestApp({
      privateKeyHex: bytesToHex(own.privateKey!),
      config: {
        routing: { mode: 'fast' },
        // nothing answers there: the link keeps trying, its metrics are registered at once
        cjdns: {
          enabled: true,
          adminAddr: '127.0.0.1',
          adminPort: 9,
          adminPassword: 'x',
          callTimeoutMs: 50,
          callRetries: 0,
        },
      },
    });
    const r = await httpRequest(app.adminAddress()!.port, '/metrics');
    expect(r.status).to.equal(200);
    expect(String(r.headers['content-type'])).to.match(/^text\/plain/);
    scrape = r.body.toString('utf8');
  });
  after(async () => {
    await app?.close();
  });

  it('the doc lists a sane number of metrics', () => {
    expect(documentedMetrics().size).to.be.greaterThan(60);
  });

  it('every documented metric is served, with the documented type', () => {
    const served = servedMetrics(scrape);
    const missing: string[] = [];
    for (const [name, type] of documentedMetrics()) {
      if (!served.has(name)) missing.push(name);
      else expect(served.get(name), `type of ${name}`).to.equal(type);
    }
    expect(missing, 'documented in docs/metrics.md but not on /metrics').to.deep.equal([]);
  });

  it('every served metric is documented', () => {
    const documented = documentedMetrics();
    const undocumented = [...servedMetrics(scrape).keys()].filter((n) => !documented.has(n));
    expect(undocumented, 'on /metrics but missing from docs/metrics.md').to.deep.equal([]);
  });

  it('every series carries process="<the cluster process name>" (the origin /status shows)', async () => {
    const status = JSON.parse(
      (await httpRequest(app.adminAddress()!.port, '/status')).body.toString(),
    ) as { cluster: { origin: string } };
    const origin = status.cluster.origin;
    expect(origin).to.be.a('string').and.not.equal('');
    const samples = scrape.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples.length).to.be.greaterThan(50);
    for (const line of samples) expect(line, line).to.contain(`process="${origin}"`);
  });

  it('prom-client defaults, build info and the latency histograms are there', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(scrape).to.match(
      new RegExp(
        `^snode_build_info\\{version="${pkg.version.replace(/\./g, '\\.')}",node="[^"]+",process="[^"]+"\\} 1$`,
        'm',
      ),
    );
    const served = servedMetrics(scrape);
    for (const name of ['process_cpu_seconds_total', 'nodejs_heap_size_used_bytes'])
      expect(served.has(name), name).to.equal(true);
    expect(served.get('snode_route_lookup_duration_seconds')).to.equal('histogram');
    expect(served.get('snode_announcement_duration_seconds')).to.equal('histogram');
    expect([...served.keys()].filter((n) => n.startsWith('nodejs_eventloop_lag'))).to.deep.equal(
      [],
    );
  });
});
