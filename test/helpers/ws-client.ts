/**
 * A real WebSocket client (the `ws` package) for the tunnel tests: open a connection to the file
 * servers' /ws/echo (directly or through the balancer), read who answered, send and await echoes,
 * and see how the connection ended. Every socket opened here is closed by the test (t.after).
 */
import type { TestContext } from 'node:test';
import WebSocket, { type ClientOptions } from 'ws';
import type { WsHello } from '../../src/http/ws-echo.js';

export interface EchoClient {
  ws: WebSocket;
  hello: WsHello;
  /** Send `message` and resolve with the next message. */
  echo(text: string): Promise<string>;
  /** Resolves with the close code once the connection has ended. */
  closed: Promise<number>;
}

/** Open a WebSocket to `url` and wait for the server's hello; rejects on any other outcome. */
export async function openEcho(
  t: TestContext,
  url: string,
  options: ClientOptions = {},
): Promise<EchoClient> {
  const ws = new WebSocket(url, { handshakeTimeout: 5000, ...options });
  t.after(() => ws.terminate());
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('error', () => {
    // Reported through 'close' (or the open promise below); nothing to throw here.
  });
  const hello = await new Promise<WsHello>((resolve, reject) => {
    ws.once('message', (data: WebSocket.RawData) => resolve(JSON.parse(text(data)) as WsHello));
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`HTTP ${res.statusCode ?? '?'} instead of 101`)),
    );
    ws.once('close', (code) => reject(new Error(`closed (${code}) before the hello`)));
  });
  return {
    ws,
    hello,
    closed,
    echo(message) {
      return new Promise<string>((resolve, reject) => {
        ws.once('message', (data: WebSocket.RawData) => resolve(text(data)));
        ws.once('close', (code) => reject(new Error(`closed (${code}) before the echo`)));
        ws.send(message);
      });
    },
  };
}

/** The HTTP status an upgrade to `url` gets instead of 101 (rejects if it is accepted). */
export function refusedStatus(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: 5000 });
    ws.on('error', (err) => reject(err));
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        ws.terminate();
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
  });
}

/** A message as text, however ws delivered it (one Buffer, fragments, or an ArrayBuffer). */
function text(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}
