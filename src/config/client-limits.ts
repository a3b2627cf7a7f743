/**
 * What the project's HTTP listeners (the balancer and the file servers) ask of their clients the
 * same way: the option for the largest request head, and the check that the two client timeouts
 * are in an order where both can fire.
 */
import { intParser, type OptionSpec } from './options.js';

export const maxHeaderSizeOption = {
  flag: 'max-header-size',
  env: 'MAX_HEADER_SIZE',
  description: 'Largest request line plus headers in bytes; bigger gets 431',
  default: 16 * 1024,
  parse: intParser(1024, 1024 * 1024),
} satisfies OptionSpec<number>;

/** The headers arrive before the whole request, so a longer headers timeout would never fire. */
export function clientTimeoutProblems(headersTimeoutMs: number, requestTimeoutMs: number): string[] {
  return headersTimeoutMs > requestTimeoutMs
    ? [
        `--headers-timeout (${headersTimeoutMs}ms) must not be longer than --request-timeout (${requestTimeoutMs}ms)`,
      ]
    : [];
}
