/**
 * `npm run lb` (dist/src/fleet/cli-lb.js) against a real balancer: two workers in front of four
 * backends, every port ephemeral (the admin port one a free PORT_OFFSET puts it on, so the CLI's
 * default can be tried too), a bearer token so the token option is tried on the way. Each command
 * must change the status document, and drain and weight the traffic; each failure must exit with
 * its code and say what is wrong.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_PORTS } from '../../src/config/common.js';
import { freePort } from '../../src/net/free-port.js';
import {
  runLoad,
  startBackends,
  startBalancer,
  type Backend,
  type Balancer,
} from '../helpers/balancer-fleet.js';
import { findFreePortOffset } from '../helpers/pm2-home.js';
import { runNode } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

interface Fleet {
  lb: Balancer;
  backends: Backend[];
  offset: number;
  tokenFile: string;
}

async function startFleet(t: TestContext): Promise<Fleet> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lb-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tokenFile = path.join(dir, 'admin-token');
  fs.writeFileSync(tokenFile, 'a-token-for-the-lb-cli-test\n', { mode: 0o600 });
  const backends = await startBackends(t, 4);
  // An offset the fleet could run at (every port of it valid and free), as `npm start` would take.
  const offset = await findFreePortOffset();
  const lb = await startBalancer(
    t,
    backends.map((b) => b.port),
    ['--workers', '2', '--admin-port', String(DEFAULT_PORTS.admin + offset), '--admin-token-file', tokenFile],
  );
  return { lb, backends, offset, tokenFile };
}

/** Run the CLI with text logs; the options that find this balancer come after the words. */
function lb(fleet: Fleet, words: string[], options?: string[]) {
  const given = options ?? [
    '--admin-port',
    String(fleet.lb.adminPort),
    '--admin-token-file',
    fleet.tokenFile,
  ];
  return runNode('fleet/cli-lb', [...words, ...given], { LOG_FORMAT: 'text', PORT_OFFSET: '' });
}

/** The upstream named for a backend: its address is the backend's port. */
async function nameOf(fleet: Fleet, backend: Backend): Promise<string> {
  const status = await fleet.lb.status();
  const found = status.upstreams.find((u) => u.address === `127.0.0.1:${backend.port}`);
  assert.ok(found !== undefined, `the balancer lists ${backend.name}`);
  return found.name;
}

/** Requests each backend answered out of `total` (X-Served-By carries its --name). */
async function spread(fleet: Fleet, total: number): Promise<Map<string, number>> {
  const result = await runLoad(fleet.lb.port, { total, concurrency: 2 });
  assert.equal(result.failed, 0, `no request failed: ${result.problems.join('; ')}`);
  return result.servedBy;
}

