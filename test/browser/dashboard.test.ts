/**
 * The dashboard in a real browser while PM2 stops and starts a backend and the balancer reloads:
 * the real ecosystem file (four backends and the balancer with PM2 discovery, its default worker
 * count) under a throwaway PM2 daemon, shifted to a free PORT_OFFSET; headless Debian Chromium on
 * the balancer's admin listener.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { defaultWorkers } from '../../src/balancer/config.js';
import { readBalancerStatus } from '../../src/balancer/status-reader.js';
import { STATUS_PATH } from '../../src/balancer/status.js';
import { loadFleetApps, type FleetApp } from '../../src/fleet/ecosystem.js';
import { withPm2 } from '../../src/supervisor/pm2-client.js';
import { backgroundLoad, getJson } from '../helpers/balancer-fleet.js';
import { artifactPath, watchedPage } from '../helpers/browser.js';
import { createPm2Home, findFreePortOffset } from '../helpers/pm2-home.js';
import { waitFor } from '../helpers/wait.js';

/** The bound: a backend leaving or rejoining shows on the page within this. */
const VISIBLE_WITHIN_MS = 2000;
/** What the balancer runs with no --workers (the ecosystem sets none): 2 on a 2-core machine. */
const DEFAULT_WORKERS = defaultWorkers();

