/**
 * The multi-host demo's faults, spoken in the operations demo's own schedule language
 * (`TIME:ACTION:TARGET`, run by action-runner.ts) so its timeline, summary and reports apply as
 * they are. The targets:
 *
 *   stop:link-h1 / start:link-h1     pull a host's cable / plug it back (ip link set down/up)
 *   stop:etcd-e2 / start:etcd-e2     stop one etcd member cleanly / start it again
 *   kill:etcd-leader                 SIGKILL whichever member leads; start:etcd-leader restarts it
 *   stop:etcd-all / start:etcd-all   every etcd member stopped / started again
 *   start:host-h4                    a new host joins: namespace, cable, PM2, backends, registrar
 *   start:netem-h3 / stop:netem-h3   100 ms of added latency on a host's cable / taken off again
 */
import { InternalError } from '../errors.js';
import type { Lab } from '../hosts/lab.js';
import type { DemoActions } from './action-runner.js';
import { formatScheduleEntry, formatSeconds } from './schedule.js';
import type { ScheduledAction } from './types.js';

export const NETEM_DELAY_MS = 100;

type Target =
  | { kind: 'link' | 'netem' | 'host'; host: string }
  | { kind: 'etcd'; member: string }
  | { kind: 'etcd-leader' }
  | { kind: 'etcd-all' };

export function parseTarget(app: string): Target | null {
  let m = /^(link|netem|host)-(h\d+)$/.exec(app);
  if (m !== null) return { kind: m[1] as 'link' | 'netem' | 'host', host: m[2] ?? '' };
  m = /^etcd-(e\d+)$/.exec(app);
  if (m !== null) return { kind: 'etcd', member: m[1] ?? '' };
  if (app === 'etcd-leader') return { kind: 'etcd-leader' };
  if (app === 'etcd-all') return { kind: 'etcd-all' };
  return null;
}

/** Which actions each target takes. */
const ALLOWED: Record<Target['kind'], readonly string[]> = {
  link: ['stop', 'start'],
  netem: ['start', 'stop'],
  host: ['start'],
  etcd: ['stop', 'start', 'kill'],
  'etcd-leader': ['kill', 'start'],
  'etcd-all': ['stop', 'start'],
};

/** Every reason a host schedule cannot run as written, before anything is built. */
export function hostScheduleProblems(
  schedule: readonly ScheduledAction[],
  durationMs: number,
  hosts: number,
  etcdMembers: number,
): string[] {
  const problems: string[] = [];
  let nextHost = hosts + 1;
  for (const entry of schedule) {
    const text = `--at ${formatScheduleEntry(entry)}`;
    if (entry.atMs >= durationMs) {
      problems.push(`${text}: happens after the load ends (--duration ${formatSeconds(durationMs)})`);
    }
    const target = parseTarget(entry.app);
    if (target === null) {
      problems.push(
        `${text}: "${entry.app}" is not link-hN, netem-hN, host-hN, etcd-eN, etcd-leader or etcd-all`,
      );
      continue;
    }
    if (!ALLOWED[target.kind].includes(entry.action)) {
      problems.push(`${text}: ${entry.app} takes ${ALLOWED[target.kind].join(' or ')}, not ${entry.action}`);
    }
    if (target.kind === 'host') {
      if (target.host !== `h${nextHost}`) problems.push(`${text}: the next host to join is h${nextHost}`);
      else nextHost++;
    } else if (target.kind === 'link' || target.kind === 'netem') {
      const n = Number(target.host.slice(1));
      if (n < 1 || n >= nextHost) problems.push(`${text}: there is no host ${target.host} then`);
    } else if (target.kind === 'etcd') {
      const n = Number(target.member.slice(1));
      if (n < 1 || n > etcdMembers) problems.push(`${text}: there is no etcd member ${target.member}`);
    }
  }
  return problems;
}

function notAHostFault(action: string): Promise<string> {
  return Promise.reject(new InternalError('ERR_DEMO_TARGET', `${action} is not a fault of the hosts demo`));
}

/** The faults, as the action runner calls them. */
export class HostFaults implements DemoActions {
  private killedLeader: string | null = null;

  constructor(private readonly lab: Lab) {}

  // The restart demo's own actions are not host faults: the hosts demo's schedule never asks for them.
  slowClients(): Promise<string> {
    return notAHostFault('slow-clients');
  }

  reloadBalancer(): Promise<string> {
    return notAHostFault('reload:balancer');
  }

  killBalancerWorker(): Promise<string> {
    return notAHostFault('kill:balancer-worker');
  }

  reloadAll(): Promise<string> {
    return notAHostFault('reload:all');
  }

  private target(app: string): Target {
    const target = parseTarget(app);
    if (target === null) throw new InternalError('ERR_DEMO_TARGET', `no such target ${app}`);
    return target;
  }

  async pidOf(app: string): Promise<number | null> {
    const target = this.target(app);
    if (target.kind === 'etcd') return this.lab.etcd.member(target.member).process?.pid ?? null;
    if (target.kind === 'etcd-leader' && this.killedLeader === null) {
      return (await this.lab.etcd.leader(3000)).process?.pid ?? null;
    }
    return null;
  }

  restart(app: string): Promise<void> {
    return Promise.reject(new InternalError('ERR_DEMO_TARGET', `${app} cannot be restarted`));
  }

  async kill(app: string): Promise<number> {
    const target = this.target(app);
    const member =
      target.kind === 'etcd-leader'
        ? await this.lab.etcd.leader(5000)
        : target.kind === 'etcd'
          ? this.lab.etcd.member(target.member)
          : null;
    if (member === null) throw new InternalError('ERR_DEMO_TARGET', `${app} cannot be killed`);
    const pid = member.process?.pid ?? -1;
    if (target.kind === 'etcd-leader') this.killedLeader = member.name;
    await this.lab.etcd.stopMember(member, 'SIGKILL');
    return pid;
  }

  async stop(app: string): Promise<void> {
    const target = this.target(app);
    if (target.kind === 'link') await this.lab.network.linkDown(target.host);
    else if (target.kind === 'netem') await this.lab.network.removeLatency(target.host);
    else if (target.kind === 'etcd') await this.lab.etcd.stopMember(this.lab.etcd.member(target.member));
    else if (target.kind === 'etcd-all') await this.lab.etcd.stopAll();
    else throw new InternalError('ERR_DEMO_TARGET', `${app} cannot be stopped`);
  }

  async start(app: string): Promise<void> {
    const target = this.target(app);
    if (target.kind === 'link') await this.lab.network.linkUp(target.host);
    else if (target.kind === 'netem') await this.lab.network.addLatency(target.host, NETEM_DELAY_MS);
    else if (target.kind === 'host') await this.lab.addHost();
    else if (target.kind === 'etcd') this.lab.etcd.startMember(this.lab.etcd.member(target.member));
    else if (target.kind === 'etcd-all') for (const m of this.lab.etcd.members) this.lab.etcd.startMember(m);
    else {
      if (this.killedLeader === null) throw new InternalError('ERR_DEMO_TARGET', 'no leader was killed');
      this.lab.etcd.startMember(this.lab.etcd.member(this.killedLeader));
      this.killedLeader = null;
    }
  }
}
