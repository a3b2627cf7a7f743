/**
 * The handover's one schema (Envoy's hot-restart message, HAProxy's `-x`): what a balancer primary
 * that PM2 stops leaves for the next one, where the next one asks for it, and the taker's answer.
 * Pure: the rendezvous path and the message, checked on arrival.
 */
import path from 'node:path';
import { InternalError } from '../../errors.js';

export type ListenerRole = 'public' | 'redirect' | 'admin';

export interface HandedListener {
  role: ListenerRole;
  port: number;
}

export interface Handover {
  /** The primary that left them. */
  from: number;
  /** In the order of the descriptors that travel with the message. */
  listeners: HandedListener[];
  /**
   * The old generation: the leaving primary's workers, still serving on those sockets after it
   * has gone (empty when they drained first). The holder drains them once the taker is ready.
   */
  workers: number[];
  /** The shared upstream zone travels too, as the descriptor after the listeners'. */
  zone: boolean;
  /** Each member's slot in that zone, by upstream id: the taker keeps them, so every worker agrees. */
  slots: Record<string, number>;
}

/** What the taker writes back once its own workers serve: the holder may drain the old ones. */
export const TAKER_READY = 'ready\n';

/**
 * How long the old generation serves on after its primary has left, at most (the workers' own
 * safety net): longer than a next primary takes to start and get ready, short enough that a stray
 * one does not linger.
 */
export const SERVE_ON_MS = 20_000;

/**
 * How long the holder keeps the sockets for a next primary, from the moment the old one has
 * exited: PM2 starts the next within a second or two; after a `pm2 stop` nobody comes.
 */
export const HANDOVER_WAIT_MS = 5000;

/**
 * Where the holder waits: one path per listening address, in a folder only this user can enter.
 * None for port 0: a balancer that takes any free port binds a new one when it starts again.
 */
export function handoverPath(tmpdir: string, uid: number, host: string, port: number): string | null {
  if (port === 0) return null;
  const safeHost = host.replace(/[^A-Za-z0-9.]/g, '_');
  return path.join(tmpdir, `supervised-balancer-${uid}`, `handover-${safeHost}-${port}.sock`);
}

const ROLES = new Set<ListenerRole>(['public', 'redirect', 'admin']);

function isListener(v: unknown): v is HandedListener {
  if (typeof v !== 'object' || v === null) return false;
  const l = v as Record<string, unknown>;
  return ROLES.has(l.role as ListenerRole) && Number.isInteger(l.port) && (l.port as number) > 0;
}

export function encodeHandover(handover: Handover): string {
  return JSON.stringify(handover);
}

/** The message, checked: one listener per descriptor, a public one among them, pids as numbers. */
export function parseHandover(text: string, descriptors: number): Handover {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InternalError('ERR_HANDOVER', 'the handed-over sockets came with a message that is not JSON', {
      cause: err,
    });
  }
  const h = raw as Partial<Record<keyof Handover, unknown>>;
  const problems: string[] = [];
  if (!Number.isInteger(h.from)) problems.push('no "from" pid');
  // A holder of an older version says nothing of workers: none outlived it.
  const workers = h.workers ?? [];
  if (!Array.isArray(workers) || !workers.every((p) => Number.isInteger(p) && (p as number) > 0))
    problems.push('bad "workers"');
  const zone = h.zone ?? false;
  const slots = h.slots ?? {};
  if (typeof zone !== 'boolean') problems.push('bad "zone"');
  if (
    typeof slots !== 'object' ||
    slots === null ||
    !Object.values(slots).every((s) => Number.isInteger(s) && (s as number) >= 0)
  )
    problems.push('bad "slots"');
  const expected = (Array.isArray(h.listeners) ? h.listeners.length : 0) + (zone === true ? 1 : 0);
  if (!Array.isArray(h.listeners) || !h.listeners.every(isListener)) problems.push('bad "listeners"');
  else if (expected !== descriptors)
    problems.push(
      `${h.listeners.length} listeners${zone === true ? ' and a zone' : ''} for ${descriptors} descriptors`,
    );
  else if (!h.listeners.some((l) => l.role === 'public')) problems.push('no public listener');
  if (problems.length > 0) {
    throw new InternalError(
      'ERR_HANDOVER',
      `the handed-over sockets came with a bad message: ${problems.join(', ')}`,
    );
  }
  return {
    ...(raw as Handover),
    workers: workers as number[],
    zone: zone as boolean,
    slots: slots as Record<string, number>,
  };
}
