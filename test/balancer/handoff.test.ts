/**
 * The listening-socket handover a PM2 restart of the balancer relies on: the message and its path
 * (pure), and the real thing: a holder process (dist/src/balancer-holder.js) keeps a listening
 * socket while nothing accepts on it, a connection made meanwhile is queued rather than refused,
 * and whoever takes the socket over (SCM_RIGHTS) answers it. A holder nobody comes to lets go,
 * and its watch on a real PM2 daemon tells a restart from a stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { handoffPath, parseHandoff } from '../../src/balancer/cluster/handoff.js';
import { watchPm2, type HolderOrders } from '../../src/balancer/cluster/socket-holder.js';
import { closeFd, dupFd, listeningFd, receiveFds } from '../../src/net/fd-passing.js';
import { listenOnFd } from '../../src/net/listen.js';
import { Pm2Client } from '../../src/supervisor/pm2-client.js';
import { quietLogger } from '../helpers/memory-logger.js';
import { createPm2Home, fixtureApp, writeFixtures } from '../helpers/pm2-home.js';
import { DIST } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

void test('handoffPath: one per address, none for port 0', () => {
  assert.equal(handoffPath('/tmp', 1000, '127.0.0.1', 0), null);
  assert.equal(handoffPath('/tmp', 1000, '::1', 8080), '/tmp/supervised-balancer-1000/handoff-__1-8080.sock');
  assert.notEqual(handoffPath('/tmp', 0, '127.0.0.1', 8080), handoffPath('/tmp', 0, '127.0.0.2', 8080));
});

void test('parseHandoff: the message must describe every descriptor, a public one among them', () => {
  const good = {
    from: 42,
    listeners: [
      { role: 'public', port: 8080 },
      { role: 'admin', port: 8081 },
    ],
    workers: [101, 102],
  };
  assert.deepEqual(parseHandoff(JSON.stringify(good), 2), good);
  const { workers: _none, ...fromAnOlderHolder } = good;
  assert.deepEqual(
    parseHandoff(JSON.stringify(fromAnOlderHolder), 2).workers,
    [],
    'no word of workers: none',
  );
  const bad: [string, number, RegExp][] = [
    ['not json', 1, /not JSON/],
    [JSON.stringify(good), 1, /2 listeners for 1 descriptors/],
    [JSON.stringify({ ...good, from: 'x' }), 2, /no "from" pid/],
    [JSON.stringify({ from: 1, listeners: [{ role: 'admin', port: 1 }] }), 1, /no public listener/],
    [JSON.stringify({ from: 1, listeners: [{ role: 'public', port: 0 }] }), 1, /bad "listeners"/],
    [JSON.stringify({ from: 1, listeners: [{ role: 'other', port: 80 }] }), 1, /bad "listeners"/],
    [JSON.stringify({ ...good, workers: [0] }), 2, /bad "workers"/],
    [JSON.stringify({ ...good, workers: 'all' }), 2, /bad "workers"/],
  ];
  for (const [text, fds, message] of bad) {
    assert.throws(
      () => parseHandoff(text, fds),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_HANDOFF');
        assert.match(err.message, message);
        return true;
      },
    );
  }
});

void test('receiveFds: nobody at the path is null, not an error', () => {
  assert.equal(receiveFds(path.join(os.tmpdir(), `no-holder-${process.pid}.sock`), 200), null);
});

/** A stand-in for a process the holder watches (the old primary, the PM2 daemon): ours to kill. */
function sleeper(t: { after: (fn: () => void) => void }): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
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
  /** Stand-ins for the old primary and the PM2 daemon the holder watches. */
  oldPrimary: ChildProcess;
  daemon: ChildProcess;
  /** What the holder printed so far. */
  output: () => string;
}

/** Bind a port, start a holder with it, and close our own copy: only the holder keeps it. */
async function startHolder(
  t: { after: (fn: () => void | Promise<void>) => void },
  waitMs: number,
): Promise<Holding> {
  const oldPrimary = sleeper(t);
  const daemon = sleeper(t);
  const from = oldPrimary.pid ?? 0;
  const daemonPid = daemon.pid ?? 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'h.sock');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const fd = dupFd(listeningFd(server));
  await new Promise((resolve) => server.close(resolve));
  const orders: HolderOrders = {
    path: file,
    handoff: { from, listeners: [{ role: 'public', port }], workers: [] },
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
  holder.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  await new Promise<void>((resolve, reject) => {
    holder.once('message', () => resolve());
    holder.once('exit', (code) => reject(new Error(`the holder exited (${code}) before holding`)));
  });
  return { holder, port, file, oldPrimary, daemon, output: () => out };
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

  const got = receiveFds(file, 2000);
  assert.ok(got !== null, 'the holder answered at its path');
  const handoff = parseHandoff(got.text, got.fds.length);
  assert.deepEqual(handoff.listeners, [{ role: 'public', port }]);
  const taker = http.createServer((req, res) => res.end(`taken over: ${req.url}`));
  t.after(() => new Promise((resolve) => taker.close(resolve)));
  assert.equal(await listenOnFd(taker, got.fds[0] ?? -1), port);
  assert.equal(await answer, 'taken over: /waited');

  assert.equal(await exited(holder), 0);
  assert.match(output(), /handed 1 listening sockets to the next balancer/);
  assert.equal(fs.existsSync(file), false, 'the rendezvous is gone with the holder');
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
