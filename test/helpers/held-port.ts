/**
 * A port held by a plain listener, as a process that is still exiting (or a socket a benchmark
 * left) would hold it, until the test frees it; freed after the test in any case. A connection
 * that reaches it is closed at once.
 */
import net from 'node:net';
import type { TestContext } from 'node:test';

export async function holdPort(t: TestContext, port: number): Promise<{ release: () => Promise<void> }> {
  const holder = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
  let released = false;
  const release = () =>
    new Promise<void>((resolve) => {
      if (released) return resolve();
      released = true;
      holder.close(() => resolve());
    });
  t.after(release);
  return { release };
}
