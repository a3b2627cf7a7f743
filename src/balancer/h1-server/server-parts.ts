/**
 * What a connection of the balancer's own HTTP/1.1 server needs from the server and the request
 * path: its limits and timeouts, where requests and upgrades go, and the few answers the request
 * path gives for the client's own faults (so they are accounted for like any other answer).
 */
import type { Socket } from 'node:net';
import type { PlainHeaders } from '../../http/plain-answer.js';
import type { ClientMessage } from '../client-message.js';
import type { Exchange } from '../exchange.js';
import type { HeadLimits, HeadRefusal } from './request-head.js';
import type { ResponseHeadBuilder } from './response-head.js';
import type { InboundConnection } from './inbound-connection.js';

export interface ServerParts {
  readonly limits: HeadLimits;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** `timeout=N`, from keepAliveTimeoutMs. */
  readonly keepAliveValue: string;
  /** X-Served-By of the server's own raw answers. */
  readonly name: string;
  /** More headers of those answers (the front's Via). */
  readonly extraHeaders: PlainHeaders;
  readonly heads: ResponseHeadBuilder;
  /** The server is draining: answers close their connection. */
  draining(): boolean;
  onRequest(req: ClientMessage, res: Exchange): void;
  onUpgrade(req: ClientMessage, socket: Socket, head: Buffer): void;
  /** The body did not arrive within the request timeout: the request path's 408. */
  requestTimedOut(res: Exchange): void;
  /** The body cannot be read (a malformed chunk): the request path's 400 or 413. */
  badBody(res: Exchange, refusal: HeadRefusal): void;
  /** A head refused: the log line (the connection writes the answer). */
  refused(socket: Socket, status: number, reason: string): void;
  /** A connection closed because it sent nothing in time. */
  closedSilent(socket: Socket): void;
  /** The connection is gone (closed, or handed to the upgrade handler). */
  forget(conn: InboundConnection): void;
}
