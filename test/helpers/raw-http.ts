/**
 * HTTP over a bare TCP socket, for tests that must send what a well-behaved client never would
 * (`/../` unnormalised, garbage request lines, oversize or trickled headers) and see exactly what
 * comes back: status, headers, body bytes, and whether the server closed or reset the connection.
 * Also `request()`, a plain node:http client with no connection reuse, for well-formed requests.
 */
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { waitFor } from './wait.js';
import type { TestContext } from 'node:test';

export interface RawResponse {
  version: string;
  status: number;
  statusText: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface ReadOptions {
  /** The request was HEAD: the response has no body whatever Content-Length says. */
  head?: boolean;
  timeoutMs?: number;
}

/** One client connection; responses are read in order from everything the server sent. */
export class RawConnection {
  readonly socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    socket.on('end', () => this.#finish());
    socket.on('close', () => this.#finish());
    socket.on('error', (err) => {
      this.#error = err;
      this.#finish();
    });
  }

  /**
   * Resolves once the server's process has read everything this connection sent (its side's
   * receive queue is empty, as `ss` shows it): what it will do with the bytes is decided then.
   */
  async readByServer(serverPort: number): Promise<void> {
    const own = this.socket.localPort;
    await waitFor(
      () => {
        const out = execFileSync('ss', [
          '-Htn',
          'state',
          'established',
          `( sport = :${serverPort} and dport = :${own} )`,
        ])
          .toString()
          .trim();
        return out !== '' && out.split(/\s+/)[0] === '0';
      },
      'the server to read what was sent',
      { timeoutMs: 5000 },
    );
  }

  /** A connection the test owns: destroyed after it, whatever happened. */
  static async openFor(t: TestContext, port: number): Promise<RawConnection> {
    const conn = await RawConnection.open(port);
    t.after(() => conn.destroy());
    return conn;
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** True once the server closed (or reset) the connection. */
  get closed(): boolean {
    return this.#ended;
  }

  /** ECONNRESET and the like, if the connection ended in an error. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Bytes received and not yet consumed by readResponse. */
  get pending(): Buffer {
    return this.#buffer;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(data, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Wait for the next complete response (interim 1xx responses count as responses). */
  async readResponse(options: ReadOptions = {}): Promise<RawResponse> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const parsed = parseResponse(this.#buffer, options.head === true, this.#ended);
      if (parsed !== undefined) {
        this.#buffer = this.#buffer.subarray(parsed.consumed);
        return parsed.response;
      }
      if (this.#ended) {
        const why = this.#error === undefined ? 'closed' : `failed (${this.#error.message})`;
        throw new Error(
          `connection ${why} before a complete response; got: ${JSON.stringify(this.#buffer.toString('latin1'))}`,
        );
      }
      await this.#waitForData(deadline, 'a response');
    }
  }

  /** Wait until the server closes the connection; throws after the timeout. */
  async waitForClose(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#ended) await this.#waitForData(deadline, 'the server to close the connection');
  }

  destroy(): void {
    this.socket.destroy();
  }

  #finish(): void {
    this.#ended = true;
    this.#wake?.();
  }

  #waitForData(deadline: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const left = deadline - Date.now();
      if (left <= 0) {
        reject(new Error(`timed out waiting for ${what}`));
        return;
      }
      const timer = setTimeout(() => {
        this.#wake = undefined;
        reject(new Error(`timed out waiting for ${what}`));
      }, left);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

/** Parse one response from the front of `buf`, or undefined if it is not all there yet. */
export function parseResponse(
  buf: Buffer,
  head: boolean,
  ended: boolean,
): { response: RawResponse; consumed: number } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
  if (m === null) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(m[2]);
  const start = end + 4;
  const base = { version: m[1] ?? '', status, statusText: m[3] ?? '', headers };
  if (head || status < 200 || status === 204 || status === 304) {
    return { response: { ...base, body: Buffer.alloc(0) }, consumed: start };
  }
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const chunks: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        const trailerEnd = buf.indexOf('\r\n', lineEnd + 2);
        if (trailerEnd < 0) return undefined;
        return { response: { ...base, body: Buffer.concat(chunks) }, consumed: trailerEnd + 2 };
      }
      if (buf.length < lineEnd + 2 + size + 2) return undefined;
      chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = headers['content-length'];
  if (length !== undefined) {
    const n = Number(length);
    if (buf.length < start + n) return undefined;
    return { response: { ...base, body: Buffer.from(buf.subarray(start, start + n)) }, consumed: start + n };
  }
  // No length: the body runs to the end of the connection.
  if (!ended) return undefined;
  return { response: { ...base, body: Buffer.from(buf.subarray(start)) }, consumed: buf.length };
}

/** Open, send `request` as is, read one response, close. */
export async function rawExchange(
  port: number,
  request: string | Buffer,
  options: ReadOptions = {},
): Promise<RawResponse> {
  const conn = await RawConnection.open(port);
  try {
    await conn.write(request);
    return await conn.readResponse(options);
  } finally {
    conn.destroy();
  }
}

/** A GET (or other method) request line with Host and Connection: close, as raw text. */
export function rawRequest(method: string, target: string, headers: Record<string, string> = {}): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A response of node:http or node:https read to its end: status, headers and every body byte. */
export function wholeResponse(res: http.IncomingMessage): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
    );
    res.on('error', reject);
  });
}

/** A well-formed request through node:http on a fresh connection (no agent, no reuse). */
export function request(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (res) => void wholeResponse(res).then(resolve, reject),
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
