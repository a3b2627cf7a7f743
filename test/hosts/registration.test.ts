/**
 * Registration through etcd across real hosts: three network namespaces, each with its own PM2
 * daemon, two backends and a registrar; a three-member etcd cluster over them; the balancer in the
 * root namespace on etcd discovery. One lab for the file (it takes ~15 s to build).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestLab, startEtcdBalancer, type EtcdBalancer } from '../helpers/lab.js';
import { waitFor } from '../helpers/wait.js';
import type { Lab } from '../../src/hosts/lab.js';

const LEASE_TTL_S = 3;

void test('registrars on three hosts put every backend into etcd and the balancer pools and follows them', async (t) => {
  const lab: Lab = await createTestLab(t, { hosts: 3, backendsPerHost: 2, leaseTtlS: LEASE_TTL_S });
  const all = lab.hosts.flatMap((h) => lab.upstreamIds(h.link.name));
  const lb: EtcdBalancer = await startEtcdBalancer(t, lab);

  await t.test('every backend of every host is in rotation, named and sourced by its host', async () => {
    await waitFor(() => all.every((id) => lb.inRotation().includes(id)), 'all six backends in rotation', {
      timeoutMs: 15_000,
    });
    const status = lb.status();
    assert.equal(status.balancer.discovery, 'etcd');
    assert.equal(status.balancer.source?.connected, true);
    assert.ok((status.balancer.source?.lastRevision ?? 0) > 0, 'a revision is shown');
    const first = status.upstreams.find((u) => u.id === lab.upstreamIds('h2')[0]);
    assert.deepEqual(
      { source: first?.origin.source, host: first?.origin.host, name: first?.name },
      { source: 'etcd', host: 'h2', name: `h2/${lab.host('h2').backends[0]?.name}` },
    );
    assert.equal(first?.pm2?.status, 'online');
    // A request through the balancer reaches a backend in a namespace.
    const res = await fetch(`${lb.url}/page.html`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('x-served-by') ?? '', /^h\d-backend-/);
  });

  const h2 = lab.host('h2');
  const [stopped] = h2.backends;
  assert.ok(stopped !== undefined);
  const stoppedId = `${h2.link.address}:${stopped.port}`;
  const key = `${lab.prefix}/pools/${lab.pool}/h2/${stopped.name}`;

  await t.test(
    'a backend PM2 stops is deleted from etcd and leaves the pool within one lease TTL',
    async () => {
      const before = Date.now();
      await h2.fleet.stop(stopped.name);
      await waitFor(() => !lb.listed().includes(stoppedId), `${stoppedId} gone from the pool`, {
        timeoutMs: LEASE_TTL_S * 1000,
      });
      t.diagnostic(`left the pool ${Date.now() - before} ms after pm2 stop was run`);
      assert.equal((await lab.etcd.ctl(['get', key])).trim(), '', 'the key is deleted');
      assert.match(await h2.fleet.registrarLog(), new RegExp(`unregistered ${key}`));
    },
  );

  await t.test('started again, it is registered and in rotation within one lease TTL', async () => {
    const before = Date.now();
    await h2.fleet.start(stopped.name);
    const online = Date.now();
    await waitFor(() => lb.inRotation().includes(stoppedId), `${stoppedId} back in rotation`, {
      timeoutMs: LEASE_TTL_S * 1000,
    });
    t.diagnostic(
      `in rotation ${Date.now() - online} ms after PM2 had it online (${online - before} ms to start)`,
    );
    assert.match(await lab.etcd.ctl(['get', key, '--print-value-only']), /"status":"online"/);
  });

  await t.test('a malformed key is refused with a log line naming it and never enters the pool', async () => {
    const base = `${lab.prefix}/pools/${lab.pool}`;
    const bad = {
      [`${base}/h9/not-json`]: 'this is not json',
      [`${base}/h9/bad-address`]: JSON.stringify({ address: '300.1.2.3:80' }),
      [`${base}/h9/no-port`]: JSON.stringify({ address: '10.9.9.9' }),
      [`${base}/h9/deep/er`]: JSON.stringify({ address: '10.9.9.9:80' }),
    };
    const sizeBefore = lb.listed().length;
    for (const [k, v] of Object.entries(bad)) await lab.etcd.ctl(['put', k, v]);
    await waitFor(
      () =>
        Object.keys(bad).every((k) =>
          lb.lines.some((l) => l.level === 'warn' && l.message.includes(`etcd key ${k} refused`)),
        ),
      'a refusal line per bad key',
      { timeoutMs: 5000 },
    );
    assert.equal(lb.listed().length, sizeBefore);
    assert.ok(lb.status().upstreams.every((u) => !u.name.startsWith('h9/')));
    // A good key after the bad ones still gets in: the watch is alive.
    const goodKey = `${base}/h9/good`;
    await lab.etcd.ctl(['put', goodKey, JSON.stringify({ address: '10.213.254.254:1', weight: 1 })]);
    await waitFor(() => lb.listed().includes('10.213.254.254:1'), 'the good key in the pool', {
      timeoutMs: 5000,
    });
    await lab.etcd.ctl(['del', '--prefix', `${base}/h9/`]);
    await waitFor(() => !lb.listed().includes('10.213.254.254:1'), 'the good key gone again', {
      timeoutMs: 5000,
    });
  });

  await t.test('a registrar whose pool has no PM2 app says so and keeps waiting', async () => {
    const h3 = lab.host('h3');
    await h3.fleet.startRegistrar(
      {
        endpoints: lab.etcd.endpoints,
        prefix: lab.prefix,
        pool: 'nobody',
        leaseTtlS: LEASE_TTL_S,
        keepaliveMs: 1000,
      },
      'registrar-nobody',
    );
    await waitFor(
      async () =>
        /no PM2 app has LB_POOL=nobody; nothing to register, waiting/.test(
          await h3.fleet.registrarLog('registrar-nobody'),
        ),
      'the waiting line',
      { timeoutMs: 10_000 },
    );
    const apps = await h3.fleet.jlist();
    assert.equal(apps.find((a) => a.name === 'registrar-nobody')?.pm2_env.status, 'online');
    assert.equal((await lab.etcd.ctl(['get', '--prefix', `${lab.prefix}/pools/nobody/`])).trim(), '');
  });
});