void test('the dashboard shows the workers, a backend stopped and started through PM2 and a balancer reload, live, without a page reload', async (t) => {
  const pm2 = await createPm2Home(t);
  const offset = await findFreePortOffset();
  const logDir = path.join(pm2.home, 'logs');
  fs.mkdirSync(logDir);
  const env = { PORT_OFFSET: String(offset), FLEET_LOG_DIR: logDir, LOG_FORMAT: 'json', LOG_LEVEL: 'warn' };
  const apps = loadFleetApps(env, offset);
  const backends = apps.filter((a) => a.role === 'backend');
  const balancer = apps.find((a) => a.role === 'balancer') as FleetApp;
  const only = [...backends, balancer].map((a) => a.name).join(',');
  const started = await pm2.pm2(['start', 'ecosystem.config.cjs', '--only', only], env, 120_000);
  for (const entry of await pm2.jlist()) pm2.track(entry.pid);
  assert.equal(started.code, 0, `pm2 start failed:\n${started.stdout}\n${started.stderr}`);
  assert.equal(backends.length, 4);

  const adminPort = balancer.adminPort ?? 0;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitFor(
    async () => {
      const status = readBalancerStatus(await getJson(adminPort, STATUS_PATH));
      return status.upstreams.filter((u) => u.available && u.pm2?.status === 'online').length === 4;
    },
    'the balancer to have the four PM2 backends in rotation',
    { timeoutMs: 30_000 },
  );

  // Some traffic for the chart and the counters, bounded, while the page is watched.
  // Bounded by count and time; it must outlast the stop/start below, which can take a while on a busy machine.
  const load = backgroundLoad(t, balancer.port, { rounds: 3000 });
  const { page, problems } = await watchedPage(t, { width: 1440, height: 900 });
  let navigations = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });

  await page.goto(`${adminUrl}/`);
  // A mark that a reload would wipe out.
  await page.evaluate('window.__sameDocument = "still here"');
  const row = (name: string, health: string) =>
    page.locator(`#upstreams tr[data-upstream="${name}"][data-health="${health}"]`);
  for (const b of backends) await row(b.name, 'healthy').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#upstreams tbody tr').count(), 4);
  assert.equal(await page.locator('#connection').textContent(), 'live');
  assert.match(
    (await page.locator('#balancer-info').textContent()) ?? '',
    / · policy round-robin · h1 · connections \d+ of \d+$/,
  );
  for (const b of backends) {
    const cells = await row(b.name, 'healthy').locator('td').allTextContents();
    assert.match(cells[0] ?? '', new RegExp(`127\\.0\\.0\\.1:${b.port}`), `${b.name} shows its address`);
    assert.equal(cells[3], 'online', `${b.name} shows PM2 status online`);
    assert.match(cells[4] ?? '', /^\d+$/, `${b.name} shows its pid`);
  }

  // The workers, as the balancer's status lists them: its default count, all of the first generation.
  const status = readBalancerStatus(await getJson(adminPort, STATUS_PATH));
  assert.equal(status.workers.length, DEFAULT_WORKERS, 'the balancer runs its default worker count');
  for (const w of status.workers) pm2.track(w.pid);
  const workerRow = (generation: number, state: string) =>
    page.locator(`#workers tr[data-generation="${generation}"][data-state="${state}"]`);
  await waitFor(
    async () => (await workerRow(0, 'ready').count()) === DEFAULT_WORKERS,
    `the page to show ${DEFAULT_WORKERS} ready workers`,
  );
  assert.equal(await page.locator('#workers tbody tr').count(), DEFAULT_WORKERS);
  for (const w of status.workers) {
    const cells = await page.locator(`#workers tr[data-worker="${w.id}"] td`).allTextContents();
    assert.deepEqual(cells.slice(0, 4), [`#${w.id}`, String(w.pid), '0', 'ready'], `worker ${w.id}`);
  }
  assert.equal(await page.locator('#stat-workers').textContent(), String(DEFAULT_WORKERS));
  assert.equal(await page.locator('#stat-reloads').textContent(), '0');

  // Stop one backend through PM2; the clock for the page starts with the command.
  const victim = backends[1] as FleetApp;
  const stopAt = Date.now();
  const stopping = withPm2({ pm2Home: pm2.home, launchDaemon: false }, (c) => c.stop(victim.name));
  await row(victim.name, 'unhealthy').waitFor({ timeout: VISIBLE_WITHIN_MS });
  t.diagnostic(`${victim.name} unhealthy on the page ${Date.now() - stopAt} ms after pm2 stop was sent`);
  await stopping;
  await page
    .locator(`#upstreams tr[data-upstream="${victim.name}"] .badge`, { hasText: 'stopped' })
    .waitFor({ timeout: 10_000 });
  await page
    .locator(`#pool-changes li[data-upstream="${victim.name}"][data-to="unhealthy"]`)
    .first()
    .waitFor({ timeout: VISIBLE_WITHIN_MS });
  assert.equal(await page.locator('#stat-pool').textContent(), '3 / 4');

  // Start it again through PM2: healthy again once it passes its health checks.
  const startAt = Date.now();
  await withPm2({ pm2Home: pm2.home, launchDaemon: false }, (c) => c.restart(victim.name));
  for (const entry of await pm2.jlist()) pm2.track(entry.pid);
  await row(victim.name, 'healthy').waitFor({ timeout: 15_000 });
  t.diagnostic(`${victim.name} healthy on the page ${Date.now() - startAt} ms after pm2 restart was sent`);
  await page
    .locator(`#pool-changes li[data-upstream="${victim.name}"][data-to="healthy"]`)
    .first()
    .waitFor({ timeout: VISIBLE_WITHIN_MS });
  assert.equal(await page.locator('#stat-pool').textContent(), '4 / 4');

  // SIGHUP to the balancer's primary (its pid from PM2): a new generation, the old one drained.
  const primary = (await pm2.jlist()).find((e) => e.name === balancer.name);
  assert.ok(primary !== undefined && primary.pid > 0, 'PM2 lists the balancer with a pid');
  const hupAt = Date.now();
  process.kill(primary.pid, 'SIGHUP');
  await waitFor(
    async () => (await workerRow(1, 'ready').count()) === DEFAULT_WORKERS,
    `the page to show ${DEFAULT_WORKERS} ready workers of generation 1`,
    { timeoutMs: 20_000 },
  );
  for (const w of readBalancerStatus(await getJson(adminPort, STATUS_PATH)).workers) pm2.track(w.pid);
  await page.locator('#stat-reloads', { hasText: /^1$/ }).waitFor({ timeout: VISIBLE_WITHIN_MS });
  await page
    .locator('#worker-changes li[data-kind="reload-done"][data-generation="1"]')
    .waitFor({ timeout: VISIBLE_WITHIN_MS });
  await page
    .locator('#worker-changes li[data-kind="reload-start"][data-generation="1"]')
    .waitFor({ timeout: VISIBLE_WITHIN_MS });
  await waitFor(
    async () => (await page.locator('#workers tr[data-generation="0"]').count()) === 0,
    'the drained generation 0 to leave the table',
    { timeoutMs: 15_000 },
  );
  await page
    .locator('#worker-changes li[data-kind="drained"][data-generation="0"]')
    .waitFor({ timeout: VISIBLE_WITHIN_MS });
  t.diagnostic(
    `generation 1 serving and generation 0 drained on the page ${Date.now() - hupAt} ms after SIGHUP`,
  );
  assert.equal(await page.locator('#workers tbody tr').count(), DEFAULT_WORKERS);
  assert.equal(await page.locator('#worker-changes li[data-kind="worker-lost"]').count(), 0);

  // The same document all along: no reload, no second navigation.
  assert.equal(await page.evaluate('window.__sameDocument'), 'still here');
  assert.equal(navigations, 1);
  assert.deepEqual(problems, [], 'no script errors on the page');

  await waitFor(
    async () => Number((await page.locator('#stat-rps').textContent())?.replaceAll(',', '')) > 0,
    'the chart and totals to show the traffic',
  );
  const shot = artifactPath('dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(fs.statSync(shot).size > 10_000, `a screenshot was saved at ${shot}`);
  await load.stop();
});
