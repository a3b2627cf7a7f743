/**
 * The file servers' WebSocket endpoint, `GET /ws/echo` with `Upgrade: websocket` (on the `ws`
 * package): the first message names the process that answered, every message after that is sent
 * back as it came. It lets a person, the demo and the tests see where a balancer's tunnels land.
 *
 * Upgrades to any other path, or to another protocol, get a 404 or 400 and the socket closes. A
 * server that drains closes its WebSockets with 1001 (going away), so clients reconnect elsewhere.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../logger.js';
import { rawErrorResponse } from './client-error.js';
import type { UpgradedConnections } from './graceful-shutdown.js';

export const WS_ECHO_PATH = '/ws/echo';

/** The first message on every connection: who answered. */
export interface WsHello {
  hello: string;
  pid: number;
}

/** Draining closes each WebSocket with 1001; past the grace period they are cut. */
export interface WsEcho extends UpgradedConnections {
  /** Open WebSockets now. */
  readonly open: number;
}

export function attachWsEcho(server: Server, name: string, logger: Logger): WsEcho {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const hello = JSON.stringify({ hello: name, pid: process.pid } satisfies WsHello);

  wss.on('connection', (ws: WebSocket) => {
    ws.send(hello);
    ws.on('message', (data: RawData, isBinary: boolean) => ws.send(data, { binary: isBinary }));
    // A client that vanishes mid-frame is an ordinary end of a WebSocket, not a server problem.
    ws.on('error', () => ws.terminate());
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    const protocol = (req.headers.upgrade ?? '').toLowerCase();
    if (path !== WS_ECHO_PATH || protocol !== 'websocket') {
      const answer =
        path !== WS_ECHO_PATH
          ? { status: 404, reason: `no WebSocket endpoint at ${path ?? ''} (try ${WS_ECHO_PATH})` }
          : { status: 400, reason: `upgrade to "${protocol}" is not offered (only websocket)` };
      logger.warn(`refused upgrade ${req.method ?? '?'} ${req.url ?? ''}: ${answer.reason}`, {
        event: 'upgrade-refused',
        status: answer.status,
      });
      socket.end(rawErrorResponse(answer, name));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  return {
    get open() {
      return wss.clients.size;
    },
    drain() {
      for (const ws of wss.clients) ws.close(1001, `${name} is shutting down`);
    },
    closeAll() {
      for (const ws of wss.clients) ws.terminate();
    },
  };
}
