/**
 * What a cluster's primary and its workers say to each other over the IPC channel. The primary
 * decides membership and tells every worker when it changes; health, admin state and weight go
 * through the shared zone, which every worker reads in place. A worker reports what it saw (a
 * passive failure, its counters, the requests it finished). Plain data only, checked on arrival:
 * a message that is not one of these is ignored.
 */
import type { SlottedSpec } from '../pool.js';
import type { RequestCounts } from '../proxy-handler.js';
import type { ConnectionFacts } from '../status.js';
import type { ProcessUsage } from '../../metrics/process-usage.js';

/**
 * One upstream as a worker counted it: in flight, attempts, served, failures, open tunnels,
 * tunnel bytes to it and from it. A tuple: it crosses the IPC channel four times a second.
 */
export type Counts = [number, number, number, number, number, number, number];
export type UpstreamCounts = Record<string, Counts>;

import type { FinishedGroup } from './finished-batch.js';

export type ToWorker =
  /** The whole membership, with each member's slot in the zone (sent first, and on every change). */
  | { lb: 'members'; members: SlottedSpec[] }
  /** An upstream may have become available: requests waiting for one go now. */
  | { lb: 'available' }
  /** Send a report now, answering with this sequence number. */
  | { lb: 'report?'; seq: number }
  /** The front door closes (`Connection: close` on every answer, idle connections closed) or opens. */
  | { lb: 'leave'; on: boolean; closeIdle: boolean }
  /** Stop taking connections, finish what is in flight, report, exit. */
  | { lb: 'drain' }
  /**
   * The primary is leaving (a handover): serve on once it has gone, as the old generation, until
   * SIGTERM from the holder or for `ms` at most, then drain.
   */
  | { lb: 'serve-on'; ms: number };

export type ToPrimary =
  /** Listening for messages: send the membership and health now (earlier ones would be lost). */
  | { lb: 'hello' }
  /** Listening and able to proxy. */
  | { lb: 'ready'; port: number }
  /** A refused or reset connection while proxying: take it out for every worker. */
  | { lb: 'take-out'; id: string; reason: string }
  /** Counters; `seq` answers a 'report?' (0: the periodic one). */
  | {
      lb: 'report';
      seq: number;
      totals: RequestCounts;
      queued: number;
      tunnels: number;
      connections: ConnectionFacts;
      upstreams: UpstreamCounts;
      /** Its resident memory and CPU share (PM2 sees the primary's pid alone). */
      usage: ProcessUsage;
    }
  /** Requests finished since the last batch (sent only while the primary wants them). */
  | { lb: 'finished'; groups: FinishedGroup[] };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

const TO_WORKER = new Set(['members', 'available', 'report?', 'leave', 'drain', 'serve-on']);
const TO_PRIMARY = new Set(['hello', 'ready', 'take-out', 'report', 'finished']);

export function isToWorker(v: unknown): v is ToWorker {
  return isObject(v) && typeof v.lb === 'string' && TO_WORKER.has(v.lb);
}

export function isToPrimary(v: unknown): v is ToPrimary {
  return isObject(v) && typeof v.lb === 'string' && TO_PRIMARY.has(v.lb);
}
