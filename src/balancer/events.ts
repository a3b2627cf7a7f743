/**
 * The balancer's diagnostics hook: typed events for whoever wants them (the dashboard, Prometheus
 * metrics, tests). Like undici's diagnostics channels, an event nobody listens to costs one boolean
 * read: the request path checks `wantsRequests` before it builds the event object.
 */
import type { HealthStatus } from './health-state.js';
import type { AdminState } from './zone.js';

/** A request is done: answered (by an upstream or by the balancer) or abandoned by its client. */
export interface RequestFinished {
  method: string;
  url: string;
  /** Name of the upstream whose response the client got; null when the balancer answered. */
  upstream: string | null;
  /** Status sent, or 499 when the client went away first (nginx's convention). */
  status: number;
  /** From the request's arrival to the end of the response, retries included. */
  ms: number;
  /** Attempts beyond the first. */
  retries: number;
}

/** An upstream changed state (joined, left or rejoined rotation). */
export interface PoolChange {
  id: string;
  name: string;
  from: HealthStatus | 'absent';
  to: HealthStatus | 'absent';
  reason: string;
  /** Epoch ms. */
  at: number;
}

/** An operator changed an upstream's admin state or weight (the admin API, `npm run lb`, a state file). */
export interface AdminChange {
  id: string;
  name: string;
  admin: AdminState;
  weight: number;
  /** What changed, in words: "ready -> drain", "weight 1 -> 3". */
  change: string;
  /** Who asked: "admin API from 127.0.0.1", "state file". */
  by: string;
  /** Epoch ms. */
  at: number;
}

export interface HealthCheckDone {
  id: string;
  name: string;
  ok: boolean;
  ms: number;
  error: string | null;
}

type Listener<E> = (event: E) => void;

/** One event type's listeners; `active` is the cheap check for hot paths. */
class Topic<E> {
  private listeners: Listener<E>[] = [];
  active = false;

  add(listener: Listener<E>): () => void {
    this.listeners = [...this.listeners, listener];
    this.active = true;
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
      this.active = this.listeners.length > 0;
    };
  }

  emit(event: E): void {
    // A listener that throws must not break the request path or the other listeners.
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's own problem; the balancer carries on.
      }
    }
  }
}

export class BalancerEvents {
  private readonly requests = new Topic<RequestFinished>();
  private readonly poolChanges = new Topic<PoolChange>();
  private readonly healthChecks = new Topic<HealthCheckDone>();
  private readonly adminChanges = new Topic<AdminChange>();

  /** True when someone listens for finished requests; check it before building the event. */
  get wantsRequests(): boolean {
    return this.requests.active;
  }

  get wantsHealthChecks(): boolean {
    return this.healthChecks.active;
  }

  /** Each `on...` returns a function that removes the listener. */
  onRequestFinished(listener: Listener<RequestFinished>): () => void {
    return this.requests.add(listener);
  }

  onPoolChange(listener: Listener<PoolChange>): () => void {
    return this.poolChanges.add(listener);
  }

  onHealthCheck(listener: Listener<HealthCheckDone>): () => void {
    return this.healthChecks.add(listener);
  }

  onAdminChange(listener: Listener<AdminChange>): () => void {
    return this.adminChanges.add(listener);
  }

  adminChanged(event: AdminChange): void {
    this.adminChanges.emit(event);
  }

  requestFinished(event: RequestFinished): void {
    this.requests.emit(event);
  }

  poolChanged(event: PoolChange): void {
    this.poolChanges.emit(event);
  }

  healthChecked(event: HealthCheckDone): void {
    this.healthChecks.emit(event);
  }
}
