/**
 * One GET against an app's health URL with a deadline. Never throws: the answer says what happened.
 */
import { describeOutcome, getWithDeadline } from '../net/http-get.js';

export interface ProbeResult {
  url: string;
  ok: boolean;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  /** The body parsed as JSON, when it was JSON. */
  json: unknown;
  /** Why it is not ok (connection refused, timeout, status 503...). */
  problem: string | null;
}

export async function probe(url: string, timeoutMs = 1000): Promise<ProbeResult> {
  const outcome = await getWithDeadline(url, timeoutMs);
  if (outcome.kind !== 'answered') {
    return { url, ok: false, status: null, json: undefined, problem: describeOutcome(outcome) };
  }
  let json: unknown;
  try {
    json = JSON.parse(outcome.body.toString('utf8'));
  } catch {
    json = undefined;
  }
  const ok = outcome.status === 200;
  return { url, ok, status: outcome.status, json, problem: ok ? null : describeOutcome(outcome) };
}
