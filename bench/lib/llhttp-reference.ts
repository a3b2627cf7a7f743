/**
 * llhttp's verdict on a client's bytes, the reference the h1 front's parser is held to: a bare
 * node:http server (default options, strict parser; `requireHostHeader: false` as the balancer's
 * `--front node` has it) on a loopback port, sent the bytes over a real socket, the client
 * half-closing after them. The server records what it parsed rather than answering: each request
 * with its method, target and body, whether it upgraded, and the parse error that ended the
 * connection, if one did.
 */
import http from 'node:http';
import type net from 'node:net';
import { connect } from 'node:net';
import type { ReadRequest } from './front-parse.js';

/** What node:http made of the bytes. */
export interface ReferenceVerdict {
  /** Requests read whole (an upgrade's head counts, its body does not). */
  requests: ReadRequest[];
  /**
   * How it ended: every byte read (`clean`), the bytes ended inside a request (`incomplete`,
   * llhttp's HPE_INVALID_EOF_STATE), or a refusal (llhttp's error code, or node:http refusing an
   * `Expect` it does not know or a CONNECT it has no handler for).
   */
  end: { kind: 'clean' } | { kind: 'incomplete' } | { kind: 'refused'; error: string };
}

interface ConnectionRecord {
  requests: { req: http.IncomingMessage; body: Buffer[]; upgrade: boolean }[];
  error: string | undefined;
}

/** A connection that has not closed after this long is cut (and its verdict says so). */
const CASE_TIMEOUT_MS = 5000;

export class LlhttpReference {
  private readonly server: http.Server;
  /** By the client's port, as the server sees it. */
  private readonly records = new Map<number, ConnectionRecord>();
  private port = 0;

  constructor() {
    const server = http.createServer({ requireHostHeader: false }, (req) => {
      const entry = { req, body: [] as Buffer[], upgrade: false };
      this.recordFor(req.socket).requests.push(entry);
      req.on('data', (c: Buffer) => entry.body.push(c));
      req.on('error', () => undefined);
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
      this.fail(socket, err.code ?? err.message);
    });
    server.on('checkExpectation', (req: http.IncomingMessage) => this.fail(req.socket, 'EXPECTATION'));
    server.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => this.fail(socket, 'CONNECT'));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      this.recordFor(socket).requests.push({ req, body: [], upgrade: true });
      socket.on('error', () => undefined);
      socket.destroy();
    });
    this.server = server;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Send `bytes` on a new connection, half-close, and read the server's record once it closes. */
  async verdict(bytes: Buffer): Promise<ReferenceVerdict> {
    const socket = connect(this.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let timedOut = false;
    let localPort: number | undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timedOut = true;
        socket.destroy();
      }, CASE_TIMEOUT_MS);
      socket.once('connect', () => {
        localPort = socket.localPort;
        socket.end(bytes);
      });
      socket.resume();
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    // The server's last stream events (a body's end) run before it sees its side close.
    await new Promise((resolve) => setImmediate(resolve));
    const record = localPort === undefined ? undefined : this.records.get(localPort);
    if (localPort !== undefined) this.records.delete(localPort);
    if (timedOut) return { requests: [], end: { kind: 'refused', error: 'TIMEOUT' } };
    return toVerdict(record ?? { requests: [], error: undefined });
  }

  private recordFor(socket: net.Socket): ConnectionRecord {
    const port = socket.remotePort ?? 0;
    let record = this.records.get(port);
    if (record === undefined) {
      record = { requests: [], error: undefined };
      this.records.set(port, record);
    }
    return record;
  }

  /** A refusal: recorded (the first one counts), then the connection is cut once events settle. */
  private fail(socket: net.Socket, error: string): void {
    const record = this.recordFor(socket);
    record.error ??= error;
    socket.on('error', () => undefined);
    setImmediate(() => socket.destroy());
  }
}

function toVerdict(record: ConnectionRecord): ReferenceVerdict {
  const requests: ReadRequest[] = [];
  for (const r of record.requests) {
    if (!r.upgrade && !r.req.complete) break;
    requests.push({
      method: r.req.method ?? '',
      target: r.req.url ?? '',
      body: Buffer.concat(r.body).toString('latin1'),
      upgrade: r.upgrade,
    });
  }
  const error = record.error;
  if (error === 'HPE_INVALID_EOF_STATE') return { requests, end: { kind: 'incomplete' } };
  if (error !== undefined) return { requests, end: { kind: 'refused', error } };
  const unfinished = requests.length < record.requests.length;
  return { requests, end: unfinished ? { kind: 'incomplete' } : { kind: 'clean' } };
}
