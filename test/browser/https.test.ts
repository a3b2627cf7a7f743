/**
 * A browser on the HTTPS listener: Debian's Chromium opens /page.html over TLS with the development
 * certificate (the context accepts it, as a developer who trusted it would), speaks HTTP/2 to the
 * balancer, loads both images, and opens a wss:// WebSocket that echoes through a tunnel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackends, startBalancer } from '../helpers/balancer-fleet.js';
import { launchBrowser, newUncachedPage } from '../helpers/browser.js';
import { makeDevCert } from '../helpers/tls-client.js';

void test('Chromium gets /page.html over HTTP/2 with both images, and a wss:// WebSocket echoes', async (t) => {
  const cert = makeDevCert(t);
  const backends = await startBackends(t, 4);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--tls-cert', cert.certPath, '--tls-key', cert.keyPath],
  );
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await newUncachedPage(context);
  const origin = `https://127.0.0.1:${lb.port}`;
  const response = await page.goto(`${origin}/page.html`, { waitUntil: 'load' });
  assert.equal(response?.status(), 200);

  const protocols = await page.evaluate<string[]>(
    "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).map((e) => e.nextHopProtocol)",
  );
  assert.ok(protocols.length >= 3, JSON.stringify(protocols));
  assert.ok(
    protocols.every((p) => p === 'h2'),
    `every load over h2: ${JSON.stringify(protocols)}`,
  );
  const widths = await page.evaluate<number[]>('Array.from(document.images, (img) => img.naturalWidth)');
  assert.equal(widths.length, 2);
  assert.ok(
    widths.every((w) => w > 0),
    `both images loaded: ${JSON.stringify(widths)}`,
  );

  const echoed = await page.evaluate<string[]>(`new Promise((resolve, reject) => {
    const ws = new WebSocket('wss://127.0.0.1:${lb.port}/ws/echo');
    const got = [];
    ws.onmessage = (e) => {
      got.push(String(e.data));
      if (got.length === 1) ws.send('from the page');
      else { ws.close(); resolve(got); }
    };
    ws.onerror = () => reject(new Error('WebSocket error'));
    setTimeout(() => reject(new Error('no echo in 5 s')), 5000);
  })`);
  assert.match(echoed[0] ?? '', /"hello":"b[1-4]"/);
  assert.equal(echoed[1], 'from the page');
  // The tunnel's access line is written when it closes.
  await lb.proc.waitForLine((l) => l.event === 'access' && l.status === 101, 'the tunnel access line');
});
