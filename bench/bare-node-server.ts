/**
 * The "same bytes, bare node:http" reference for bench/servers-vs-nginx.sh: GET /page.html answers
 * public/page.html, read once at start-up and served from memory; anything else is 404. No logging,
 * routing, file system or validators per request, so what a request costs here is node:http itself.
 *   node dist/bench/bare-node-server.js --port N [--root DIR]   (DIR: public/ by default)
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { port: { type: 'string' }, root: { type: 'string', default: 'public' } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535)
  throw new Error('usage: --port N (1-65535) [--root DIR]');
const page = readFileSync(path.resolve(values.root, 'page.html'));
const headers = { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': page.length };

http
  .createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/page.html') res.writeHead(200, headers).end(page);
    else res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 10 }).end('not found\n');
  })
  .listen(port, '127.0.0.1');
