/**
 * The multi-host demo, start to end: build three hosts (namespaces, an etcd cluster over them, a
 * PM2 daemon with backends and a registrar on each), start a balancer on etcd discovery in the root
 * namespace, wait for the whole pool in rotation, then run the load and the host faults together
 * while reading the balancer's status and watching etcd, print a line per second, and write the
 * report (that run is run-under-load.ts; this file is the hosts around it and the propagation
 * times it adds). Everything it built is torn down at the end, also when something fails.
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
import { Cleanups } from './cleanups.js';
import { HostFaults } from './host-faults.js';
import { DEMO_ETCD_MEMBERS, DEMO_HOSTS, type HostsDemoConfig } from './hosts-config.js';
import { propagationTimes, renderPropagationMarkdown, type Propagation } from './propagation.js';
import type { ReportPaths } from './report-files.js';
import { runUnderLoad } from './run-under-load.js';
import { readLbStatus } from './status-poller.js';
import type { DemoSummary } from './summary.js';
import type { ScheduledAction } from './types.js';
import { waitUntil } from './wait-until.js';

export interface HostsDemoResult {
  summary: DemoSummary;
  propagation: Propagation[];
  paths: ReportPaths;
  passed: boolean;
}

/** What of `expected` (read at each check) is not in rotation yet; null when nothing is. */
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

/** Every backend of every host the lab has now (a joined one too), as the balancer names it. */
function labPool(lab: Lab): string[] {
  return lab.hosts.flatMap((h) => h.backends.map((b) => `${h.link.name}/${b.name}`));
}

/** Record each registration and removal under the pool's prefix, as etcd saw it. */
async function watchPoolKeys(
  lab: Lab,
  cleanups: Cleanups,
  logger: Logger,
  record: (app: string, event: string) => void,
): Promise<void> {
  const etcd = createEtcdClient({ endpoints: lab.etcd.endpoints, callTimeoutMs: 1000, keepaliveMs: 1000 });
  cleanups.add('close the etcd watch', () => Promise.resolve(etcd.close()));
  const base = poolPrefix(lab.prefix, lab.pool);
  const nameOf = (key: Buffer) => key.toString().slice(base.length);
  const watcher = await etcd.watch().prefix(base).create();
  watcher.on('put', (kv: { key: Buffer }) => record(nameOf(kv.key), 'etcd put'));
  watcher.on('error', (err) => logger.warn(`the demo's etcd watch ended: ${errorMessage(err)}`));
  watcher.on('delete', (kv: { key: Buffer }) => record(nameOf(kv.key), 'etcd delete'));
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
  const cleanups = new Cleanups(logger);
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
    cleanups.add('tear the hosts down', async () => void (await lab.destroy()));
    const notes: string[] = [];
    const schedule = await withoutImpossibleLatency(config, lab, logger, print, notes);

    const [port, adminPort] = [await freePort(), await freePort()];
    const balancer = startBalancer(
      lab,
      config,
      { port, adminPort },
      path.join(config.outDir, 'balancer.log'),
    );
    cleanups.add('stop the balancer', () => stopChild(balancer, 8000));
    const initial = labPool(lab);
    logger.info(`waiting for the pool of ${initial.length} to be in rotation (admin port ${adminPort})`);
    await waitUntil(
      'the whole pool in rotation',
      config.settleTimeoutMs,
      whole(adminPort, () => initial),
      signal,
    );

    const { summary, paths, recorder } = await runUnderLoad(
      {
        config,
        url: `http://127.0.0.1:${port}${config.path}`,
        adminPort,
        schedule,
        portOffset: 0,
        actions: new HostFaults(lab),
        // The demo's own watch of the pool's keys: when each registration or removal happened in etcd.
        watch: (record) => watchPoolKeys(lab, cleanups, logger, record),
        // Every host there is now (a joined one too) back in rotation, so each return is measured.
        poolPending: whole(adminPort, () => labPool(lab)),
        afterInterrupt: 'tearing the hosts down',
      },
      { logger, print, signal },
    );
    const propagation = propagationTimes(
      summary.actions,
      recorder.pm2Events(),
      recorder.poolSamples(),
      config.backendsPerHost,
    );
    const unmeasured = propagation
      .filter((p) => p.delayMs === null)
      .map((p) => `${p.change} never reached the pool`);
    fs.writeFileSync(
      path.join(config.outDir, 'propagation.json'),
      `${JSON.stringify(propagation, null, 2)}\n`,
    );
    fs.writeFileSync(
      paths.markdown,
      hostsMarkdown(fs.readFileSync(paths.markdown, 'utf8'), propagation, config, notes),
    );
    keepEventLines(path.join(config.outDir, 'balancer.log'));
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
    await cleanups.runAll();
  }
}
