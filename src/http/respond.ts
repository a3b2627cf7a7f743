/**
 * The response writer both servers share: turn a CoreResponse into bytes on a node:http response.
 * Small bodies go out in one write with the headers; large files are streamed from disk with
 * backpressure and never more than the Content-Length already promised.
 */
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { CoreResponse } from './core.js';

/**
 * Write the response; returns the number of body bytes it will send. `close` adds
 * `Connection: close` (while shutting down, or when a request body was left unread).
 * `onStreamError` hears about a file that failed or shrank mid-stream; its socket is destroyed,
 * because the client was promised more bytes than it can now get. It is one function for the
 * whole server (the response tells it which request failed), so no closure is made per request.
 */
export function writeResponse(
  res: ServerResponse,
  response: CoreResponse,
  close: boolean,
  onStreamError: (err: Error, res: ServerResponse) => void,
): number {
  if (close) res.setHeader('Connection', 'close');
  // node:http only reads the list (its types ask for a mutable array).
  if (response.headerList !== undefined) res.writeHead(response.status, response.headerList as string[]);
  else res.writeHead(response.status, response.headers);
  const { body, file } = response;
  if (body !== undefined) {
    res.end(body);
    return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  }
  if (file === undefined || file.size === 0) {
    res.end();
    return 0;
  }
  streamFile(res, file, onStreamError);
  return file.size;
}

function streamFile(
  res: ServerResponse,
  file: { path: string; size: number },
  onError: (err: Error, res: ServerResponse) => void,
): void {
  const stream = fs.createReadStream(file.path, { start: 0, end: file.size - 1, highWaterMark: 64 * 1024 });
  const fail = (err: Error): void => {
    onError(err, res);
    res.destroy();
  };
  stream.on('error', fail);
  stream.on('end', () => {
    if (stream.bytesRead === file.size) res.end();
    else fail(new Error(`${file.path} shrank while being sent (${stream.bytesRead} of ${file.size} bytes)`));
  });
  // A client that hangs up must not leave the file open.
  res.on('close', () => stream.destroy());
  stream.pipe(res, { end: false });
}
