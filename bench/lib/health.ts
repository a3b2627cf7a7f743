/** Is a target up? Its /healthz must answer 200 with status "ok". */
import type { BenchTarget } from './bench-config.js';
import { describeOutcome, getWithDeadline } from '../../src/net/http-get.js';

export interface TargetStatus {
  name: string;
  url: string;
  up: boolean;
  /** What /healthz said (name and pid), or why the target counts as down. */
  detail: string;
}

export async function checkTarget(target: BenchTarget, timeoutMs = 2000): Promise<TargetStatus> {
  const base = { name: target.name, url: target.url };
  const res = await getWithDeadline(`${target.url}/healthz`, timeoutMs);
  if (res.kind !== 'answered')
    return { ...base, up: false, detail: `healthz failed: ${describeOutcome(res)}` };
  let body: { status?: unknown; name?: unknown; pid?: unknown } = {};
  try {
    body = JSON.parse(res.body.toString('utf8')) as typeof body;
  } catch {
    // not JSON: judged on the status alone below
  }
  if (res.status === 200 && body.status === 'ok') {
    return { ...base, up: true, detail: `healthz ok (name ${String(body.name)}, pid ${String(body.pid)})` };
  }
  return {
    ...base,
    up: false,
    detail: `healthz answered ${res.status}${typeof body.status === 'string' ? ` ${body.status}` : ''}`,
  };
}

export function checkTargets(targets: readonly BenchTarget[]): Promise<TargetStatus[]> {
  return Promise.all(targets.map((t) => checkTarget(t)));
}

/** Poll until every target is up or the time is over; returns the last statuses. */
export async function waitForTargets(
  targets: readonly BenchTarget[],
  timeoutMs: number,
): Promise<TargetStatus[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await checkTargets(targets);
    if (statuses.every((s) => s.up) || Date.now() >= deadline) return statuses;
    await new Promise((r) => setTimeout(r, 250));
  }
}
