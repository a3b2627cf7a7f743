import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { balancerOn, REQUEST_PATHS, startBackends, startHttpServer } from '../helpers/balancer-fleet.js';
import { wholeResponse } from '../helpers/raw-http.js';

/** What the echo upstream saw of a request body. */
interface Echo {
  length: number;
  sha256: string;
  transferEncoding: string | null;
  contentLength: string | null;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic bytes, different in every position of a chunk, so a reordering would show. */
function pattern(bytes: number, seed: number): Buffer {
  const buf = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) buf[i] = (i * 31 + seed) & 0xff;
  return buf;
}

/** Send `chunks` as a request body through the balancer; chunked unless `length` is given. */
function upload(port: number, chunks: Buffer[], length?: number): Promise<Echo> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> =
      length === undefined ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(length) };
    const req = http.request(
      { host: '127.0.0.1', port, path: '/upload', method: 'PUT', headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          try {
            assert.equal(res.statusCode, 200, text);
            resolve(JSON.parse(text) as Echo);
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.on('error', reject);
    // Written with pauses, so the body arrives at the balancer in pieces, as a real upload does.
    const next = (i: number): void => {
      if (i === chunks.length) {
        req.end();
        return;
      }
      req.write(chunks[i]);
      setTimeout(() => next(i + 1), 2);
    };
    next(0);
  });
}

