/**
 * The project's one door to etcd (the `etcd3` client), set up for a pool that must follow failures
 * within seconds rather than the client's defaults (a host cut off for 5 s after 3 failures, watch
 * reconnects backing off to 30 s, unary calls without a deadline):
 *
 * - every unary call has a deadline, so a partitioned member (packets dropped, no reset) fails the
 *   call instead of hanging it; streams (watch, lease keep-alive) have none, but their first answer
 *   must come within the same time (`firstAnswerWithin`). Neither grpc-js nor etcd3 bounds a
 *   connection attempt, so a stream opened towards a member whose host is gone waited for the
 *   kernel's SYN retries (about two minutes) before the client tried another member;
 * - gRPC keep-alive pings find a dead stream (the watch's member partitioned) within
 *   `keepaliveMs` plus a second; etcd must allow pings that often (`--grpc-keepalive-min-time`);
 * - a failing member is skipped for one second, then tried again; watch reconnects back off from
 *   200 ms to 2 s.
 */
import { InterceptingCall, status, type Interceptor } from '@grpc/grpc-js';
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { Etcd3, EtcdWatchStreamEnded, isRecoverableError, type Lease, type Watcher } from 'etcd3';
import { errorMessage } from '../../errors.js';

export interface EtcdClientOptions {
  endpoints: readonly string[];
  /** Deadline of one unary call (get, put, delete, lease grant). */
  callTimeoutMs: number;
  /** Interval of gRPC keep-alive pings on idle and streaming connections. */
  keepaliveMs: number;
}

export function createEtcdClient(options: EtcdClientOptions): Etcd3 {
  return new Etcd3({
    // No `dialTimeout`: etcd3 declares it but never reads it; firstAnswerWithin bounds a stream.
    hosts: [...options.endpoints],
    defaultCallOptions: (context) =>
      context.isStream
        ? { interceptors: [firstAnswerWithin(options.callTimeoutMs)] }
        : { deadline: Date.now() + options.callTimeoutMs },
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

/**
 * A stream whose member sends nothing back (not even its headers, which etcd sends with the first
 * answer: a watch's "created", a lease's first renewal) within `ms` is cancelled as UNAVAILABLE:
 * etcd3 counts that against the member and opens the stream again, on another member when one
 * answers. A stream that has answered once lives on; gRPC keep-alive pings watch it from then on.
 */
function firstAnswerWithin(ms: number): Interceptor {
  return (callOptions, nextCall) => {
    let timer: NodeJS.Timeout | null = null;
    const answered = () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    };
    const call: InterceptingCall = new InterceptingCall(nextCall(callOptions), {
      start(metadata, listener, next) {
        timer = setTimeout(() => {
          timer = null;
          call.cancelWithStatus(status.UNAVAILABLE, `no answer from the etcd member within ${ms} ms`);
        }, ms);
        timer.unref();
        next(metadata, {
          onReceiveMetadata(received, nextMetadata) {
            answered();
            nextMetadata(received);
          },
          onReceiveStatus(received, nextStatus) {
            answered();
            nextStatus(received);
          },
        });
      },
    });
    return call;
  };
}

/** What a prefix watch tells its owner; every call is made only while the watch is current. */
export interface PrefixEvents {
  put(key: string, value: string, revision: number): void;
  delete(key: string, revision: number): void;
  /** The stream's revision moved (a response with no change of ours). */
  progress?(revision: number): void;
  /** The stream broke (etcd3 reconnects it and resumes after the last revision seen). */
  down?(why: string): void;
  up?(): void;
  /** etcd cancelled the watch (its revision compacted away, for one): read everything again. */
  cancelled(why: string): void;
}

interface KeyValueLike {
  key: Buffer;
  value: Buffer;
  mod_revision: string;
}

/**
 * Watch every key under `prefix` from `revision` on (the one after a whole read, so nothing in
 * between is lost). `current` says whether this watcher is still its owner's: a replaced or
 * stopped one's late events are dropped. A cancelled watch is closed here before its owner hears.
 */
export async function watchPrefix(
  client: Etcd3,
  prefix: string,
  revision: number,
  on: PrefixEvents,
  current: (watcher: Watcher) => boolean,
): Promise<Watcher> {
  const watcher = await client.watch().prefix(prefix).startRevision(String(revision)).create();
  const live = () => current(watcher);
  watcher.on('put', (kv: KeyValueLike) => {
    if (live()) on.put(kv.key.toString(), kv.value.toString(), Number(kv.mod_revision));
  });
  watcher.on('delete', (kv: KeyValueLike) => {
    if (live()) on.delete(kv.key.toString(), Number(kv.mod_revision));
  });
  watcher.on('data', (res) => {
    if (live() && res.header !== undefined) on.progress?.(Number(res.header.revision));
  });
  let down = false;
  watcher.on('disconnected', (err) => {
    // etcd3 reports a failed attempt twice, its error and then the stream's end: the first says why.
    if (down && err instanceof EtcdWatchStreamEnded) return;
    down = true;
    if (live()) on.down?.(errorMessage(err));
  });
  watcher.on('connected', () => {
    down = false;
    if (live()) on.up?.();
  });
  watcher.on('error', (err) => {
    if (!live()) return;
    void watcher.cancel().catch(() => undefined);
    on.cancelled(errorMessage(err));
  });
  return watcher;
}

export type { Etcd3, Lease, Watcher };
