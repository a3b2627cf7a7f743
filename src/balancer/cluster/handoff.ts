/**
 * What one balancer primary hands the next when PM2 restarts it (HAProxy's `-x`): its listening
 * sockets and what each one is. Pure: the rendezvous path and the message, checked on arrival.
 */
import path from 'node:path';
import { InternalError } from '../../errors.js';

export type ListenerRole = 'public' | 'redirect' | 'admin';

export interface HandedListener {
  role: ListenerRole;
  port: number;
}

export interface Handoff {
  /** The primary that handed them over. */
  from: number;
  /** In the order of the descriptors that travel with the message. */
  listeners: HandedListener[];
  /**
   * The handing primary's workers, still serving on those sockets after it has gone (empty when
   * they drained first): the next primary drains them once its own workers are ready.
   */
  workers: number[];
}

/**
 * How long a worker keeps serving after its primary has left it to the next one: longer than a
 * next primary takes to start and get ready, short enough that a stray one does not linger.
 */
export const OUTLIVE_MS = 20_000;

/**
 * How long the holder keeps the sockets for a next primary, from the moment the old one has
 * exited: PM2 starts the next within a second or two; after a `pm2 stop` nobody comes.
 */
export const HANDOFF_WAIT_MS = 5000;

/**
 * Where the holder waits: one path per listening address, in a folder only this user can enter.
 * None for port 0: a balancer that takes any free port binds a new one when it starts again.
 */
export function handoffPath(tmpdir: string, uid: number, host: string, port: number): string | null {
  if (port === 0) return null;
  const safeHost = host.replace(/[^A-Za-z0-9.]/g, '_');
  return path.join(tmpdir, `supervised-balancer-${uid}`, `handoff-${safeHost}-${port}.sock`);
}

const ROLES = new Set<ListenerRole>(['public', 'redirect', 'admin']);

function isListener(v: unknown): v is HandedListener {
  if (typeof v !== 'object' || v === null) return false;
  const l = v as Record<string, unknown>;
  return ROLES.has(l.role as ListenerRole) && Number.isInteger(l.port) && (l.port as number) > 0;
}

export function encodeHandoff(handoff: Handoff): string {
  return JSON.stringify(handoff);
}

/** The message, checked: one listener per descriptor, a public one among them, pids as numbers. */
export function parseHandoff(text: string, descriptors: number): Handoff {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InternalError('ERR_HANDOFF', 'the handed-over sockets came with a message that is not JSON', {
      cause: err,
    });
  }
  const h = raw as Partial<Record<keyof Handoff, unknown>>;
  const problems: string[] = [];
  if (!Number.isInteger(h.from)) problems.push('no "from" pid');
  // A holder of an older version says nothing of workers: none outlived it.
  const workers = h.workers ?? [];
  if (!Array.isArray(workers) || !workers.every((p) => Number.isInteger(p) && (p as number) > 0))
    problems.push('bad "workers"');
  if (!Array.isArray(h.listeners) || !h.listeners.every(isListener)) problems.push('bad "listeners"');
  else if (h.listeners.length !== descriptors)
    problems.push(`${h.listeners.length} listeners for ${descriptors} descriptors`);
  else if (!h.listeners.some((l) => l.role === 'public')) problems.push('no public listener');
  if (problems.length > 0) {
    throw new InternalError(
      'ERR_HANDOFF',
      `the handed-over sockets came with a bad message: ${problems.join(', ')}`,
    );
  }
  return { ...(raw as Handoff), workers: workers as number[] };
}
