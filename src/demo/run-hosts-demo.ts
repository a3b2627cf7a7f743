/**
 * The multi-host demo, start to end: build three hosts (namespaces, an etcd cluster over them, a
 * PM2 daemon with backends and a registrar on each), start a balancer on etcd discovery in the root
 * namespace, wait for the whole pool in rotation, then run the load and the host faults together
 * while reading the balancer's status and watching etcd, print a line per second, and write the
 * report. Everything it built is torn down at the end, also when something fails.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { InternalError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { freePort } from '../net/free-port.js';
import { createEtcdClient } from '../balancer/discovery/etcd-client.js';
import { poolPrefix } from '../balancer/discovery/etcd-keys.js';
import { etcdBalancerArgs } from '../hosts/balancer-args.js';
import { spawnBalancer } from '../hosts/balancer-process.js';
import { Lab } from '../hosts/lab.js';
import { stopChild } from '../hosts/stop-child.js';
import { hostsSupportProblems } from '../hosts/support.js';
import { runSchedule } from './action-runner.js';
import { formatSettings, formatSummary, formatTimelineLine, TIMELINE_HEADER } from './format-text.js';
import { HostFaults } from './host-faults.js';
import { DEMO_ETCD_MEMBERS, DEMO_HOSTS, type HostsDemoConfig } from './hosts-config.js';
import { plannedRequests, runLoad } from './load-runner.js';
import { propagationTimes, renderPropagationMarkdown, type Propagation } from './propagation.js';
import { writeDemoReport, type ReportPaths } from './report-files.js';
import { pollLbStatus, readLbStatus } from './status-poller.js';
import { buildSummary, type DemoSettings, type DemoSummary } from './summary.js';
import { TimelineRecorder } from './timeline.js';
import type { ScheduledAction } from './types.js';

export interface HostsDemoResult {
  summary: DemoSummary;
  propagation: Propagation[];
  paths: ReportPaths;
  passed: boolean;
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<string | null>,
  signal?: AbortSignal,
) {
  const deadline = Date.now() + timeoutMs;
  let pending: string | null = what;
  while (Date.now() < deadline) {
    if (signal?.aborted === true) throw new InternalError('ERR_DEMO_INTERRUPTED', 'interrupted');
    pending = await check().catch((err: unknown) => errorMessage(err));
    if (pending === null) return;
    await pause(100);
  }
  throw new InternalError(
    'ERR_DEMO_TIMEOUT',
    `gave up after ${timeoutMs} ms waiting for ${what}: ${pending}`,
  );
}

/** `expected` upstream names in rotation (and nothing listed that is out). */
function whole(adminPort: number, expected: () => string[]) {
  return async (): Promise<string | null> => {
    const status = await readLbStatus(adminPort, 1000);
    const inside = new Set(status.upstreams.filter((u) => u.inRotation).map((u) => u.name));
    const missing = expected().filter((n) => !inside.has(n));
    return missing.length === 0 ? null : `not in rotation: ${missing.join(', ')}`;
  };
}

/** The balancer as a user runs it, in the root namespace, its log in the results folder. */
function startBalancer(
  lab: Lab,
  config: HostsDemoConfig,
  ports: { port: number; adminPort: number },
  logFile: string,
): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  const child = spawnBalancer(
    ports,
    [...etcdBalancerArgs(lab), ...(config.retries ? [] : ['--no-retries']), '--log-level', 'info'],
    { stdout: log, stderr: log },
  );
  fs.closeSync(log);
  return child;
}

/**
 * The default schedule's latency fault needs netem, which some kernels are built without. Then it
 * is left out, saying so; a latency fault asked for with --at stays and fails, as asked.
 */
async function withoutImpossibleLatency(
  config: HostsDemoConfig,
  lab: Lab,
  logger: Logger,
  print: (line: string) => void,
  notes: string[],
): Promise<ScheduledAction[]> {
  const usesNetem = config.schedule.some((a) => a.app.startsWith('netem-'));
  if (!usesNetem || !config.defaultSchedule || (await lab.network.netemAvailable())) return config.schedule;
  const line =
    "this kernel has no netem (sch_netem): the default schedule's 100 ms latency fault is left out";
  logger.warn(line);
  print(`note: ${line}`);
  notes.push(line);
  return config.schedule.filter((a) => !a.app.startsWith('netem-'));
}

/**
 * The operations demo's report, retitled for hosts: its PM2 sections say nothing here (the faults
 * are not PM2's), and the propagation table is added.
 */
