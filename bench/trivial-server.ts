/**
 * The reference server for measuring the load client's own ceiling: as close to free as an HTTP
 * server gets, so what limits a run against it is the client. Raw sockets, canned answers from
 * memory, no HTTP parser: on this project's two-core machine a plain node:http server tops out
 * around wrk's own figure against it (both then measure the server), while this one lets wrk reach
 * about twice that, which leaves the client's limit visible.
 *
 * `GET /bytes/<n>` answers 200 with n bytes (so the ceiling can be measured with a scenario's body
 * size); anything else is 404. Keep-alive unless the request says `Connection: close`; HTTP/1.0
 * requests are answered and closed. Requests without bodies only (GET). Run as a child process: it
 * reports its port over IPC (or prints it when started by hand) and exits when its parent goes.
 */
import net from 'node:net';

const MAX_BODY = 64 * 1024 * 1024;
const MAX_PENDING = 64 * 1024;
const NOT_FOUND = Buffer.from(
  'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nnot found\n',
);
const answers = new Map<number, Buffer>();

function answer(n: number): Buffer {
  let b = answers.get(n);
  if (b === undefined) {
    const head = `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${n}\r\n\r\n`;
    b = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.alloc(n, 'x')]);
    answers.set(n, b);
  }
  return b;
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    let end: number;
    while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
      const head = pending.slice(0, end);
      pending = pending.slice(end + 4);
      const match = /^GET \/bytes\/(\d+) HTTP\/1\.([01])\r\n/.exec(`${head}\r\n`);
      const n = match === null ? -1 : Number(match[1]);
      socket.write(n >= 0 && n <= MAX_BODY ? answer(n) : NOT_FOUND);
      // HTTP/1.0 closes unless it asks otherwise; since this answer does not say keep-alive, close.
      if (match?.[2] === '0' || /\r\nconnection: *close/i.test(head)) {
        socket.end();
        return;
      }
    }
    if (pending.length > MAX_PENDING) socket.destroy();
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as net.AddressInfo;
  if (process.send) process.send({ type: 'listening', port });
  else process.stdout.write(`trivial server listening on http://127.0.0.1:${port}/bytes/13\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', () => process.exit(0));
