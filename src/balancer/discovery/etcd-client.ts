/**
 * The project's one door to etcd (the `etcd3` client), set up for a pool that must follow failures
 * within seconds rather than the client's defaults (a host cut off for 5 s after 3 failures, watch
 * reconnects backing off to 30 s, unary calls without a deadline):
 *
 * - every unary call has a deadline, so a partitioned member (packets dropped, no reset) fails the
 *   call instead of hanging it; streams (watch, lease keep-alive) have none;
 * - gRPC keep-alive pings find a dead stream (the watch's member partitioned) within
 *   `keepaliveMs` plus a second; etcd must allow pings that often (`--grpc-keepalive-min-time`);
 * - a failing member is skipped for one second, then tried again; watch reconnects back off from
 *   200 ms to 2 s.
 */
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type Watcher } from 'etcd3';

export interface EtcdClientOptions {
  endpoints: readonly string[];
  /** Deadline of one unary call (get, put, delete, lease grant). */
  callTimeoutMs: number;
  /** Interval of gRPC keep-alive pings on idle and streaming connections. */
  keepaliveMs: number;
}

export function createEtcdClient(options: EtcdClientOptions): Etcd3 {
  return new Etcd3({
    hosts: [...options.endpoints],
    dialTimeout: options.callTimeoutMs,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + options.callTimeoutMs },
    grpcOptions: {
      'grpc.keepalive_time_ms': options.keepaliveMs,
      'grpc.keepalive_timeout_ms': 1000,
      // etcd counts pings on a connection without a stream as abuse (and closes it).
      'grpc.keepalive_permit_without_calls': 0,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
    },
    faultHandling: {
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), {
          halfOpenAfter: 1000,
          breaker: new ConsecutiveBreaker(2),
        }),
      // One try per member, so a call fails over to the others before giving up.
      global: retry(handleWhen(isRecoverableError), { maxAttempts: Math.max(2, options.endpoints.length) }),
      watchBackoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 2000 }).next(),
    },
  });
}

export type { Etcd3, Watcher };