for (const engine of REQUEST_PATHS) {
  const startBalancer = balancerOn(engine);

  void test(`${engine}: request bodies larger than the retry buffer reach the upstream whole, chunked or not`, async (t) => {
    const echo = await startHttpServer(t, (req, res) => {
      if (req.url === '/healthz') {
        res.end('ok');
        return;
      }
      const hash = createHash('sha256');
      let length = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        length += c.length;
      });
      req.on('end', () => {
        const seen: Echo = {
          length,
          sha256: hash.digest('hex'),
          transferEncoding: req.headers['transfer-encoding'] ?? null,
          contentLength: req.headers['content-length'] ?? null,
        };
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(seen));
      });
    });
    const lb = await startBalancer(t, [echo.port]);
    // 10 x 30 KB: past the 64 KB the balancer keeps for a retry, so the rest is streamed on.
    const chunks = Array.from({ length: 10 }, (_, i) => pattern(30_000, i));
    const body = Buffer.concat(chunks);

    const chunked = await upload(lb.port, chunks);
    assert.deepEqual(chunked, {
      length: body.length,
      sha256: sha256(body),
      transferEncoding: 'chunked',
      contentLength: null,
    });

    const sized = await upload(lb.port, chunks, body.length);
    assert.deepEqual(sized, {
      length: body.length,
      sha256: sha256(body),
      transferEncoding: null,
      contentLength: String(body.length),
    });
  });

  void test(`${engine}: a 16 MB response reaches a client that stops reading for a while, whole and in order`, async (t) => {
    const piece = pattern(64 * 1024, 7);
    const pieces = 256;
    const big = await startHttpServer(t, (req, res) => {
      if (req.url === '/healthz') {
        res.end('ok');
        return;
      }
      res.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': piece.length * pieces,
      });
      let sent = 0;
      // The upstream honours backpressure too, so what piles up anywhere is what the balancer holds.
      const pump = (): void => {
        while (sent < pieces) {
          sent++;
          if (!res.write(piece)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const lb = await startBalancer(t, [big.port]);
    const expected = createHash('sha256');
    for (let i = 0; i < pieces; i++) expected.update(piece);

    const got = await new Promise<{ length: number; sha256: string }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: lb.port, path: '/big', agent: false }, (res) => {
          const hash = createHash('sha256');
          let length = 0;
          res.pause();
          // Half a second without reading: the client's socket and the balancer fill up.
          setTimeout(() => res.resume(), 500);
          res.on('data', (c: Buffer) => {
            hash.update(c);
            length += c.length;
          });
          res.on('end', () => resolve({ length, sha256: hash.digest('hex') }));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    assert.deepEqual(got, { length: piece.length * pieces, sha256: expected.digest('hex') });
    const status = await lb.status();
    assert.equal(status.upstreams[0]?.failures, 0);
  });

  void test(`${engine}: HEAD and 304 answers carry no body, and the keep-alive connection stays in step`, async (t) => {
    const backends = await startBackends(t, 1);
    const lb = await startBalancer(
      t,
      backends.map((b) => b.port),
    );
    const page = readFileSync(new URL('../../public/page.html', import.meta.url));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const get = (method: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; reused: boolean }>(
        (resolve, reject) => {
          const req = http.request(
            { host: '127.0.0.1', port: lb.port, path: '/page.html', method, headers, agent },
            (res) =>
              void wholeResponse(res).then(
                (whole) => resolve({ ...whole, reused: req.reusedSocket }),
                reject,
              ),
          );
          req.on('error', reject);
          req.end();
        },
      );

    const head = await get('HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(page.length));
    assert.equal(head.body.length, 0);

    const etag = head.headers.etag;
    assert.ok(etag !== undefined, 'the backend sends an ETag');
    const notModified = await get('GET', { 'If-None-Match': etag });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
    assert.equal(notModified.reused, true);

    const full = await get('GET');
    assert.equal(full.status, 200);
    assert.deepEqual(full.body, page);
    assert.equal(full.reused, true, 'the same client connection carried all three');
  });
  void test(`${engine}: six large responses at once, every byte distinct, reach fast and stalling clients intact`, async (t) => {
    // Bytes that differ per response and per position: a read buffer reused while a client's write
    // still held it would show up as another response's bytes.
    const body = (seed: number, size: number): Buffer => {
      const buf = Buffer.alloc(size);
      let x = seed * 2654435761;
      for (let i = 0; i < size; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        buf[i] = x >>> 24;
      }
      return buf;
    };
    const upstream = await startHttpServer(t, (req, res) => {
      if (req.url === '/healthz') {
        res.end('ok');
        return;
      }
      const url = new URL(req.url ?? '/', 'http://x');
      const data = body(Number(url.searchParams.get('seed')), Number(url.searchParams.get('size')));
      // Half of them chunked (no Content-Length): the parser cuts chunk data out of each read.
      if (url.searchParams.get('chunked') === '1') res.writeHead(200);
      else res.writeHead(200, { 'Content-Length': data.length });
      // Small pieces, one per turn of the event loop: the balancer reads them one by one, each
      // below the client's write high-water mark, so writes queue without backpressure stopping it.
      let at = 0;
      const pump = (): void => {
        if (at >= data.length) {
          res.end();
          return;
        }
        const piece = data.subarray(at, at + 4_000 + ((at * 7) % 8_000));
        at += piece.length;
        if (res.write(piece)) setImmediate(pump);
        else res.once('drain', pump);
      };
      pump();
    });
    const lb = await startBalancer(t, [upstream.port]);
    const fetchOne = (seed: number): Promise<boolean> => {
      // The stalling ones get several megabytes: what the client has not read queues in the balancer.
      const size = seed % 2 === 1 ? 16_000_000 + seed * 12_345 : 1_000_000 + seed * 123_457;
      const expected = sha256(body(seed, size));
      return new Promise((resolve, reject) => {
        const path = `/blob?seed=${seed}&size=${size}&chunked=${seed % 2}`;
        http
          .get({ host: '127.0.0.1', port: lb.port, path }, (res) => {
            const hash = createHash('sha256');
            let length = 0;
            // The odd ones do not read for a while: their socket fills, and the balancer's writes
            // to them queue up while it goes on reading the upstream.
            if (seed % 2 === 1) {
              res.pause();
              setTimeout(() => res.resume(), 1000);
            }
            res.on('data', (c: Buffer) => {
              hash.update(c);
              length += c.length;
            });
            res.on('end', () => {
              assert.equal(length, size, `response ${seed}: ${length} of ${size} bytes`);
              resolve(hash.digest('hex') === expected);
            });
            res.on('error', reject);
          })
          .on('error', reject);
      });
    };
    const intact = await Promise.all([0, 1, 2, 3, 4, 5].map(fetchOne));
    assert.deepEqual(intact, [true, true, true, true, true, true]);
  });
}
