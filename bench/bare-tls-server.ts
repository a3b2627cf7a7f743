/**
 * The floor for bench/tls-vs-nginx.sh: what node itself costs per request over TLS, and without
 * it, answering /page.html from memory (read once at start-up; anything else is 404). No proxying,
 * no logging, no routing: the difference to the balancer is the balancer's own work, and the
 * difference between the TLS and the plain modes is what TLS costs node.
 *
 *   node dist/bench/bare-tls-server.js --mode tls --port N --cert FILE --key FILE
 *       a tls.Server: ALPN h2 goes to node's HTTP/2 core stream API, http/1.1 (or none) to
 *       node:http, handed over the way the balancer's TLS listener hands them (tls-listener.ts)
 *   node dist/bench/bare-tls-server.js --mode h1 --port N     plain node:http
 *   node dist/bench/bare-tls-server.js --mode h2c --port N    plain HTTP/2 (prior knowledge)
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2, { type ServerHttp2Stream } from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http2';
import path from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'tls' },
    port: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    root: { type: 'string', default: 'public' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('usage: --port N (1-65535)');
const page = readFileSync(path.resolve(values.root, 'page.html'));
const h1Headers = { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': page.length };
const h2Head = { ':status': 200, 'content-type': 'text/html; charset=utf-8', 'content-length': page.length };
const notFound = { ':status': 404, 'content-type': 'text/plain', 'content-length': 10 };

function h1(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method === 'GET' && req.url === '/page.html') res.writeHead(200, h1Headers).end(page);
  else res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 10 }).end('not found\n');
}

function h2(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  stream.on('error', () => undefined);
  if (headers[':method'] === 'GET' && headers[':path'] === '/page.html') {
    stream.respond(h2Head);
    stream.end(page);
  } else {
    stream.respond(notFound);
    stream.end('not found\n');
  }
}

if (values.mode === 'h1') {
  http.createServer(h1).listen(port, '127.0.0.1');
} else if (values.mode === 'h2c') {
  http2.createServer().on('stream', h2).listen(port, '127.0.0.1');
} else if (values.mode === 'tls') {
  if (values.cert === undefined || values.key === undefined)
    throw new Error('--mode tls needs --cert and --key');
  const http1 = http.createServer(h1);
  const sessions = http2.createServer().on('stream', h2);
  tls
    .createServer({
      cert: readFileSync(values.cert),
      key: readFileSync(values.key),
      ALPNProtocols: ['h2', 'http/1.1'],
      noDelay: true,
    })
    .on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol === 'h2') sessions.emit('connection', socket);
      else http1.emit('connection', socket);
    })
    .listen(port, '127.0.0.1');
} else {
  throw new Error(`--mode ${values.mode}: tls, h1 or h2c`);
}
