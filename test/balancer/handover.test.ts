/**
 * The listening-socket handover a PM2 restart of the balancer relies on: the message and its path
 * (pure), and the real thing: a holder process (dist/src/balancer-holder.js) keeps a listening
 * socket while nothing accepts on it, a connection made meanwhile is queued rather than refused,
 * and whoever takes the socket over (SCM_RIGHTS) answers it; the holder goes once the taker says
 * it is ready, and holds on for another when a taker goes first. A holder nobody comes to lets
 * go, and its watch on a real PM2 daemon tells a restart from a stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { handoverPath, parseHandover } from '../../src/balancer/handover/message.js';
import { watchPm2, type HolderOrders } from '../../src/balancer/handover/holder.js';
import { closeFd, dupFd, fdOf } from '../../src/balancer/handover/fd-passing.js';
import { takeHandover } from '../../src/balancer/handover/taking.js';
import { listenOnFd } from '../../src/net/listen.js';
import { Pm2Client } from '../../src/supervisor/pm2-client.js';
import { quietLogger } from '../helpers/memory-logger.js';
import { createPm2Home, fixtureApp, writeFixtures } from '../helpers/pm2-home.js';
import { DIST } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

void test('handoverPath: one per address, none for port 0', () => {
  assert.equal(handoverPath('/tmp', 1000, '127.0.0.1', 0), null);
  assert.equal(
    handoverPath('/tmp', 1000, '::1', 8080),
    '/tmp/supervised-balancer-1000/handover-__1-8080.sock',
  );
  assert.notEqual(handoverPath('/tmp', 0, '127.0.0.1', 8080), handoverPath('/tmp', 0, '127.0.0.2', 8080));
});

void test('parseHandover: the message must describe every descriptor, a public one among them', () => {
  const good = {
    from: 42,
    listeners: [
      { role: 'public', port: 8080 },
      { role: 'admin', port: 8081 },
    ],
    workers: [101, 102],
    zone: true,
    slots: { '127.0.0.1:7002': 0, '127.0.0.1:7003': 1 },
  };
  assert.deepEqual(parseHandover(JSON.stringify(good), 3), good);
  const { workers: _none, zone: _noZone, slots: _noSlots, ...fromAnOlderHolder } = good;
  assert.deepEqual(
    parseHandover(JSON.stringify(fromAnOlderHolder), 2).workers,
    [],
    'no word of workers: none',
  );
  assert.equal(parseHandover(JSON.stringify(fromAnOlderHolder), 2).zone, false, 'no word of a zone: none');
  const bad: [string, number, RegExp][] = [
    ['not json', 1, /not JSON/],
    [JSON.stringify(good), 1, /2 listeners and a zone for 1 descriptors/],
    [JSON.stringify({ ...good, slots: { a: -1 } }), 3, /bad "slots"/],
    [JSON.stringify({ ...good, from: 'x' }), 2, /no "from" pid/],
    [JSON.stringify({ from: 1, listeners: [{ role: 'admin', port: 1 }] }), 1, /no public listener/],
    [JSON.stringify({ from: 1, listeners: [{ role: 'public', port: 0 }] }), 1, /bad "listeners"/],
    [JSON.stringify({ from: 1, listeners: [{ role: 'other', port: 80 }] }), 1, /bad "listeners"/],
    [JSON.stringify({ ...good, workers: [0] }), 3, /bad "workers"/],
    [JSON.stringify({ ...good, workers: 'all' }), 3, /bad "workers"/],
  ];
  for (const [text, fds, message] of bad) {
    assert.throws(
      () => parseHandover(text, fds),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_HANDOVER');
        assert.match(err.message, message);
        return true;
      },
    );
  }
});

void test('takeHandover: nobody at the path is null, not an error', async () => {
  assert.equal(
    await takeHandover(path.join(os.tmpdir(), `no-holder-${process.pid}.sock`), quietLogger),
    null,
  );
});

/** A stand-in for a process the holder watches (the old primary, the PM2 daemon): ours to kill. */
function sleeper(
  t: { after: (fn: () => void) => void },
  env: Record<string, string | undefined> = process.env,
): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore', env });
  t.after(() => child.kill('SIGKILL'));
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

interface Holding {
  holder: ChildProcess;
  port: number;
  file: string;
  /** Stand-ins for the old primary, the PM2 daemon the holder watches, and an old worker. */
  oldPrimary: ChildProcess;
  daemon: ChildProcess;
  oldWorker: ChildProcess;
  /** What the holder printed so far (stdout and stderr). */
  output: () => string;
}

/** Bind a port, start a holder with it, and close our own copy: only the holder keeps it. */
async function startHolder(
  t: { after: (fn: () => void | Promise<void>) => void },
  waitMs: number,
): Promise<Holding> {
  const oldPrimary = sleeper(t);
  const daemon = sleeper(t);
  // The holder signals only a process whose environment names a worker slot, as a real one's does.
  const oldWorker = sleeper(t, { ...process.env, LB_WORKER_ID: '1' });
  const from = oldPrimary.pid ?? 0;
  const daemonPid = daemon.pid ?? 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handover-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'h.sock');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const fd = dupFd(fdOf(server));
  await new Promise((resolve) => server.close(resolve));
  const orders: HolderOrders = {
    path: file,
    handover: {
      from,
      listeners: [{ role: 'public', port }],
      workers: [oldWorker.pid ?? 0],
      zone: false,
      slots: {},
    },
    daemonPid,
    pm2: null,
    waitMs,
    name: 'test',
    logLevel: 'info',
    logFormat: 'json',
  };
  const holder = spawn(process.execPath, [path.join(DIST, 'balancer-holder.js')], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc', fd],
    env: { ...process.env, LB_HOLDER: JSON.stringify(orders) },
  });
  t.after(() => {
    holder.kill('SIGKILL');
  });
  closeFd(fd);
  let out = '';
  for (const stream of [holder.stdout, holder.stderr]) {
    stream?.setEncoding('utf8').on('data', (c: string) => (out += c));
  }
  await new Promise<void>((resolve, reject) => {
    holder.once('message', () => resolve());
    holder.once('exit', (code) => reject(new Error(`the holder exited (${code}) before holding`)));
  });
  return { holder, port, file, oldPrimary, daemon, oldWorker, output: () => out };
}

