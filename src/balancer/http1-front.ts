/**
 * What serves HTTP/1.1 on connections someone else accepted: the TLS listener hands it every
 * connection whose ALPN settled on `http/1.1` (or on nothing), once the handshake is done. node's
 * http.Server does it today (node-http1-front.ts). The balancer's own server (h1-server/) already
 * has these four methods, with these meanings, so it can take the TLS listener's connections
 * without the listener changing.
 */
import type { Socket } from 'node:net';

export interface Http1Front {
  /**
   * Serve HTTP/1.1 on `socket` (a TLSSocket, or a plain one) from now on: requests, upgrades,
   * keep-alive, the headers and request timeouts. The caller has counted it, and cuts it at the
   * end of a drain whatever the front does.
   */
  accept(socket: Socket): void;
  /** Close the connections waiting for their next request; requests in progress finish. */
  closeIdleConnections(): void;
  /** Cut every connection it serves (the end of a drain), and stop its timers. */
  closeAllConnections(): void;
  /** Draining: idle connections close now, the others as their responses end. */
  close(): unknown;
}
