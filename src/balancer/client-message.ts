import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * The client's request as the request path reads it: node:http's IncomingMessage, or an HTTP/2
 * stream given the same fields, its pseudo-headers already turned into HTTP/1.1 headers
 * (h2-exchange.ts).
 */
export type ClientMessage = Readable &
  Pick<
    IncomingMessage,
    | 'method'
    | 'url'
    | 'rawHeaders'
    | 'headers'
    | 'socket'
    | 'complete'
    | 'httpVersionMajor'
    | 'httpVersionMinor'
  >;