void test('a holder keeps the socket: a connection made meanwhile waits, and the taker answers it', async (t) => {
  const { holder, port, file, output } = await startHolder(t, 5000);

  // Nothing accepts on the port now; the kernel queues the connection instead of refusing it.
  const answer = new Promise<string>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/waited', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 300));

  const got = await takeHandover(file, quietLogger);
  assert.ok(got !== null, 'the holder answered at its path');
  assert.deepEqual(got.handover.listeners, [{ role: 'public', port }]);
  const taker = http.createServer((req, res) => res.end(`taken over: ${req.url}`));
  t.after(() => new Promise((resolve) => taker.close(resolve)));
  assert.equal(await listenOnFd(taker, got.fds[0] ?? -1), port);
  assert.equal(await answer, 'taken over: /waited');
  got.ready();

  assert.equal(await exited(holder), 0);
  assert.match(output(), /handed 1 listening sockets to the next balancer/);
  assert.equal(fs.existsSync(file), false, 'the rendezvous is gone with the holder');
});

void test('a holder keeps everything for the next taker when one goes before it is ready, and drains the old generation only on ready', async (t) => {
  const { holder, port, file, oldPrimary, oldWorker, output } = await startHolder(t, 5000);
  oldPrimary.kill('SIGKILL');

  const first = await takeHandover(file, quietLogger);
  assert.ok(first !== null, 'the first taker got the sockets');
  for (const fd of first.fds) closeFd(fd);
  first.giveUp();
  await waitFor(() => output().includes('went before it was ready'), 'the holder to see the taker go', {
    timeoutMs: 2000,
  });
  assert.equal(holder.exitCode, null, 'still holding for the next taker');
  assert.equal(oldWorker.exitCode, null, 'the old generation still serves');
  assert.equal(oldWorker.signalCode, null, 'the old generation still serves');

  const second = await takeHandover(file, quietLogger);
  assert.ok(second !== null, 'the second taker got the sockets too');
  const taker = http.createServer((_req, res) => res.end('second'));
  t.after(() => new Promise((resolve) => taker.close(resolve)));
  assert.equal(await listenOnFd(taker, second.fds[0] ?? -1), port);
  second.ready();
  assert.equal(await exited(holder), 0);
  await waitFor(() => oldWorker.signalCode === 'SIGTERM', 'the old worker to get SIGTERM', {
    timeoutMs: 2000,
  });
  assert.match(output(), /the last balancer's workers drain now \(the next balancer's workers are ready\)/);
});

void test('a holder whose PM2 daemon is gone lets the socket go at once', async (t) => {
  const { holder, port, file, oldPrimary, daemon, output } = await startHolder(t, 60_000);
  oldPrimary.kill('SIGKILL');
  daemon.kill('SIGKILL');
  assert.equal(await exited(holder), 0);
  assert.match(output(), /letting the listening sockets go: the PM2 daemon is gone/);
  assert.equal(fs.existsSync(file), false);
  // The socket is closed now: a connection is refused, and the port can be bound again.
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(false)));
        s.once('error', () => resolve(true));
      }),
    'the port to be refused',
    { timeoutMs: 2000 },
  );
});

void test('a holder waits for the old primary to exit before its time starts', async (t) => {
  const { holder, oldPrimary } = await startHolder(t, 300);
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(holder.exitCode, null, 'still holding while the old primary drains');
  const started = Date.now();
  oldPrimary.kill('SIGKILL');
  assert.equal(await exited(holder), 0);
  assert.ok(Date.now() - started >= 250, 'then it waited its time for a next primary');
});

void test("a holder's watch on a real PM2 daemon: restarts are never taken for a stop, a pm2 stop is", async (t) => {
  const pm2 = await createPm2Home(t);
  const { server } = await writeFixtures(pm2.home);
  const client = await Pm2Client.connect({ pm2Home: pm2.home });
  t.after(() => client.disconnect());
  await client.start([fixtureApp(server, 'fx-held', {}, { exec_mode: 'fork', kill_timeout: 3000 })]);
  const current = async () => {
    const [app] = await client.describe('fx-held');
    assert.ok(app !== undefined && app.pid !== null);
    pm2.track(app.pid);
    return { home: pm2.home, id: app.pmId, restarts: app.restarts };
  };
  // As each primary's holder does, but asking PM2 without a pause: PM2 shows each restart's old
  // process as stopped for a moment, and a watch that took that for a stop would say so here.
  for (let n = 1; n <= 5; n++) {
    const watch = watchPm2({ pm2: await current() }, quietLogger, 0);
    try {
      await client.restart('fx-held');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(watch.verdict(), null, `restart ${n} was taken for a stop`);
    } finally {
      await watch.close();
    }
  }
  const watch = watchPm2({ pm2: await current() }, quietLogger, 0);
  t.after(() => watch.close());
  await client.stop('fx-held');
  await waitFor(() => watch.verdict() !== null, 'the watch to see the stop', { timeoutMs: 2000 });
  assert.equal(watch.verdict(), 'PM2 says the app is stopped');
});
