/**
 * `npm run demo:ha`: two front hosts behind one virtual address, two backend hosts, and clients in
 * their own namespace sending keep-alive and `Connection: close` requests through the address at
 * a steady rate, while the schedule drains a backend through one front (and checks the other
 * applies it), cuts the active front's link and puts it back, crashes the active front and boots
 * it, and moves the address on purpose and back. A line per step as it happens; then the report
 * (timeline, steps, verdict) in bench/results/demo-ha-<timestamp>/. Passes only when nothing
 * failed in the planned steps and each fault failed no more than the requests in flight.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { RESULTS_DIR } from '../config/common.js';
import { ClientRun } from '../hosts/client-run.js';
import { describeFailover } from '../hosts/failover-report.js';
import { addressHolder, failoverTrial, type FailoverKind } from '../hosts/failover-trial.js';
import { until } from '../hosts/front-failover.js';
import type { FrontHost } from '../hosts/front-host.js';
import { Lab } from '../hosts/lab.js';
import { haTimeline, renderHaMarkdown, stepProblems, type HaStep } from './ha-report.js';
import { pause, throwIfInterrupted } from './wait-until.js';

export interface HaDemoConfig {
  rate: number;
  /** Client loops of each kind (keep-alive, close). */
  loops: number;
  /** Steady load between steps. */
  betweenMs: number;
  advertS: number;
  outDir: string | null;
}

export interface HaDemoResult {
  passed: boolean;
  reportDir: string;
}

export async function runHaDemo(
  config: HaDemoConfig,
  print: (line: string) => void,
  signal: AbortSignal,
): Promise<HaDemoResult> {
  print('building the hosts: 2 backend hosts, 2 fronts (balancer + keepalived), 1 client host ...');
  const lab = await Lab.create({
    hosts: 2,
    etcdMembers: 1,
    backendsPerHost: 1,
    fronts: 2,
    client: true,
    front: { advertIntervalS: config.advertS },
    log: (line) => print(`  ${line}`),
  });
  let run: ClientRun | null = null;
  try {
    const first = await addressHolder(lab, 30_000);
    print(
      `${first.name} holds ${lab.network.virtualAddress}; load through ${lab.frontUrl} at ${config.rate}/s`,
    );
    const client = lab.client;
    if (client === null) throw new Error('the lab has no client host');
    run = new ClientRun(client, {
      url: `${lab.frontUrl}/page.html`,
      keepAlive: config.loops,
      close: config.loops,
      rate: config.rate,
      durationMs: 600_000,
    });
    const start = Date.now();
    const steps: HaStep[] = [];
    const clients = run;
    const failedBetween = (from: number, to: number) =>
      clients.outcomes.filter((o) => !o.ok && o.at >= from && o.at <= to).length;
    const settle = async () => {
      await pause(config.betweenMs);
      throwIfInterrupted(signal);
    };
    await settle();

    const decide = async (kind: 'drain' | 'ready') => {
      const through = await addressHolder(lab);
      const other = lab.fronts.find((f) => f !== through) as FrontHost;
      const upstream = `${lab.hosts[0]?.link.name ?? 'h1'}/${lab.hosts[0]?.backends[0]?.name ?? ''}`;
      const at = Date.now();
      await through.control(upstream, kind);
      const applied = await until(
        async () => (await other.status()).upstreams.find((u) => u.name === upstream)?.admin === kind,
        5000,
      );
      const appliedOnOtherMs = Date.now() - at;
      await pause(1000);
      const step: HaStep = {
        name: `${kind} ${upstream} through ${through.name}`,
        kind,
        at,
        endedAt: Date.now(),
        failed: failedBetween(at, Date.now()),
        appliedOnOtherMs,
        detail: applied
          ? `${other.name} applied it after ${appliedOnOtherMs} ms (through etcd)`
          : `${other.name} did NOT apply it within 5 s`,
      };
      if (!applied) step.failed = Math.max(step.failed, 1);
      steps.push(step);
      print(`${step.name}: ${step.detail}; ${step.failed} failed`);
    };
    const failover = async (kind: FailoverKind) => {
      const trial = await failoverTrial(lab, clients, kind, 1000);
      const step: HaStep = {
        name:
          kind === 'planned'
            ? `planned failover ${trial.from} -> ${trial.to}`
            : `${kind} fault on ${trial.from}`,
        kind: kind === 'planned' ? 'planned' : 'fault',
        at: trial.at,
        endedAt: Date.now(),
        failed: trial.figures.failed,
        figures: trial.figures,
        detail: `address on ${trial.to} after ${trial.movedMs} ms; ${trial.from} back as a backup`,
      };
      steps.push(step);
      print(`${describeFailover(trial.figures)}; ${step.detail}`);
    };

    await decide('drain');
    await settle();
    await decide('ready');
    await settle();
    for (const kind of ['link', 'crash', 'planned', 'planned'] as const) {
      await failover(kind);
      await settle();
    }
    const outcomes = await run.stop();
    run = null;
    const problems = stepProblems(steps, 2 * config.loops, outcomes);
    const seconds = haTimeline(outcomes, steps, start);
    const totals = { sent: outcomes.length, failed: outcomes.filter((o) => !o.ok).length };
    const report = renderHaMarkdown(
      seconds,
      steps,
      totals,
      {
        rate: config.rate,
        loops: `${config.loops} keep-alive + ${config.loops} close`,
        advert: `${config.advertS} s`,
      },
      problems,
    );
    const dir =
      config.outDir ??
      path.join(RESULTS_DIR, `demo-ha-${new Date(start).toISOString().replace(/[:.]/g, '-').slice(0, 19)}Z`);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'report.md'), report);
    await fs.writeFile(
      path.join(dir, 'timeline.json'),
      `${JSON.stringify({ steps, seconds, totals }, null, 2)}\n`,
    );
    print('');
    print(
      `${totals.sent} requests, ${totals.failed} failed; ${problems.length === 0 ? 'PASSED' : `FAILED: ${problems.join('; ')}`}`,
    );
    print(`report: ${path.relative(process.cwd(), dir)}/report.md`);
    return { passed: problems.length === 0, reportDir: dir };
  } finally {
    await run?.stop();
    await lab.destroy();
  }
}
