import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStream } from '../../src/dashboard/event-stream.js';
import { waitFor } from '../helpers/wait.js';

/** An HTTP server whose every request becomes an event stream, and a reader of its frames. */
async function serve(stream: EventStream): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => stream.open(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        stream.close();
        server.close(() => resolve());
      }),
  };
}

function read(port: number): { frames: unknown[]; headers: Promise<http.IncomingHttpHeaders>; stop(): void } {
  const frames: unknown[] = [];
  let buffer = '';
  const req = http.get({ host: '127.0.0.1', port, path: '/' });
  const headers = new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      resolve(res.headers);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of event.split('\n')) {
            if (line.startsWith('data: ')) frames.push(JSON.parse(line.slice(6)));
          }
        }
      });
    });
  });
  return { frames, headers, stop: () => req.destroy() };
}

void test('a client gets the current frame at once and a pushed frame without waiting for the tick', async (t) => {
  let n = 0;
  // A tick far longer than the test: every frame seen here came from open() or pushSoon().
  const stream = new EventStream({ frame: () => ({ n: ++n }), intervalMs: 3_600_000 });
  const server = await serve(stream);
  t.after(() => server.close());
  const client = read(server.port);
  t.after(() => client.stop());

  const headers = await client.headers;
  assert.match(String(headers['content-type']), /^text\/event-stream/);
  await waitFor(() => client.frames.length === 1, 'the first frame');
  assert.deepEqual(client.frames[0], { n: 1 });

  stream.pushSoon();
  stream.pushSoon(); // coalesced with the one before
  await waitFor(() => client.frames.length === 2, 'the pushed frame');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(client.frames, [{ n: 1 }, { n: 2 }]);
});

void test('frames are serialized once for all clients and stop when the last client leaves', async (t) => {
  let built = 0;
  const stream = new EventStream({ frame: () => ({ built: ++built }), intervalMs: 20 });
  const server = await serve(stream);
  t.after(() => server.close());
  const a = read(server.port);
  const b = read(server.port);
  await waitFor(() => stream.size === 2 && a.frames.length >= 3 && b.frames.length >= 3, 'ticks to both');
  const shared = a.frames.filter((f) => b.frames.some((g) => JSON.stringify(g) === JSON.stringify(f)));
  assert.ok(shared.length >= 2, 'both clients got the same frames');

  a.stop();
  b.stop();
  assert.equal(stream.ticking, true);
  await waitFor(() => stream.size === 0, 'both clients to be gone');
  assert.equal(stream.ticking, false, 'no frame is built while nobody watches');
});

void test('a frame that fails to build is reported and the stream carries on', async (t) => {
  const errors: unknown[] = [];
  let fail = true;
  const stream = new EventStream({
    frame: () => {
      if (fail) throw new Error('status unavailable');
      return { ok: true };
    },
    intervalMs: 3_600_000,
    onError: (err) => errors.push(err),
  });
  const server = await serve(stream);
  t.after(() => server.close());
  const client = read(server.port);
  t.after(() => client.stop());
  await client.headers;
  await waitFor(() => errors.length === 1, 'the error to be reported');
  fail = false;
  stream.pushSoon();
  await waitFor(() => client.frames.length === 1, 'the next frame');
  assert.deepEqual(client.frames, [{ ok: true }]);
});

void test('close() ends every stream so the server can close', async () => {
  const stream = new EventStream({ frame: () => ({}), intervalMs: 3_600_000 });
  const server = await serve(stream);
  const client = read(server.port);
  await waitFor(() => stream.size === 1, 'the client');
  await server.close(); // would hang if a stream stayed open
  assert.equal(stream.size, 0);
  client.stop();
});
