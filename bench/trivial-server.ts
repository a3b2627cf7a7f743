/**
 * The reference server for measuring the load client's own ceiling: plain Node http, keep-alive,
 * no logging, bodies from memory. `GET /bytes/<n>` answers 200 with n bytes (so the ceiling can be
 * measured with the same body size as a scenario); anything else is 404. Run as a child process: it
 * reports its port over IPC (or on stdout when started by hand) and exits when its parent goes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const bodies = new Map<number, Buffer>();
const MAX_BODY = 64 * 1024 * 1024;

function body(n: number): Buffer {
  let b = bodies.get(n);
  if (b === undefined) {
    b = Buffer.alloc(n, 'x');
    bodies.set(n, b);
  }
  return b;
}

const server = http.createServer((req, res) => {
  const match = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
  const n = match === null ? -1 : Number(match[1]);
  if (req.method !== 'GET' || n < 0 || n > MAX_BODY) {
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
    res.end('not found\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
  res.end(body(n));
});

server.listen(0, '127.0.0.1', () => {
  const { port: actual } = server.address() as AddressInfo;
  if (process.send) process.send({ type: 'listening', port: actual });
  else process.stdout.write(`trivial server listening on http://127.0.0.1:${actual}/bytes/13\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', () => process.exit(0));