function hostsMarkdown(
  md: string,
  propagation: readonly Propagation[],
  config: HostsDemoConfig,
  notes: readonly string[],
): string {
  const sections = md.split(/^(?=## )/m).filter((s) => !/^## (PM2 restart counts|From PM2 `online`)/.test(s));
  const text = sections
    .join('')
    .replace(/^# Operations demo:/, '# Multi-host demo:')
    .replace(/^## Actions \(through PM2\)/m, '## Faults');
  const noted =
    notes.length === 0
      ? text
      : text.replace(/^(# .*\n)/, `$1\n${notes.map((n) => `Note: ${n}.`).join('\n')}\n`);
  return `${noted.trimEnd()}\n\n${renderPropagationMarkdown(propagation, config.statusIntervalMs)}`;
}

/** The balancer's log without its one line per request: what is left is every pool and etcd event. */
function keepEventLines(file: string): void {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  fs.writeFileSync(file, lines.filter((l) => !/\] [A-Z]+ \/\S* -> /.test(l)).join('\n'));
}

export async function runHostsDemo(
  config: HostsDemoConfig,
  logger: Logger,
  print: (line: string) => void,
  signal?: AbortSignal,
): Promise<HostsDemoResult> {
  const problems = await hostsSupportProblems();
  if (problems.length > 0)
    throw new InternalError('ERR_DEMO_HOSTS', `cannot build test hosts: ${problems.join('; ')}`);
  fs.mkdirSync(config.outDir, { recursive: true });
  const cleanups: { what: string; run: () => Promise<void> }[] = [];
  try {
    logger.info(
      `building ${DEMO_HOSTS} hosts with ${config.backendsPerHost} backends each and a ${DEMO_ETCD_MEMBERS}-member etcd cluster`,
    );
    const lab = await Lab.create({
      hosts: DEMO_HOSTS,
      etcdMembers: DEMO_ETCD_MEMBERS,
      backendsPerHost: config.backendsPerHost,
      // The registrar's default: a keep-alive stuck on a partitioned etcd member fails over well
      // within it (with 3 s, a host whose registrar talked to h1's member lost its keys too).
      leaseTtlS: 5,
      log: (line) => logger.info(line),
    });
    cleanups.push({ what: 'tear the hosts down', run: async () => void (await lab.destroy()) });
    const notes: string[] = [];
    const schedule = await withoutImpossibleLatency(config, lab, logger, print, notes);

    const [port, adminPort] = [await freePort(), await freePort()];
    const balancer = startBalancer(
      lab,
      config,
      { port, adminPort },
      path.join(config.outDir, 'balancer.log'),
    );
    cleanups.push({ what: 'stop the balancer', run: () => stopChild(balancer, 8000) });
    const initial = lab.hosts.flatMap((h) => h.backends.map((b) => `${h.link.name}/${b.name}`));
    logger.info(`waiting for the pool of ${initial.length} to be in rotation (admin port ${adminPort})`);
    await waitFor(
      'the whole pool in rotation',
      config.settleTimeoutMs,
      whole(adminPort, () => initial),
      signal,
    );

    const url = `http://127.0.0.1:${port}${config.path}`;
    const settings: DemoSettings = {
      url,
      durationMs: config.durationMs,
      rate: config.rate,
      concurrency: config.concurrency,
      retries: config.retries,
      schedule,
      statusIntervalMs: config.statusIntervalMs,
      portOffset: 0,
    };
    const recorder = new TimelineRecorder();
    let t0 = Date.now();
    const clock = () => Date.now() - t0;

    // The demo's own watch of the pool's keys: when each registration or removal happened in etcd.
    const etcd = createEtcdClient({ endpoints: lab.etcd.endpoints, callTimeoutMs: 1000, keepaliveMs: 1000 });
    cleanups.push({ what: 'close the etcd watch', run: () => Promise.resolve(etcd.close()) });
    const base = poolPrefix(lab.prefix, lab.pool);
    const nameOf = (key: Buffer) => key.toString().slice(base.length);
    const watcher = await etcd.watch().prefix(base).create();
    watcher.on('put', (kv: { key: Buffer }) =>
      recorder.addPm2Event({ atMs: clock(), app: nameOf(kv.key), event: 'etcd put' }),
    );
    watcher.on('error', (err) => logger.warn(`the demo's etcd watch ended: ${errorMessage(err)}`));
    watcher.on('delete', (kv: { key: Buffer }) =>
      recorder.addPm2Event({ atMs: clock(), app: nameOf(kv.key), event: 'etcd delete' }),
    );

    print(formatSettings({ settings }));
    print(TIMELINE_HEADER);
    t0 = Date.now();
    const poller = pollLbStatus(adminPort, config.statusIntervalMs, clock, (s) => recorder.addSample(s));
    cleanups.push({ what: 'stop reading the status', run: () => poller.stop() });
    const load = runLoad(
      {
        url,
        rate: config.rate,
        concurrency: config.concurrency,
        durationMs: config.durationMs,
        requestTimeoutMs: config.requestTimeoutMs,
      },
      clock,
      { sent: () => recorder.addSent(), outcome: (o) => recorder.addOutcome(o) },
    );
    const scheduleRun = runSchedule(
      schedule,
      new HostFaults(lab),
      clock,
      (record) => recorder.addAction(record),
      (entry, startedAtMs) => recorder.addActionStart({ ...entry, startedAtMs }),
    );
    const interrupt = () => {
      logger.warn('interrupted: stopping the load and the schedule, then tearing the hosts down');
      scheduleRun.cancel();
      load.abort('interrupted');
    };
    if (signal?.aborted === true) interrupt();
    else signal?.addEventListener('abort', interrupt, { once: true });

    let printed = 0;
    let loadDone = false;
    const loadResult = load.done.finally(() => (loadDone = true));
    while (!loadDone) {
      await Promise.race([pause(Math.max(0, (printed + 1) * 1000 + 50 - clock())), loadResult]);
      while (clock() >= (printed + 1) * 1000 + 50) print(formatTimelineLine(recorder.row(printed++), true));
    }
    await loadResult;
    scheduleRun.cancel();
    await scheduleRun.done;
    signal?.removeEventListener('abort', interrupt);

    // Every host there is now (a joined one too) back in rotation, so each return is measured.
    const expected = () => lab.hosts.flatMap((h) => h.backends.map((b) => `${h.link.name}/${b.name}`));
    logger.info('load done; waiting for the pool to be whole again');
    try {
      await waitFor('the pool to be whole again', config.settleTimeoutMs, whole(adminPort, expected), signal);
      await pause(config.statusIntervalMs * 2);
    } catch (err) {
      logger.warn(errorMessage(err));
    }
    await poller.stop();
    const rows = recorder.rows(Math.ceil(config.durationMs / 1000));
    for (; printed < rows.length; printed++) {
      const r = rows[printed];
      if (r !== undefined) print(formatTimelineLine(r, true));
    }
    const summary = buildSummary({
      startedAt: new Date(t0),
      settings,
      planned: plannedRequests(config),
      totals: recorder.totals(),
      actions: recorder.actionRecords(),
      samples: recorder.poolSamples(),
      pm2Events: recorder.pm2Events(),
      appsBefore: [],
      appsAfter: [],
    });
    const propagation = propagationTimes(
      summary.actions,
      recorder.pm2Events(),
      recorder.poolSamples(),
      config.backendsPerHost,
    );
    const unmeasured = propagation
      .filter((p) => p.delayMs === null)
      .map((p) => `${p.change} never reached the pool`);
    const paths = await writeDemoReport(config.outDir, {
      summary,
      timeline: rows,
      poolSamples: recorder.poolSamples(),
      pm2Events: recorder.pm2Events(),
    });
    fs.writeFileSync(
      path.join(config.outDir, 'propagation.json'),
      `${JSON.stringify(propagation, null, 2)}\n`,
    );
    fs.writeFileSync(
      paths.markdown,
      hostsMarkdown(fs.readFileSync(paths.markdown, 'utf8'), propagation, config, notes),
    );
    keepEventLines(path.join(config.outDir, 'balancer.log'));
    print(formatSummary(summary));
    print('How long each change took to reach the pool:');
    for (const p of propagation) {
      print(
        `  ${(p.fromMs / 1000).toFixed(1).padStart(5)}s  ${p.change.padEnd(42)} ${p.delayMs === null ? 'never' : `${p.delayMs} ms`}  (${p.until})`,
      );
    }
    for (const line of unmeasured) print(`  ! ${line}`);
    print(`Report: ${paths.markdown}, ${paths.json}, ${paths.svg}`);
    return { summary, propagation, paths, passed: summary.passed && unmeasured.length === 0 };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup.run();
      } catch (err) {
        logger.warn(`could not ${cleanup.what}: ${errorMessage(err)}`);
      }
    }
  }
}
