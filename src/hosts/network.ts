/**
 * The test hosts' network: one Linux bridge in the root namespace, and per host a network namespace
 * joined to it by a veth pair, all on one private /24 that exists only on that bridge. The hosts
 * get no default route, so nothing they send can leave for a real network; the root namespace
 * reaches them through the bridge's own address (the balancer runs there).
 *
 * Every name carries the lab's tag (`sbl<tag>...`), so `destroy` (and `npm run hosts:down`, by
 * tag) removes exactly what was created here.
 */
import { readFile } from 'node:fs/promises';
import { InternalError } from '../errors.js';
import { mustRun, runCommand } from './command.js';

/** The prefix of every namespace and link this project creates. */
export const NAME_PREFIX = 'sbl';

/** What a host is for: backends (h1, h2, ...), a front balancer (f1, f2), or clients (c1). */
export type HostRole = 'backend' | 'front' | 'client';
const ROLE_LETTER: Record<HostRole, string> = { backend: 'h', front: 'f', client: 'c' };

export interface HostLink {
  /** h1, h2, ... for backend hosts; f1, f2 for front hosts; c1 for clients. */
  name: string;
  role: HostRole;
  index: number;
  /** The network namespace the host lives in. */
  netns: string;
  /** Its address on the bridge. */
  address: string;
  /** The root-namespace end of its veth pair: the host's "cable". */
  link: string;
}

export function namespaceName(tag: string, host: string): string {
  return `${NAME_PREFIX}-${tag}-${host}`;
}

/** A lab's host names in namespace and link names: h1, f2, c1, ... */
const HOST_NAME = '[hfc]\\d+';

async function usedSubnets(): Promise<Set<number>> {
  const out = await mustRun('ip', ['-4', '-o', 'addr', 'show']);
  const routes = await mustRun('ip', ['-4', 'route', 'show', 'table', 'all']);
  const used = new Set<number>();
  for (const m of `${out}\n${routes}`.matchAll(/\b10\.213\.(\d+)\./g)) used.add(Number(m[1]));
  return used;
}

export class HostNetwork {
  readonly hosts: HostLink[] = [];
  readonly bridge: string;
  private destroyed = false;

  private constructor(
    readonly tag: string,
    /** The third octet of 10.213.<n>.0/24. */
    readonly subnet: number,
  ) {
    this.bridge = `${NAME_PREFIX}${tag}br`;
  }

  get gateway(): string {
    return `10.213.${this.subnet}.1`;
  }

  /** The front hosts' shared (virtual) address, held by whichever keepalived is MASTER. */
  get virtualAddress(): string {
    return `10.213.${this.subnet}.100`;
  }

  /** A bridge with `count` hosts on a 10.213.x.0/24 that nothing else on the machine uses. */
  static async create(tag: string, count: number): Promise<HostNetwork> {
    if (!/^[a-z0-9]{4}$/.test(tag))
      throw new InternalError('ERR_HOSTS', `bad lab tag "${tag}" (4 letters or digits)`);
    const used = await usedSubnets();
    const free = Array.from({ length: 254 }, (_, i) => i + 1).filter((n) => !used.has(n));
    const subnet = free[Math.floor(Math.random() * free.length)];
    if (subnet === undefined) throw new InternalError('ERR_HOSTS', 'no free 10.213.x.0/24 on this machine');
    const net = new HostNetwork(tag, subnet);
    try {
      await mustRun('ip', ['link', 'add', net.bridge, 'type', 'bridge']);
      await mustRun('ip', ['addr', 'add', `${net.gateway}/24`, 'dev', net.bridge]);
      await mustRun('ip', ['link', 'set', net.bridge, 'up']);
      for (let i = 1; i <= count; i++) await net.addHost();
    } catch (err) {
      await net.destroy();
      throw err;
    }
    return net;
  }

  /**
   * One more host on the bridge (a host joining mid-run). Backend hosts are .11, .12, ...; front
   * hosts .51, .52; clients .91, ...; the virtual address of the fronts is .100.
   */
  async addHost(role: HostRole = 'backend'): Promise<HostLink> {
    const index = this.hosts.filter((h) => h.role === role).length + 1;
    const name = `${ROLE_LETTER[role]}${index}`;
    const base = role === 'backend' ? 10 : role === 'front' ? 50 : 90;
    const host: HostLink = {
      name,
      role,
      index,
      netns: namespaceName(this.tag, name),
      address: `10.213.${this.subnet}.${base + index}`,
      link: `${NAME_PREFIX}${this.tag}${name}`,
    };
    const peer = `${host.link}p`;
    this.hosts.push(host);
    await mustRun('ip', ['netns', 'add', host.netns]);
    await mustRun('ip', ['link', 'add', host.link, 'type', 'veth', 'peer', 'name', peer]);
    await mustRun('ip', ['link', 'set', peer, 'netns', host.netns]);
    await mustRun('ip', ['link', 'set', host.link, 'master', this.bridge]);
    await mustRun('ip', ['link', 'set', host.link, 'up']);
    const inNs = (...args: string[]) => mustRun('ip', ['netns', 'exec', host.netns, 'ip', ...args]);
    await inNs('link', 'set', 'lo', 'up');
    await inNs('link', 'set', peer, 'name', 'eth0');
    await inNs('addr', 'add', `${host.address}/24`, 'dev', 'eth0');
    await inNs('link', 'set', 'eth0', 'up');
    return host;
  }

