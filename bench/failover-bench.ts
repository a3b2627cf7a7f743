/**
 * `npm run bench:failover`: the fronts' failover, measured. Two front hosts (a balancer and
 * keepalived each) behind one virtual address, two backend hosts, clients in their own namespace
 * (keep-alive and `Connection: close` loops through the address). For each VRRP advertisement
 * interval asked (ADVERTS, seconds; default the keepalived default 1 and the short 0.1), the
 * timing is first watched under load with no fault (any VRRP change then is a spurious one), then
 * each failover kind is tried TRIES times (default 10): planned (the front door and SYN guard),
 * link cut, host crash, balancer stopped, keepalived stopped; each try through
 * src/hosts/failover-trial.ts, the same as the tests and demo:ha.
 *
 * Results: bench/results/failover-<timestamp>/results.json and report.md. Run alone on the
 * machine. SIGINT or SIGTERM removes the test hosts before exiting.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { RESULTS_DIR } from '../src/config/common.js';
import { processEnv } from '../src/config/process-input.js';
import { errorMessage } from '../src/errors.js';
import { ClientRun } from '../src/hosts/client-run.js';
import {
  addressHolder,
  failoverTrial,
  FAILOVER_KINDS,
  type FailoverKind,
} from '../src/hosts/failover-trial.js';
import { Lab, keepalivedBin } from '../src/hosts/lab.js';
import { hostsSupportProblems } from '../src/hosts/support.js';
import {
  failoverRows,
  renderFailoverMarkdown,
  verdicts,
  type FailoverTry,
  type Stability,
} from './lib/failover-figures.js';

const env = processEnv();
const TRIES = Number(env.TRIES ?? 10);
const ADVERTS = (env.ADVERTS ?? '1 0.1').split(/\s+/).filter(Boolean).map(Number);
const KINDS = (env.KINDS ?? FAILOVER_KINDS.join(' ')).split(/\s+/).filter(Boolean) as FailoverKind[];
const RATE = Number(env.RATE ?? 200);
const LOOPS = Number(env.LOOPS ?? 4);
const STABLE_MS = Number(env.STABLE_MS ?? 10_000);
const say = (line: string) => process.stdout.write(`${line}\n`);

for (const kind of KINDS) {
  if (!FAILOVER_KINDS.includes(kind)) {
    process.stderr.write(`KINDS: "${kind}" is not one of ${FAILOVER_KINDS.join(', ')}\n`);
    process.exit(2);
  }
}
if (!Number.isInteger(TRIES) || TRIES < 1 || ADVERTS.some((a) => !(a >= 0.01 && a <= 40))) {
  process.stderr.write('TRIES must be a whole number from 1, ADVERTS seconds from 0.01 to 40\n');
  process.exit(2);
}
const problems = await hostsSupportProblems({ etcd: true, fronts: { keepalived: keepalivedBin() } });
if (problems.length > 0) {
  process.stderr.write(
    `bench:failover cannot build test hosts here:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
  );
  process.exit(1);
}

let lab: Lab | null = null;
let run: ClientRun | null = null;
const onSignal = (signal: NodeJS.Signals) => {
  void (async () => {
    await run?.stop();
    await lab?.destroy();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  })();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

/** VRRP state changes on any front during `ms` with no fault going on. */
async function watchStability(fronts: Lab['fronts'], ms: number): Promise<number> {
  const seen = new Map<string, string>();
  let changes = 0;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    for (const f of fronts) {
      const now = (await f.vrrp())?.state ?? 'unknown';
      const before = seen.get(f.name);
      if (before !== undefined && before !== now) changes++;
      seen.set(f.name, now);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return changes;
}

const startedAt = new Date();
const tries: FailoverTry[] = [];
const stability: Stability[] = [];
try {
  for (const advertS of ADVERTS) {
    say(`advertisement interval ${advertS} s: building the hosts`);
    lab = await Lab.create({
      hosts: 2,
      etcdMembers: 1,
      backendsPerHost: 1,
      fronts: 2,
      client: true,
      front: { advertIntervalS: advertS },
    });
    await addressHolder(lab, 30_000);
    const client = lab.client;
    if (client === null) throw new Error('the lab has no client host');
    run = new ClientRun(client, {
      url: `${lab.frontUrl}/page.html`,
      keepAlive: LOOPS,
      close: LOOPS,
      rate: RATE,
      durationMs: 3_600_000,
    });
    await new Promise((r) => setTimeout(r, 2000));
    const spurious = await watchStability(lab.fronts, STABLE_MS);
    stability.push({ advertS, watchedMs: STABLE_MS, spurious });
    say(`  ${STABLE_MS / 1000} s under load with no fault: ${spurious} VRRP changes`);
    for (const kind of KINDS) {
      for (let i = 1; i <= TRIES; i++) {
        const trial = await failoverTrial(lab, run, kind, 1000);
        const f = trial.figures;
        tries.push({
          advertS,
          kind,
          failoverMs: f.failoverMs,
          movedMs: trial.movedMs,
          failed: f.failed,
          sent: f.sent,
        });
        say(
          `  ${kind} #${i} ${trial.from}->${trial.to}: failover ${f.failoverMs ?? '–'} ms, address moved after ${trial.movedMs} ms, ${f.failed} of ${f.sent} failed${
            f.failed > 0
              ? ` (${Object.entries(f.reasons)
                  .map(([r, n]) => `${r} ${n}`)
                  .join(', ')})`
              : ''
          }`,
        );
        // The next try starts from a settled pair.
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await run.stop();
    run = null;
    await lab.destroy();
    lab = null;
  }
} catch (err) {
  process.stderr.write(`bench:failover failed: ${errorMessage(err)}\n`);
  await run?.stop();
  await lab?.destroy();
  process.exit(1);
}

const rows = failoverRows(tries);
const shortest = Math.min(...ADVERTS);
const settings = {
  TRIES,
  ADVERTS: ADVERTS.join(' '),
  KINDS: KINDS.join(' '),
  RATE,
  LOOPS: `${LOOPS} keep-alive + ${LOOPS} close`,
  STABLE_MS,
};
const report = renderFailoverMarkdown(rows, stability, settings, shortest);
const dir = path.join(RESULTS_DIR, `failover-${startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19)}Z`);
await fs.mkdir(dir, { recursive: true });
await fs.writeFile(
  path.join(dir, 'results.json'),
  `${JSON.stringify({ startedAt, settings, tries, rows, stability }, null, 2)}\n`,
);
await fs.writeFile(path.join(dir, 'report.md'), report);
say('');
say(report);
say(`results: ${path.relative(process.cwd(), dir)}`);
process.exit(verdicts(rows, shortest).some((v) => v.endsWith('NOT met')) ? 1 : 0);
