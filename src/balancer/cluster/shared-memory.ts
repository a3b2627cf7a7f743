/**
 * Memory shared between the processes of one balancer (native/shared-zone.c): an anonymous file
 * (memfd) whose descriptor a worker inherits and a handover carries, mapped by each process as an
 * ArrayBuffer that Atomics work on in place. Node has no shared memory between processes.
 */
import { loadAddon } from '../native-addons.js';

interface Native {
  create(bytes: number): number;
  map(fd: number): ArrayBuffer;
}

let native: Native | undefined;

function load(): Native {
  native ??= loadAddon<Native>('shared_zone', 'ERR_ZONE');
  return native;
}

/** A new shared block of `bytes`, zero-filled: its descriptor (close-on-exec). */
export const createSharedMemory = (bytes: number): number => load().create(bytes);

/** The block behind `fd`, mapped here; every process that maps it sees the same bytes. */
export const mapSharedMemory = (fd: number): ArrayBuffer => load().map(fd);
