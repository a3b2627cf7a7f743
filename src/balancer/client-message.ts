import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * The client's request as the request path reads it: node:http's IncomingMessage, or node:http2's
 * request with its pseudo-headers already turned into HTTP/1.1 ones (h2-exchange.ts).
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
