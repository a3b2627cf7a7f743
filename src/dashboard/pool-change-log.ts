/**
 * The last pool changes (an upstream leaving or rejoining rotation, and why), newest first, for the
 * dashboard.
 */
import { RecentLog } from './recent-log.js';

export interface PoolChange {
  /** Epoch ms. */
  at: number;
  id: string;
  name: string;
  from: string;
  to: string;
  reason: string;
}

export class PoolChangeLog extends RecentLog<PoolChange> {}
