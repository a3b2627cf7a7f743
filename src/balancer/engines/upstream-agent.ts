/**
 * The balancer's own keep-alive agent to its upstreams. Idle pooled connections are closed before
 * the backends would close them (their keep-alive timeout is 5 s, ours 4 s by default, shorter still
 * if an upstream announces less in `Keep-Alive: timeout=N`), so a request is never written onto a
 * connection the backend is closing at that moment. New connections get a connect timeout, which
 * node:http does not have.
 *
 * Kept lean because node:http copies the agent's options into every request: no option here that
 * only restates a default, and the idle timeout is set on a socket when it goes back to the pool
 * (not through the `timeout` option, which would also arm a listener on every request).
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { UpstreamError } from '../../errors.js';
import { sameName } from '../headers.js';
import type { UpstreamConnections } from './proxy-engine.js';

/** What node:http leaves on a pooled socket: the request it served last, and its response. */
interface PooledSocket extends net.Socket {
  _httpMessage?: { res?: { rawHeaders: string[] } | null } | null;
}

function connectTimedOut(socket: net.Socket, where: string, ms: number): void {
  if (!socket.connecting) return;
  socket.destroy(
    new UpstreamError('ERR_UPSTREAM_CONNECT_TIMEOUT', where, `no connection to ${where} within ${ms}ms`),
  );
}

/**
 * A new connection to the upstream at `where` (host:port) that fails with
 * ERR_UPSTREAM_CONNECT_TIMEOUT if it is not made within `timeoutMs`: net has no connect timeout
 * of its own. This agent's connections and the upgrade handler's are made here.
 */
export function connectWithin(options: net.NetConnectOpts, where: string, timeoutMs: number): net.Socket {
  const socket = net.createConnection(options);
  const timer = setTimeout(connectTimedOut, timeoutMs, socket, where, timeoutMs);
  const clear = (): void => clearTimeout(timer);
  socket.once('connect', clear);
  socket.once('close', clear);
  return socket;
}

/** Backends send the same Keep-Alive value every time: parse it once. */
let lastHintValue = '';
let lastHintMs: number | undefined;

/** The upstream's `Keep-Alive: timeout=N` in ms, read from the raw headers (no header object built). */
export function keepAliveHintMs(rawHeaders: readonly string[]): number | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!sameName(rawHeaders[i] ?? '', 'keep-alive')) continue;
    const value = rawHeaders[i + 1] ?? '';
    if (value !== lastHintValue) {
      const m = /(?:^|[\s,])timeout=(\d+)/i.exec(value);
      lastHintValue = value;
      lastHintMs = m === null ? undefined : Number(m[1]) * 1000;
    }
    return lastHintMs;
  }
  return undefined;
}

/** Leave this much of an upstream's announced keep-alive time unused, as node:http does. */
const HINT_MARGIN_MS = 1000;

/**
 * How long a connection may sit idle after a response with these raw headers: our own idle
 * timeout, shorter if the upstream announces less (`Keep-Alive: timeout=N`, less the margin);
 * undefined when what it announces leaves no time at all (the connection is not reused). Every
 * engine's pool keeps its connections by this.
 */
export function reuseForMs(rawHeaders: readonly string[], idleTimeoutMs: number): number | undefined {
  const hint = keepAliveHintMs(rawHeaders);
  if (hint === undefined) return idleTimeoutMs;
  return hint - HINT_MARGIN_MS <= 0 ? undefined : Math.min(idleTimeoutMs, hint - HINT_MARGIN_MS);
}

export class UpstreamAgent extends http.Agent {
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;

  constructor(options: UpstreamConnections) {
    super({
      keepAlive: true,
      maxSockets: options.maxSockets,
      // Enough idle connections for a burst; the rest close instead of waiting out the timeout.
      maxFreeSockets: Math.min(options.maxSockets, 64),
    });
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.idleTimeoutMs = options.idleTimeoutMs;
  }

  override createConnection(
    options: http.ClientRequestArgs,
    _callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex {
    const where = `${options.host ?? options.hostname ?? ''}:${String(options.port ?? '')}`;
    return connectWithin(options as net.NetConnectOpts, where, this.connectTimeoutMs);
  }

  /**
   * A socket goes back to the pool: node:http's version, except that it reads the upstream's
   * keep-alive hint from the raw headers instead of building the response's header object for it.
   * Returning false closes the socket instead.
   */
  override keepSocketAlive(socket: Duplex): boolean {
    const s = socket as PooledSocket;
    s.setKeepAlive(true, 1000);
    s.unref();
    const raw = s._httpMessage?.res?.rawHeaders;
    const idleMs = raw === undefined ? this.idleTimeoutMs : reuseForMs(raw, this.idleTimeoutMs);
    if (idleMs === undefined) return false;
    if (s.timeout !== idleMs) s.setTimeout(idleMs);
    return true;
  }
}