  host(name: string): HostLink {
    const host = this.hosts.find((h) => h.name === name);
    if (host === undefined) throw new InternalError('ERR_HOSTS', `no host ${name}`);
    return host;
  }

  /** Pull the host's cable: packets to and from it are dropped, nothing is refused. */
  async linkDown(name: string): Promise<void> {
    await mustRun('ip', ['link', 'set', this.host(name).link, 'down']);
  }

  async linkUp(name: string): Promise<void> {
    await mustRun('ip', ['link', 'set', this.host(name).link, 'up']);
  }

  /** Added one-way delay on the host's cable (towards the host), as a slow WAN link would have. */
  async addLatency(name: string, ms: number): Promise<void> {
    await mustRun('tc', [
      'qdisc',
      'replace',
      'dev',
      this.host(name).link,
      'root',
      'netem',
      'delay',
      `${ms}ms`,
    ]);
  }

  /** Whether this kernel has netem (sch_netem); some do not, and then no latency can be added. */
  async netemAvailable(): Promise<boolean> {
    const probe = await runCommand('tc', [
      'qdisc',
      'add',
      'dev',
      this.bridge,
      'root',
      'netem',
      'delay',
      '1ms',
    ]);
    if (probe.code !== 0) return false;
    await runCommand('tc', ['qdisc', 'del', 'dev', this.bridge, 'root']);
    return true;
  }

  async removeLatency(name: string): Promise<void> {
    await runCommand('tc', ['qdisc', 'del', 'dev', this.host(name).link, 'root']);
  }

  /** Kill whatever still runs in the namespaces, then remove them and the bridge. */
  async destroy(): Promise<string[]> {
    if (this.destroyed) return [];
    this.destroyed = true;
    return removeLab(this.tag, 5000);
  }
}

/** Pids of the processes inside a namespace. */
export async function namespacePids(netns: string): Promise<number[]> {
  const result = await runCommand('ip', ['netns', 'pids', netns]);
  if (result.code !== 0) return [];
  return result.stdout
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
}

/** The tags of every lab that has a namespace on this machine. */
export async function labTags(): Promise<string[]> {
  const result = await runCommand('ip', ['netns', 'list']);
  const tags = new Set<string>();
  for (const m of result.stdout.matchAll(new RegExp(`^${NAME_PREFIX}-([a-z0-9]{4})-${HOST_NAME}`, 'gm'))) {
    if (m[1] !== undefined) tags.add(m[1]);
  }
  return [...tags];
}

/**
 * Remove one lab by its tag: SIGKILL every process left in its namespaces, delete the namespaces
 * (their veth ends go with them) and the bridge. Returns what it removed, for the log.
 */
export async function removeLab(tag: string, graceMs = 0): Promise<string[]> {
  const removed: string[] = [];
  const list = await runCommand('ip', ['netns', 'list']);
  const namespaces = [...list.stdout.matchAll(new RegExp(`^(${NAME_PREFIX}-${tag}-${HOST_NAME})`, 'gm'))].map(
    (m) => m[1] ?? '',
  );
  // Processes told to stop (pm2 kill) get a moment to finish exiting before they count as strays.
  const deadline = Date.now() + graceMs;
  const pidsLeft = async () => (await Promise.all(namespaces.map(namespacePids))).flat();
  while (Date.now() < deadline && (await pidsLeft()).length > 0) await new Promise((r) => setTimeout(r, 100));
  for (const netns of namespaces) {
    for (const pid of await namespacePids(netns)) {
      const what = await readFile(`/proc/${pid}/cmdline`, 'utf8')
        .then((c) => c.split('\0').join(' ').trim().slice(0, 120))
        .catch(() => '?');
      try {
        process.kill(pid, 'SIGKILL');
        removed.push(`process ${pid} in ${netns} (${what})`);
      } catch {
        // gone meanwhile
      }
    }
  }
  for (const netns of namespaces) {
    // A namespace whose last process is still being reaped can refuse once; try a few times.
    for (let attempt = 0; attempt < 20; attempt++) {
      const result = await runCommand('ip', ['netns', 'del', netns]);
      if (result.code === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    removed.push(`namespace ${netns}`);
  }
  const links = await runCommand('ip', ['-o', 'link', 'show']);
  for (const m of links.stdout.matchAll(
    new RegExp(`^\\d+: (${NAME_PREFIX}${tag}(?:br|${HOST_NAME}p?))[@:]`, 'gm'),
  )) {
    const link = m[1] ?? '';
    if ((await runCommand('ip', ['link', 'del', link])).code === 0) removed.push(`link ${link}`);
  }
  return removed;
}
