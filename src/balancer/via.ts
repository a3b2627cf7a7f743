/**
 * The `Via` response header (`--via <pseudonym>`, RFC 9110 section 7.6.3), off unless asked for.
 * With two front balancers behind one virtual IP, it says which front answered a request.
 *
 * received-protocol is the version of the message the front received: a relayed response came
 * from an upstream, and every engine speaks HTTP/1.1 to upstreams, so it says `1.1`; the
 * balancer's own answers (400, 503, ...) answer the client's request, so they name its version
 * (`1.0`, `1.1`, or `2` for HTTP/2). An upstream's own Via is kept and this front's entry is
 * appended to it, as the RFC asks of every intermediary (headers.ts appendVia). Pure: the option,
 * its parser, the values.
 */
import type { OptionSpec } from '../config/options.js';

/**
 * `pseudonym[:port]`: received-by as RFC 9110 allows it, a token (letters, digits and
 * !#$%&'*+-.^_`|~), so the value can never split the header or smuggle another entry.
 */
export function parseViaPseudonym(raw: string): string {
  const value = raw.trim();
  if (value === '') return '';
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}(?::\d{1,5})?$/.test(value)) {
    throw new Error(
      `"${raw}" is not a Via pseudonym (up to 64 letters, digits and !#$%&'*+-.^_\`|~, optionally :port; no spaces or commas)`,
    );
  }
  return value;
}

export const viaSpecs = {
  via: {
    flag: 'via',
    env: 'VIA',
    description:
      "Add `Via: 1.1 <pseudonym>` to every response of the public listener (relayed and the balancer's own), after an upstream's Via; tells which front answered",
    default: '',
    defaultText: 'none (no Via header)',
    parse: parseViaPseudonym,
  } satisfies OptionSpec<string>,
};

/** The Via entries of one front, built once at start so a response pays no string building. */
export class ViaEntry {
  /** What a relayed response gets: the upstream spoke HTTP/1.1 to us. */
  readonly relayed: string;
  private readonly http10: string;
  private readonly http2: string;

  constructor(readonly pseudonym: string) {
    this.relayed = `1.1 ${pseudonym}`;
    this.http10 = `1.0 ${pseudonym}`;
    this.http2 = `2 ${pseudonym}`;
  }

  /** The entry for the balancer's own answer to a request received as HTTP/major.minor. */
  forRequest(major: number, minor: number): string {
    if (major >= 2) return this.http2;
    return major === 1 && minor === 0 ? this.http10 : this.relayed;
  }
}

/** A ViaEntry for the option's value; null when it is off (the empty default). */
export function viaEntry(pseudonym: string | null): ViaEntry | null {
  return pseudonym === null || pseudonym === '' ? null : new ViaEntry(pseudonym);
}
