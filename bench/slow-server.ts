/**
 * The slow upstream of the policies benchmark (bench/policies-vs-haproxy.sh): it serves the same
 * /page.html bytes as the backends, `--delay-ms` later, through `--concurrency` slots (a request
 * holds a slot for the delay; more wait their turn, first come first served). A pure delay with no
 * cap would never queue, so round robin's tail would be the delay itself whatever the rate; the cap
 * is the worker or connection pool a real slow server has, and gives it a capacity
 * (concurrency / delay: 2 / 20 ms = 100 requests a second) that round robin can exceed.
 *
 * GET /healthz answers at once, outside the slots, so a balancer's health checker never takes the
 * slow upstream out of the pool (HAProxy and nginx here do not check health): the comparison is
 * between selection policies, not health checks. A request whose connection closes while it waits
 * leaves the queue. Listens on 127.0.0.1 only; prints its port; stops on SIGTERM or SIGINT.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfigOrExit } from '../src/config/load.js';
import { SlotGate } from './lib/slot-gate.js';
import { slowServerSpecs } from './lib/slow-server-config.js';

const options = loadConfigOrExit('slow-server: the page after a delay, a few at a time', slowServerSpecs);
const page = readFileSync(options.file);
const gate = new SlotGate(options.concurrency);
const pageHeaders = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Length': String(page.length),
  'Cache-Control': 'no-cache',
  'X-Served-By': options.name,
};

function plain(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'X-Served-By': options.name,
  });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'GET only\n');
  if (path === '/healthz') return plain(res, 200, `{"status":"ok","name":"${options.name}"}\n`);
  if (path !== '/page.html') return plain(res, 404, 'not found\n');
  let started = false;
  const cancel = gate.enter(() => {
    started = true;
    setTimeout(() => {
      gate.leave();
      if (res.destroyed) return;
      res.writeHead(200, pageHeaders);
      res.end(req.method === 'HEAD' ? undefined : page);
    }, options.delayMs);
  });
  // 'close' also fires after a normal end; only a request still waiting is taken out.
  res.on('close', () => {
    if (!started) cancel();
  });
});
// Longer than the balancer's idle upstream timeout (4 s), as the backends' 5 s is.
server.keepAliveTimeout = 5000;

server.listen(options.port, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(
    `slow server ${options.name} on http://127.0.0.1:${port}/page.html: +${options.delayMs} ms, ${options.concurrency} at a time\n`,
  );
});

const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
