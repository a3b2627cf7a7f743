/**
 * One failover of the fronts under the clients' load, start to end: whichever front holds the
 * address is failed over (planned, or by one of the faults), the trial waits until the other holds
 * it and has answered for `settleMs`, reads the figures from the clients' outcomes, then puts the
 * old front back (repaired, or its door opened) and waits until it is a backup again. The tests,
 * `npm run demo:ha` and `npm run bench:failover` all fail over through this.
 */
import type { ClientRun, TimedOutcome } from './client-run.js';
import { failoverFigures, type FailoverFigures } from './failover-report.js';
import { injectFault, plannedFailover, repair, until, type FrontFault } from './front-failover.js';
import type { FrontHost } from './front-host.js';
import type { Lab } from './lab.js';

export type FailoverKind = FrontFault | 'planned';
export const FAILOVER_KINDS: readonly FailoverKind[] = ['planned', 'link', 'crash', 'balancer', 'keepalived'];

export interface TrialResult {
  kind: FailoverKind;
  from: string;
  to: string;
  figures: FailoverFigures;
  /** Outcomes that failed a second or more after the new front's first answer (should be none). */
  lateFailures: TimedOutcome[];
  /** From the fault to the other front holding the address (its interface), ms. */
  movedMs: number;
  /** When the failover began (Date.now()). */
  at: number;
}

async function mustHold(what: string, test: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  if (!(await until(async () => test(), ms))) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** The one front holding the address (waits up to `ms` for there to be one). */
export async function addressHolder(lab: Lab, ms = 15_000): Promise<FrontHost> {
  let holder: FrontHost | null = null;
  await mustHold('one front holding the address', async () => (holder = await lab.vipHolder()) !== null, ms);
  if (holder === null) throw new Error('no front holds the address');
  return holder;
}

export async function failoverTrial(
  lab: Lab,
  run: ClientRun,
  kind: FailoverKind,
  settleMs = 1000,
): Promise<TrialResult> {
  const from = await addressHolder(lab);
  const to = lab.fronts.find((f) => f !== from);
  if (to === undefined) throw new Error('a failover needs two fronts');
  const since = (at: number) => run.outcomes.filter((o) => o.at >= at);
  const at = Date.now();
  let movedMs: number;
  try {
    if (kind === 'planned') {
      movedMs = (await plannedFailover(from, to, { vip: lab.network.virtualAddress, port: lab.frontPort }))
        .movedMs;
    } else {
      await injectFault(kind, from, lab.network);
      await mustHold(`${to.name} holding the address after the ${kind} fault`, () => to.holdsVip(), 10_000);
      movedMs = Date.now() - at;
    }
    let firstNew: TimedOutcome | undefined;
    await mustHold(
      `an answer through ${to.name}`,
      () => (firstNew = since(at).find((o) => o.via === to.name && o.ok)) !== undefined,
      15_000,
    );
    const settled = (firstNew?.at ?? at) + (firstNew?.ms ?? 0);
    await mustHold(
      `${settleMs} ms of answers after the first through ${to.name}`,
      () => since(settled + settleMs).some((o) => o.at + o.ms < Date.now()),
      15_000 + settleMs,
    );
    const figures = failoverFigures(run.outcomes, {
      name: kind,
      at,
      from: from.name,
      to: to.name,
      untilMs: Date.now() - at,
    });
    return {
      kind,
      from: from.name,
      to: to.name,
      figures,
      lateFailures: since(settled + 1000).filter((o) => !o.ok),
      movedMs,
      at,
    };
  } finally {
    if (kind === 'planned') await from.ready();
    else await repair(kind, from, lab.network);
    await mustHold(
      `${from.name} back as a backup`,
      async () => (await from.vrrp())?.state === 'BACKUP',
      30_000,
    );
  }
}
