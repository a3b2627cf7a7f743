/**
 * The assignment's step 3 in a real browser: a person opens /page.html through the balancer. Four
 * real backends and the balancer on ephemeral ports; headless Debian Chromium with its cache off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText, sumSamples } from '../helpers/prometheus-text.js';
import { startBackends, startBalancer } from '../helpers/balancer-fleet.js';
import { launchBrowser, newUncachedPage } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait.js';

async function requestsCounted(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  return sumSamples(parsePrometheusText(text), 'balancer_requests_total');
}

void test('page.html through the balancer: both images load and each request goes to the next backend', async (t) => {
  const backends = await startBackends(t, 4);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
  );
  // The balancer's rotation follows its pool order, which is the order of --upstreams.
  const rotation = backends.map((b) => b.name);

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const context = await browser.newContext();
  const page = await newUncachedPage(context);
  const origin = `http://127.0.0.1:${lb.port}`;
  const served: { path: string; status: number; by: string }[] = [];
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (url.origin !== origin) return;
    served.push({ path: url.pathname, status: res.status(), by: res.headers()['x-served-by'] ?? '' });
  });

  const mark = lb.proc.lines.length;
  const before = await requestsCounted(lb.adminPort);
  const response = await page.goto(`${origin}/page.html`, { waitUntil: 'load' });
  assert.equal(response?.status(), 200);

  const widths = await page.evaluate<[string, number][]>(
    'Array.from(document.images, (img) => [img.src, img.naturalWidth])',
  );
  assert.equal(widths.length, 2, 'the page shows two images');
  for (const [src, width] of widths) assert.ok(width > 0, `${src} loaded (naturalWidth ${width})`);

  // What the browser saw: the three requests of the page view, each naming the backend that served it.
  const paths = served.map((s) => s.path).sort();
  assert.deepEqual(paths, ['/images/large.jpg', '/images/small.jpg', '/page.html']);
  assert.ok(
    served.every((s) => s.status === 200 && rotation.includes(s.by)),
    JSON.stringify(served),
  );

  // What the balancer saw: every request of the page view, in its access log. Chromium also asks for
  // the favicon from its browser process, which pages cannot observe, so the log is the full list.
  await page.waitForLoadState('networkidle');
  const byAddress = new Map((await lb.status()).upstreams.map((u) => [u.name, u.address]));
  const nameOf = (upstream: unknown) => {
    const port = Number(
      String(byAddress.get(String(upstream)))
        .split(':')
        .at(-1),
    );
    return backends.find((b) => b.port === port)?.name ?? `? ${String(upstream)}`;
  };
  const logged = await waitFor(async () => {
    const lines = lb.proc.lines.slice(mark).filter((l) => l.event === 'access');
    const counted = (await requestsCounted(lb.adminPort)) - before;
    return lines.length === counted ? lines : undefined;
  }, 'the access log to list every request the balancer counted');
  const views = logged.map((l) => ({ path: String(l.url), by: nameOf(l.upstream) }));
  for (const s of served) {
    assert.deepEqual(
      views.filter((v) => v.path === s.path),
      [{ path: s.path, by: s.by }],
      `the browser and the balancer agree on who served ${s.path}`,
    );
  }

  // Round robin per request: the page went first, and the k requests of the view (page, images,
  // perhaps the favicon) took the next k backends in turn, one each. The images go out in parallel,
  // so which of the two got which backend is the browser's business.
  assert.ok(views.length <= rotation.length, `one page view is at most ${rotation.length} requests`);
  const first = served.find((s) => s.path === '/page.html');
  const start = rotation.indexOf(first?.by ?? '');
  const expected = views.map((_, i) => rotation[(start + i) % rotation.length]);
  assert.deepEqual(
    views.map((v) => v.by).sort(),
    expected.sort(),
    `from ${first?.by}, the next backends in turn: ${JSON.stringify(views)}`,
  );
});
