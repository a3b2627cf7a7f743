/**
 * What the request and upgrade handlers are told at start (from the balancer's config): their own
 * answers' name, the retry rules, the proxy and head timeouts, the queue for when no upstream is available.
 * Its own file, so the upgrade handler depends on the settings and not on the request handler.
 */
import type { BalancerConfig } from './config.js';
import type { ViaEntry } from './via.js';

export interface ProxySettings {
  /** The balancer's name, in X-Served-By of its own answers. */
  name: string;
  retry: BalancerConfig['retry'];
  proxyTimeoutMs: number;
  /** The upstream's response head must be complete within this of the attempt's start. */
  upstreamHeaderTimeoutMs: number;
  /** Retry-After of the 503 sent when no upstream is available. */
  retryAfterS: number;
  /** Request bodies are read this far (or whole) before an upstream request is opened. */
  requestBufferBytes: number;
  /** How long a request waits for an available upstream before that 503 (0: not at all). */
  queueTimeoutMs: number;
  /** Requests that may wait at once. */
  maxQueued: number;
  /** Path prefixes answered 404 here, never forwarded (deny-paths.ts). */
  denyPaths: readonly string[];
  /** This front's Via entries (--via); null: responses get no Via. */
  via: ViaEntry | null;
}