void test('npm run lb drains, readies, puts in maint and weighs upstreams of a running balancer', async (t) => {
  const fleet = await startFleet(t);
  const [a, b, c, d] = fleet.backends as [Backend, Backend, Backend, Backend];
  const nameA = await nameOf(fleet, a);
  const nameB = await nameOf(fleet, b);

  await t.test('status: the policy and a row per upstream', async () => {
    const run = await lb(fleet, ['status']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^balancer \(pid \d+\): policy round-robin, 4 of 4 upstreams in rotation\n/);
    for (const backend of fleet.backends) {
      assert.match(
        run.stdout,
        new RegExp(
          `\\| backend-${backend.port} \\| 127\\.0\\.0\\.1:${backend.port} \\| up +\\| ready \\| +1 \\|`,
        ),
      );
    }
  });

  await t.test('drain: out of rotation at once, its traffic goes to the others', async () => {
    const run = await lb(fleet, ['drain', nameA]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      new RegExp(`^${nameA} \\(127\\.0\\.0\\.1:${a.port}\\): drain \\(no new requests`),
    );
    const upstream = await fleet.lb.upstream(nameA);
    assert.deepEqual([upstream.admin, upstream.available], ['drain', false]);
    const line = await fleet.lb.proc.waitForLine(
      (l) => l.event === 'admin-change' && l.upstream === nameA,
      "the balancer's log line for the drain",
    );
    assert.match(String(line.by), /^supervised-balancer lb \(.+\) from 127\.0\.0\.1:\d+$/);
    const served = await spread(fleet, 40);
    assert.equal(served.get(a.name), undefined, `${a.name} got no request while drained`);
    for (const other of [b, c, d]) assert.ok((served.get(other.name) ?? 0) > 0, `${other.name} served`);
  });

  await t.test('ready: back in rotation', async () => {
    const run = await lb(fleet, ['ready', nameA]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^${nameA} .*: ready .*, in rotation`));
    assert.equal((await fleet.lb.upstream(nameA)).admin, 'ready');
    const served = await spread(fleet, 40);
    assert.ok((served.get(a.name) ?? 0) > 0, `${a.name} serves again`);
  });

  await t.test('maint: out with its checks stopped; ready brings it back after a check', async () => {
    const run = await lb(fleet, ['maint', nameA]);
    assert.equal(run.code, 0, run.stderr);
    const upstream = await fleet.lb.upstream(nameA);
    assert.deepEqual([upstream.admin, upstream.available], ['maint', false]);
    const back = await lb(fleet, ['ready', nameA]);
    assert.equal(back.code, 0, back.stderr);
    await waitFor(async () => (await fleet.lb.upstream(nameA)).available, `${nameA} back in rotation`);
  });

  await t.test('weight: its share of new requests', async () => {
    const run = await lb(fleet, ['weight', nameB, '3']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^${nameB} .*, weight 3, up, in rotation`));
    assert.equal((await fleet.lb.upstream(nameB)).weight, 3);
    // Smooth weighted round robin over 3 + 1 + 1 + 1: half of every six requests.
    const served = await spread(fleet, 60);
    for (const other of [a, c, d]) {
      assert.ok(
        (served.get(b.name) ?? 0) > 2 * (served.get(other.name) ?? 0),
        `${b.name} (weight 3) served more than twice ${other.name}: ${JSON.stringify([...served])}`,
      );
    }
    const status = await lb(fleet, ['status']);
    assert.match(status.stdout, new RegExp(`\\| ${nameB} +\\| [^|]+\\| up +\\| ready \\| +3 \\|`));
  });

  await t.test('an unknown upstream: exit 1 with the names the balancer knows', async () => {
    const run = await lb(fleet, ['drain', 'backend-nope']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /refused \(404\): no upstream named "backend-nope"; the pool has /);
    for (const backend of fleet.backends) assert.ok(run.stderr.includes(`backend-${backend.port}`));
    assert.equal(run.stdout, '');
  });

  await t.test('a bad weight or command: exit 2 with the usage, nothing sent', async () => {
    const before = fleet.lb.proc.lines.length;
    for (const words of [
      ['weight', nameB, '999'],
      ['weight', nameB],
      ['undrain', nameB],
    ]) {
      const run = await lb(fleet, words);
      assert.equal(run.code, 2, words.join(' '));
      assert.match(
        run.stderr,
        /^npm run lb: .+\n\nUsage: npm run lb -- <command> \[options\]/,
        words.join(' '),
      );
    }
    assert.equal((await fleet.lb.upstream(nameB)).weight, 3);
    const asked = fleet.lb.proc.lines.slice(before).filter((l) => String(l.event).startsWith('admin-'));
    assert.deepEqual(asked, [], 'the balancer heard of none of them');
  });

  await t.test('without the token the balancer refuses: exit 1, nothing changed', async () => {
    const run = await lb(fleet, ['drain', nameB], ['--admin-port', String(fleet.lb.adminPort)]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /refused \(401\): a valid Authorization: Bearer <token> is required/);
    assert.equal((await fleet.lb.upstream(nameB)).admin, 'ready');
  });

  await t.test(
    "PORT_OFFSET alone finds the balancer: the fleet's admin port is 44445 + PORT_OFFSET",
    async () => {
      assert.equal(fleet.lb.adminPort, DEFAULT_PORTS.admin + fleet.offset);
      const run = await runNode('fleet/cli-lb', ['status'], {
        LOG_FORMAT: 'text',
        PORT_OFFSET: String(fleet.offset),
      });
      assert.equal(run.code, 0, run.stderr);
      // One upstream weighs 3 since the weight subtest: round robin is the weighted one now.
      assert.match(run.stdout, /policy weighted-round-robin, 4 of 4 upstreams in rotation/);
    },
  );

  await t.test('no balancer on the port: exit 1, saying so and what to run', async () => {
    const port = await freePort();
    const run = await lb(fleet, ['status'], ['--admin-port', String(port)]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `no balancer answers on http://127\\.0\\.0\\.1:${port} \\(connection refused\\): the fleet is not running there\\. Start it with \`npm start\``,
      ),
    );
  });
});
