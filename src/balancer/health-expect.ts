/**
 * What a healthy answer to the active check looks like (HAProxy's `http-check expect`, Caddy's
 * `health_status` and `health_body`): a status or a range of them (`--health-expect-status`,
 * 2xx by default) and, when given, a substring the body must contain (`--health-expect-body`).
 * Pure: the options, their parsers, and the verdict on one answer.
 */
import { parseString, type OptionSpec } from '../config/options.js';

/** Statuses counted healthy, both ends included. */
export interface StatusRange {
  min: number;
  max: number;
}

export interface HealthExpectation {
  status: StatusRange;
  /** A substring the body must contain; null: any body. */
  body: string | null;
}

function statusCode(raw: string, whole: string): number {
  if (!/^\d{3}$/.test(raw)) throw new Error(`"${whole}" is not a status (200) or a range (200-399)`);
  const code = Number(raw);
  if (code < 100 || code > 599) throw new Error(`${code} is not an HTTP status (100-599)`);
  return code;
}

/** `200` or `200-399`; `2xx` is taken as 200-299, as Caddy writes it. */
export function parseStatusRange(raw: string): StatusRange {
  const value = raw.trim();
  const family = /^([1-5])xx$/i.exec(value);
  if (family !== null) {
    const hundred = Number(family[1]) * 100;
    return { min: hundred, max: hundred + 99 };
  }
  const dash = value.indexOf('-');
  if (dash < 0) {
    const code = statusCode(value, raw);
    return { min: code, max: code };
  }
  const min = statusCode(value.slice(0, dash), raw);
  const max = statusCode(value.slice(dash + 1), raw);
  if (min > max) throw new Error(`"${raw}" is an empty range (${min} is above ${max})`);
  return { min, max };
}

/** A non-empty substring of at most 1 KB; the check reads up to 4 MB of body. */
export function parseExpectedBody(raw: string): string {
  const value = parseString(raw);
  if (value.length > 1024) throw new Error('the expected body is over 1024 characters');
  return value;
}

export const healthExpectSpecs = {
  healthExpectStatus: {
    flag: 'health-expect-status',
    env: 'HEALTH_EXPECT_STATUS',
    description: 'Statuses of a healthy check answer: one (200), a range (200-399) or a class (2xx)',
    default: { min: 200, max: 299 },
    defaultText: '200-299',
    parse: parseStatusRange,
  } satisfies OptionSpec<StatusRange>,
  healthExpectBody: {
    flag: 'health-expect-body',
    env: 'HEALTH_EXPECT_BODY',
    description: 'A substring the body of a healthy check answer must contain',
    default: '',
    defaultText: 'any body',
    parse: parseExpectedBody,
  } satisfies OptionSpec<string>,
};

export function toHealthExpectation(v: {
  healthExpectStatus: StatusRange;
  healthExpectBody: string;
}): HealthExpectation {
  return { status: v.healthExpectStatus, body: v.healthExpectBody === '' ? null : v.healthExpectBody };
}

/** Why an answer is not healthy, or undefined when it is. */
export function expectationProblem(
  expect: HealthExpectation,
  status: number,
  body: Buffer,
): string | undefined {
  const { min, max } = expect.status;
  if (status < min || status > max) {
    return min === max ? `status ${status}, expected ${min}` : `status ${status}, expected ${min}-${max}`;
  }
  if (expect.body !== null && !body.includes(expect.body)) {
    return `status ${status}, but the body lacks ${JSON.stringify(expect.body)}`;
  }
  return undefined;
}
