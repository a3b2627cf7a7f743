/**
 * The dashboard's front line in headless Chromium: two front balancers on a real etcd (one etcd
 * member on loopback), their keepalived state files rewritten as the notify hook does. The line
 * says who holds the virtual IP and the peer's last contact, turns amber in split brain, and is
 * hidden on a balancer that is no front. Every port is ephemeral.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBalancer, startHttpServer } from '../helpers/balancer-fleet.js';
import { artifactPath, watchedPage } from '../helpers/browser.js';
import { startFront, TEST_VIP, writeState } from '../helpers/fronts.js';
import { startLocalEtcd } from '../helpers/local-etcd.js';
import { waitFor } from '../helpers/wait.js';

/** The page's --warn colour (dashboard.css), which the line takes in split brain. */
const AMBER = 'rgb(210, 153, 34)';
/** The line's colour as the browser paints it (an expression: the tests compile without DOM types). */
const LINE_COLOR = "getComputedStyle(document.getElementById('front-info')).color";

void test('the dashboard says which front holds the address and its peer, amber in split brain, nothing on a balancer that is no front', async (t) => {
  const etcd = await startLocalEtcd(t);
  const prefix = `/front-page-${process.pid}`;
  const f1 = await startFront(t, etcd, prefix, 'f1', 'MASTER 150');
  const f2 = await startFront(t, etcd, prefix, 'f2', 'BACKUP 100');

  const { page, problems } = await watchedPage(t, { width: 1440, height: 900 });
  await page.goto(`http://127.0.0.1:${f1.lb.adminPort}/`);
  const line = page.locator('#front-info');
  const text = async (): Promise<string> => (await line.textContent()) ?? '';
  const vip = TEST_VIP.replaceAll('.', '\\.');
  const calm = new RegExp(
    `^front f1: MASTER · holds ${vip} · peer f2 BACKUP, last contact \\d+\\.\\d s ago$`,
  );
  await waitFor(async () => calm.test(await text()), 'the front line on f1');
  assert.equal(await line.isVisible(), true);
  assert.equal(await line.getAttribute('data-split-brain'), 'false');
  assert.notEqual(await page.evaluate(LINE_COLOR), AMBER);

  // Both MASTER: the line turns amber and names the other claimant.
  writeState(f2.file, `MASTER 100 ${Date.now()}\n`);
  await page.locator('#front-info[data-split-brain="true"]').waitFor({ timeout: 10_000 });
  assert.match(await text(), /SPLIT BRAIN: f2 also MASTER · peer f2 MASTER, last contact/);
  assert.equal(await page.evaluate(LINE_COLOR), AMBER);
  await page.screenshot({ path: artifactPath('dashboard-front-split-brain.png') });

  writeState(f2.file, `BACKUP 100 ${Date.now()}\n`);
  await page.locator('#front-info[data-split-brain="false"]').waitFor({ timeout: 10_000 });
  await waitFor(async () => calm.test(await text()), 'the calm line again');
  await page.screenshot({ path: artifactPath('dashboard-front.png') });

  // f2's own page, as a BACKUP: its priority, and f1 as the peer holding the address.
  await page.goto(`http://127.0.0.1:${f2.lb.adminPort}/`);
  await waitFor(
    async () => /^front f2: BACKUP \(priority 100\) · peer f1 MASTER, last contact/.test(await text()),
    'the front line on f2',
  );

  // A balancer that is no front shows no such line.
  const up = await startHttpServer(t, (_req, res) => res.end('ok'));
  const plain = await startBalancer(t, [up.port]);
  await page.goto(`http://127.0.0.1:${plain.adminPort}/`);
  await page.locator('body[data-frames]').waitFor({ state: 'attached', timeout: 10_000 });
  assert.equal(await line.isVisible(), false);
  assert.deepEqual(problems, []);
});
