/**
 * Timeouts measured from the outside: when the server cut a connection, and whether that was within
 * a second of the value it documents. The upper bound allows a quarter second of scheduling on a
 * busy shared machine on top of the second the project promises.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TestContext } from 'node:test';
import { RawConnection } from './raw-http.js';

export const SLACK_MS = 250;

/** `elapsedMs` is at least `timeoutMs` (less a little clock skew) and at most a second more. */
export function assertWithinASecond(what: string, elapsedMs: number, timeoutMs: number): void {
  assert.ok(
    elapsedMs >= timeoutMs - 100 && elapsedMs <= timeoutMs + 1000 + SLACK_MS,
    `${what}: after ${elapsedMs}ms, documented ${timeoutMs}ms (allowed ${timeoutMs - 100}..${timeoutMs + 1000 + SLACK_MS})`,
  );
}

/** Resolves with ms from `since` to the moment the server ended or reset `socket`. */
export function closedAfter(socket: net.Socket, since: number): Promise<number> {
  return new Promise((resolve) => {
    const done = (): void => resolve(Date.now() - since);
    socket.once('close', done);
    socket.once('end', done);
    socket.on('error', () => undefined);
    // Read (and drop) what the server sends, or its FIN waits unread and 'end' never comes.
    socket.resume();
  });
}

/**
 * `count` slowloris sockets: a request line and then one header byte every 300 ms, never the
 * blank line. Resolves with when each was cut, measured from its connect.
 */
export async function slowloris(t: TestContext, port: number, count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  const started = Date.now();
  const cuts = sockets.map((s) => closedAfter(s, started));
  for (const s of sockets) s.write('GET /page.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  const drip = setInterval(() => {
    for (const s of sockets) if (s.writable) s.write('a');
  }, 300);
  t.after(() => clearInterval(drip));
  const times = await Promise.all(cuts);
  clearInterval(drip);
  return times;
}

/** `count` sockets that connect and never send a byte; when each was cut. */
export async function silentSockets(t: TestContext, port: number, count: number): Promise<number[]> {
  const started = Date.now();
  const sockets = Array.from({ length: count }, () => net.connect({ port, host: '127.0.0.1' }));
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  return Promise.all(sockets.map((s) => closedAfter(s, started)));
}

/** One connection that never sent a byte, timed on the monotonic clock (performance.now()). */
export interface SilentConnection {
  /** Just before connect() was called: the server cannot have accepted it earlier. */
  asked: number;
  /** When the client saw the connection established (its own event loop may see it late). */
  connected: number;
  /** When the server's FIN or reset arrived. */
  closed: number;
  /** Bytes the server sent before closing. */
  bytes: number;
}

/**
 * `count` connections opened at once that never send a byte; resolves once the server closed
 * every one, or rejects after `waitMs`. Sockets are destroyed after the test whatever happens.
 */
export async function silentConnections(
  t: TestContext,
  port: number,
  count: number,
  waitMs: number,
): Promise<SilentConnection[]> {
  const sockets: net.Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  const each = Array.from({ length: count }, () => {
    const timing: SilentConnection = { asked: performance.now(), connected: NaN, closed: NaN, bytes: 0 };
    const socket = net.connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    socket.once('connect', () => (timing.connected = performance.now()));
    socket.on('data', (chunk: Buffer) => (timing.bytes += chunk.length));
    socket.on('error', () => undefined);
    return new Promise<SilentConnection>((resolve) => {
      const done = (): void => {
        if (Number.isNaN(timing.closed)) timing.closed = performance.now();
        resolve(timing);
      };
      socket.once('end', done);
      socket.once('close', done);
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not every connection was closed within ${waitMs}ms`)), waitMs);
  });
  try {
    return await Promise.race([Promise.all(each), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The client timeouts every HTTP listener of the project documents, checked the same way on each:
 * 20 slowloris and 20 silent sockets are all cut within a second of `headersTimeoutMs`.
 */
export async function assertHeadersTimeout(
  t: TestContext,
  port: number,
  headersTimeoutMs: number,
): Promise<void> {
  const [dripping, silent] = await Promise.all([slowloris(t, port, 20), silentSockets(t, port, 20)]);
  for (const ms of dripping) assertWithinASecond('a slowloris socket', ms, headersTimeoutMs);
  for (const ms of silent) assertWithinASecond('a silent socket', ms, headersTimeoutMs);
}

/** A POST whose body stops short gets a 408 within a second of `requestTimeoutMs`. */
export async function assertRequestTimeout(
  t: TestContext,
  port: number,
  requestTimeoutMs: number,
): Promise<void> {
  const conn = await RawConnection.openFor(t, port);
  const started = Date.now();
  await conn.write('POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\npart of it');
  const res = await conn.readResponse({ timeoutMs: 8000 });
  assert.equal(res.status, 408);
  assertWithinASecond('the 408', Date.now() - started, requestTimeoutMs);
}

/** After a 200 to `head` (a keep-alive request), the idle connection is closed within a second of `keepAliveMs`. */
export async function assertKeepAliveTimeout(
  t: TestContext,
  port: number,
  head: string,
  keepAliveMs: number,
): Promise<void> {
  const conn = await RawConnection.openFor(t, port);
  await conn.write(head);
  assert.equal((await conn.readResponse()).status, 200);
  const idleSince = Date.now();
  await conn.waitForClose(6000);
  assertWithinASecond('the idle connection', Date.now() - idleSince, keepAliveMs);
}
