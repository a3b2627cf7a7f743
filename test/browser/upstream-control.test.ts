/**
 * The dashboard's upstream controls in headless Chromium, against a two-worker balancer in front
 * of three backends under a small bounded load: drain on one row takes it out (its served count
 * stops while the others' go on), ready brings it back, the weight input sets its weight, and a
 * weight the balancer refuses shows its reason on the row. Every port is ephemeral.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { backgroundLoad, startBackends, startBalancer } from '../helpers/balancer-fleet.js';
import { artifactPath, watchedPage } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait.js';

/** The page's figure in the Served column (the twelfth) of each upstream's row. */
async function servedOnPage(page: Page, names: readonly string[]): Promise<Map<string, number>> {
  const served = new Map<string, number>();
  for (const name of names) {
    const cell = page.locator(`#upstreams tr[data-upstream="${name}"] td`).nth(11);
    served.set(name, Number(((await cell.textContent()) ?? '').replaceAll(',', '')));
  }
  return served;
}

void test('drain, ready and a weight from the dashboard change the row and the traffic', async (t) => {
  const backends = await startBackends(t, 3);
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--workers', '2'],
  );
  const names = (await lb.status()).upstreams.map((u) => u.name);
  const [victim, ...others] = names as [string, ...string[]];
  assert.equal(others.length, 2);

  // A small load, bounded by rounds and time, stopped by the test whatever happens.
  const load = backgroundLoad(t, lb.port, { rounds: 2000 });
  // The refused weight below is a 400 Chromium reports as a failed load: that one is expected.
  const { page, problems } = await watchedPage(t, { width: 1600, height: 900 }, /status of 400/);
  await page.goto(`http://127.0.0.1:${lb.adminPort}/`);
  const row = (name: string) => page.locator(`#upstreams tr[data-upstream="${name}"]`);
  for (const name of names) {
    await page.locator(`#upstreams tr[data-upstream="${name}"][data-admin="ready"]`).waitFor();
  }
  assert.match((await page.locator('#balancer-info').textContent()) ?? '', / · policy round-robin · /);
  await waitFor(
    async () => [...(await servedOnPage(page, names)).values()].every((n) => n > 0),
    'every upstream to have served some of the load',
  );

  // Drain: the row says so, the log says who, and the victim's count stops while the others' rise.
  await row(victim).locator('button[data-action="drain"]').click();
  await page
    .locator(`#upstreams tr[data-upstream="${victim}"][data-admin="drain"]`)
    .waitFor({ timeout: 2000 });
  assert.equal(await row(victim).locator('button[data-action="drain"]').isDisabled(), true);
  const logged = page.locator(
    `#pool-changes li[data-kind="admin"][data-upstream="${victim}"][data-admin="drain"]`,
  );
  await logged.waitFor({ timeout: 2000 });
  assert.match((await logged.textContent()) ?? '', /ready -> drain.*by .+ from 127\.0\.0\.1:\d+/);
  assert.equal(await page.locator('#stat-pool').textContent(), '2 / 3');
  await waitFor(async () => (await lb.upstream(victim)).inFlight === 0, `${victim}'s requests to finish`);
  let base = await servedOnPage(page, names);
  const stopped = await waitFor(
    async () => {
      const now = await servedOnPage(page, names);
      // A worker's count reported late restarts the window: what is wanted is a stretch in which
      // the victim's count stands still while each other upstream serves ten more.
      if (now.get(victim) !== base.get(victim)) {
        base = now;
        return false;
      }
      return others.every((o) => (now.get(o) ?? 0) - (base.get(o) ?? 0) >= 10) && now;
    },
    `${victim}'s served count to stand still while the others' rise`,
    { timeoutMs: 20_000 },
  );
  t.diagnostic(`while drained: ${JSON.stringify([...stopped])} from ${JSON.stringify([...base])}`);
  assert.equal((await lb.upstream(victim)).admin, 'drain');

  // Ready: back in rotation, serving again.
  await row(victim).locator('button[data-action="ready"]').click();
  await page
    .locator(`#upstreams tr[data-upstream="${victim}"][data-admin="ready"]`)
    .waitFor({ timeout: 2000 });
  await page
    .locator(`#pool-changes li[data-kind="admin"][data-upstream="${victim}"][data-admin="ready"]`)
    .waitFor({ timeout: 2000 });
  const atReady = (await servedOnPage(page, names)).get(victim) ?? 0;
  await waitFor(
    async () => ((await servedOnPage(page, names)).get(victim) ?? 0) >= atReady + 10,
    `${victim} to serve again after ready`,
  );
  assert.equal(await page.locator('#stat-pool').textContent(), '3 / 3');

  // A weight typed into the row's input.
  const input = row(victim).locator('input.weight-input');
  await input.fill('3');
  await row(victim).locator('button[data-action="weight"]').click();
  await page.locator(`#upstreams tr[data-upstream="${victim}"][data-weight="3"]`).waitFor({ timeout: 2000 });
  assert.equal(await row(victim).locator('td').nth(14).textContent(), '3');
  assert.equal(await input.inputValue(), '', 'the input is cleared once the balancer took it');
  assert.equal((await lb.upstream(victim)).weight, 3);
  await page
    .locator(`#pool-changes li[data-kind="admin"][data-upstream="${victim}"]`, { hasText: 'weight 1 -> 3' })
    .waitFor({ timeout: 2000 });

  // A weight the balancer refuses: its reason on the row, nothing changed.
  await input.fill('300');
  await input.press('Enter');
  const message = row(victim).locator('.control-msg');
  await message.and(page.locator(':not([hidden])')).waitFor({ timeout: 2000 });
  assert.equal(
    await message.textContent(),
    '400: the weight must be a whole number from 0 to 256, not "300"',
  );
  assert.equal((await lb.upstream(victim)).weight, 3);

  assert.deepEqual(problems, [], 'no script errors on the page');
  await page.screenshot({ path: artifactPath('upstream-control.png'), fullPage: true });
  await load.stop();
});
