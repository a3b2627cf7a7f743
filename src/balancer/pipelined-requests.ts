/**
 * HTTP/1.1 pipelining: one request of a client connection at a time. node:http's server hands
 * over a request read behind one not answered yet at once, with its response queued (no socket
 * until the earlier responses have finished). Forwarded at once, it could reach its upstream
 * before the request ahead of it: a GET sent after a chunked POST went out while the POST's body
 * was still being read. Such a request waits for its turn instead, which node gives when the
 * response ahead of it has finished (nginx and HAProxy also take a connection's requests one at a
 * time), so upstreams see a connection's requests in the order it sent them, and its answers go
 * back in that order.
 */
import type { Http1Exchange } from './exchange.js';

/** A pipelined request waits behind the response in progress on its connection. */
export function waitsForTurn(res: Http1Exchange): boolean {
  return res.socket === null;
}

/**
 * Call `go` when `res` gets its connection, or `gone` if the client leaves first: node never
 * closes a queued response, but it destroys the queued request when the connection goes.
 */
export function whenItsTurn(res: Http1Exchange, go: () => void, gone: () => void): void {
  const req = res.req;
  const onGone = (): void => {
    res.off('socket', onTurn);
    gone();
  };
  const onTurn = (): void => {
    req.off('close', onGone);
    go();
  };
  res.once('socket', onTurn);
  req.once('close', onGone);
}
