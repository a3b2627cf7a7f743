/**
 * Memory shared between the processes of one balancer (native/shared-zone.c): an anonymous file
 * (memfd) whose descriptor a worker inherits and a handover carries, mapped by each process as an
 * ArrayBuffer that Atomics work on in place. Node has no shared memory between processes.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PROJECT_ROOT } from '../../config/common.js';
import { InternalError } from '../../errors.js';

interface Native {
  create(bytes: number): number;
  map(fd: number): ArrayBuffer;
}

const NATIVE_FILE = path.join(PROJECT_ROOT, 'build', 'Release', 'shared_zone.node');

let native: Native | undefined;

function load(): Native {
  if (native !== undefined) return native;
  if (!fs.existsSync(NATIVE_FILE)) {
    throw new InternalError(
      'ERR_ZONE',
      `${NATIVE_FILE} is missing: \`npm install\` builds it (it needs make and a C compiler)`,
    );
  }
  native = createRequire(import.meta.url)(NATIVE_FILE) as Native;
  return native;
}

/** A new shared block of `bytes`, zero-filled: its descriptor (close-on-exec). */
export const createSharedMemory = (bytes: number): number => load().create(bytes);

/** The block behind `fd`, mapped here; every process that maps it sees the same bytes. */
export const mapSharedMemory = (fd: number): ArrayBuffer => load().map(fd);
