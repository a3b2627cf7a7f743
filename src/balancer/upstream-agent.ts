/**
 * The balancer's own keep-alive agent to its upstreams. Idle pooled connections are closed before
 * the backends would close them (their keep-alive timeout is 5 s, ours 4 s by default), so a request
 * is never written onto a connection the backend is closing at that moment. New connections get a
 * connect timeout, which node:http does not have.
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { UpstreamError } from '../errors.js';

export interface UpstreamAgentOptions {
  maxSockets: number;
  /** Idle pooled connections are closed after this. */
  idleTimeoutMs: number;
  connectTimeoutMs: number;
}

function connectTimedOut(socket: net.Socket, where: string, ms: number): void {
  if (!socket.connecting) return;
  socket.destroy(
    new UpstreamError('ERR_UPSTREAM_CONNECT_TIMEOUT', where, `no connection to ${where} within ${ms}ms`, {
      retryable: true,
    }),
  );
}

export class UpstreamAgent extends http.Agent {
  private readonly connectTimeoutMs: number;

  constructor(options: UpstreamAgentOptions) {
    super({
      keepAlive: true,
      keepAliveMsecs: 1000,
      maxSockets: options.maxSockets,
      // Enough idle connections for a burst; the rest close instead of waiting out the timeout.
      maxFreeSockets: Math.min(options.maxSockets, 64),
      // Socket timeout while pooled: the agent destroys idle sockets that reach it.
      timeout: options.idleTimeoutMs,
      // Reuse the most recent connection, so the others idle out (the default, said out loud).
      scheduling: 'lifo',
      noDelay: true,
    });
    this.connectTimeoutMs = options.connectTimeoutMs;
  }

  override createConnection(
    options: http.ClientRequestArgs,
    _callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex {
    const socket = net.createConnection(options as net.NetConnectOpts);
    const where = `${options.host ?? options.hostname ?? ''}:${String(options.port ?? '')}`;
    const timer = setTimeout(connectTimedOut, this.connectTimeoutMs, socket, where, this.connectTimeoutMs);
    const clear = (): void => clearTimeout(timer);
    socket.once('connect', clear);
    socket.once('close', clear);
    return socket;
  }
}
