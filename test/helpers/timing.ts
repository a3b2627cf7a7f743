/**
 * Timeouts measured from the outside: when the server cut a connection, and whether that was within
 * a second of the value it documents. The upper bound allows a quarter second of scheduling on a
 * busy shared machine on top of the second the project promises.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { TestContext } from 'node:test';

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
