/**
 * The handover's transport below node: dup(2), and descriptors sent with SCM_RIGHTS on a unix
 * socket that node already holds (native/fd-passing.c, built by `npm install`). Node 20 passes
 * descriptors only to its own children (spawn's stdio); a PM2 restart starts the next balancer as
 * nobody's child.
 */
import type { Server, Socket } from 'node:net';
import { InternalError } from '../../errors.js';
import { loadAddon } from '../native-addons.js';

interface Native {
  dup(fd: number): number;
  close(fd: number): void;
  sendFds(connection: number, fds: number[], text: string): void;
  receiveFds(connection: number, timeoutMs: number): { fds: number[]; text: string };
}

let native: Native | undefined;

function load(): Native {
  native ??= loadAddon<Native>('fd_passing', 'ERR_HANDOVER');
  return native;
}

/** The descriptor under a listening server or a connected socket (node's handle; not a public API). */
export function fdOf(handleOwner: Server | Socket): number {
  const handle = (handleOwner as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new InternalError('ERR_HANDOVER', 'the socket has no descriptor of its own');
  }
  return fd;
}

export const dupFd = (fd: number): number => load().dup(fd);
export const closeFd = (fd: number): void => load().close(fd);

/** One message: the descriptors, and a text that ends with the first newline. */
export const sendFds = (connection: Socket, fds: number[], text: string): void =>
  load().sendFds(fdOf(connection), fds, `${text}\n`);

/**
 * What `sendFds` sent on the other end, for a socket node is not reading (paused since before it
 * connected, so no byte went to node instead). Throws ETIMEDOUT when nothing came in time.
 */
export const receiveFds = (connection: Socket, timeoutMs: number): { fds: number[]; text: string } =>
  load().receiveFds(fdOf(connection), timeoutMs);
