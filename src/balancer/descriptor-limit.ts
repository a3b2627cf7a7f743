/**
 * The balancer's own descriptor budget. Every client connection can need a second descriptor for
 * its upstream connection, and the process needs a few more of its own (log files, the admin
 * listener, PM2's RPC sockets, health checks), so the default cap on client connections is half
 * of what is left after a reserve. At the cap new connections are closed at once, before the
 * process meets EMFILE (nginx's `worker_connections`); docs/hardening.md has the arithmetic.
 */
import fs from 'node:fs';

/** Descriptors kept back for everything that is not a client or its upstream connection. */
export const DESCRIPTOR_RESERVE = 64;

/** Pure: the cap on client connections for a descriptor limit (null: unknown) and the option's value. */
export function connectionCap(descriptorLimit: number | null, requested: number): number {
  if (requested > 0) return requested;
  if (descriptorLimit === null) return 10_000;
  return Math.max(1, Math.floor((descriptorLimit - DESCRIPTOR_RESERVE) / 2));
}

/** Pure: the soft "Max open files" of a /proc/<pid>/limits text; null if absent or unlimited. */
export function parseOpenFilesLimit(text: string): number | null {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (m === null || m[1] === 'unlimited') return null;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : null;
}

/** This process's soft descriptor limit (Linux), or null where it cannot be read. */
export function readDescriptorLimit(): number | null {
  try {
    return parseOpenFilesLimit(fs.readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}

/** Descriptors open in this process now (Linux), or null where it cannot be read. */
export function countOpenDescriptors(): number | null {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}
