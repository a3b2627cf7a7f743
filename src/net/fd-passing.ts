/**
 * Descriptors across processes: dup(2), and listening sockets sent over a unix socket with
 * SCM_RIGHTS (native/fd-passing.c, built by `npm install`). Node 20 passes descriptors only to
 * its own children (spawn's stdio); a PM2 restart starts the next balancer as nobody's child.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Server } from 'node:net';
import { PROJECT_ROOT } from '../config/common.js';
import { InternalError } from '../errors.js';

interface Native {
  dup(fd: number): number;
  close(fd: number): void;
  listenUnix(path: string): number;
  acceptUnix(fd: number, timeoutMs: number): number;
  sendFds(connection: number, fds: number[], text: string): void;
  receiveFds(path: string, timeoutMs: number): { fds: number[]; text: string } | null;
}

export const NATIVE_FILE = path.join(PROJECT_ROOT, 'build', 'Release', 'fd_passing.node');

let native: Native | undefined;

function load(): Native {
  if (native !== undefined) return native;
  if (!fs.existsSync(NATIVE_FILE)) {
    throw new InternalError(
      'ERR_HANDOFF',
      `${NATIVE_FILE} is missing: \`npm install\` builds it (it needs make and a C compiler)`,
    );
  }
  native = createRequire(import.meta.url)(NATIVE_FILE) as Native;
  return native;
}

/** The descriptor of a listening server (node keeps it on the handle; not a public API). */
export function listeningFd(server: Server): number {
  const handle = (server as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new InternalError('ERR_HANDOFF', 'the server is not listening on a descriptor of its own');
  }
  return fd;
}

export const dupFd = (fd: number): number => load().dup(fd);
export const closeFd = (fd: number): void => load().close(fd);
export const listenUnix = (file: string): number => load().listenUnix(file);
/** A connection's descriptor, or null when nobody connected within the time. */
export const acceptUnix = (fd: number, timeoutMs: number): number | null => {
  const conn = load().acceptUnix(fd, timeoutMs);
  return conn < 0 ? null : conn;
};
export const sendFds = (connection: number, fds: number[], text: string): void =>
  load().sendFds(connection, fds, text);
/** The descriptors and text sent by whoever listens at `file`; null when nobody listens there. */
export const receiveFds = (file: string, timeoutMs: number): { fds: number[]; text: string } | null =>
  load().receiveFds(file, timeoutMs);
