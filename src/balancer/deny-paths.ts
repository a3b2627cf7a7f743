/**
 * Paths the public listener answers 404 itself instead of forwarding: the backends' internal
 * routes (`/metrics` by default, which would show their counters to anyone) and whatever
 * `--deny-path` adds (`/work`, the lab's CPU route, for one). A prefix match on the path without its
 * query, as nginx's `location /prefix` is: `/metrics` also covers `/metrics/x` and `/metricsfoo`.
 * Pure: the option, its parser and the matcher.
 */
import type { OptionSpec } from '../config/options.js';

/** Always denied: the backends' Prometheus route. */
export const DEFAULT_DENIED = ['/metrics'] as const;

/** An absolute path of visible ASCII, without query or fragment (they are never matched). */
export function parseDenyPath(raw: string): string {
  const value = raw.trim();
  if (value.charCodeAt(0) !== 47 /* '/' */) throw new Error(`"${raw}" is not a path (it must start with /)`);
  // eslint-disable-next-line no-control-regex -- control bytes are what it refuses
  if (/[\x00-\x20\x7f-\uffff?#]/.test(value)) {
    throw new Error(`"${raw}" must be visible ASCII without spaces, ? or # (a path prefix)`);
  }
  return value;
}

export const denyPathSpecs = {
  denyPath: {
    flag: 'deny-path',
    repeatable: true,
    env: 'DENY_PATH',
    description: `A path prefix (repeatable) the public listener answers 404 itself, never forwarded; ${DEFAULT_DENIED.join(', ')} always`,
    default: [] as string[],
    defaultText: `none beyond ${DEFAULT_DENIED.join(', ')}`,
    parse: parseDenyPath,
  } satisfies OptionSpec<string | string[]>,
};

/** The full list: the defaults, then what was given, each once. */
export function deniedPaths(given: string | readonly string[]): string[] {
  const list = typeof given === 'string' ? [given] : given;
  return [...new Set([...DEFAULT_DENIED, ...list])];
}

/** The denied prefix `url`'s path starts with, or undefined. */
export function deniedBy(url: string, prefixes: readonly string[]): string | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  for (const prefix of prefixes) if (path.startsWith(prefix)) return prefix;
  return undefined;
}
