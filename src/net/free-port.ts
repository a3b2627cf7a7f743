/**
 * A port nobody listens on now, for a child process that must be told its port before it starts
 * (a listener in this process asks for 0 instead). Another process may take it in between; the
 * child's listen retries say so if it does.
 */
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
