/**
 * A lab of test hosts: the network (network.ts), an etcd cluster with one member on each of the
 * first hosts (etcd-cluster.ts), and on every host a PM2 daemon with backends and a registrar
 * (host-fleet.ts). Tests, the multi-host demo and `npm run hosts:up` build one; `destroy` takes all
 * of it down again, namespaces included, and says what it had to kill.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { EtcdCluster } from './etcd-cluster.js';
import { HostFleet, type BackendApp } from './host-fleet.js';
import { etcdBalancerArgs } from './balancer-args.js';
import { FrontHost, keepalivedProblem, type FrontSettings } from './front-host.js';
import { HostNetwork, type HostLink } from './network.js';

export interface LabOptions {
  hosts: number;
  /** How many of the first hosts run an etcd member (3 for a cluster that survives one loss). */
  etcdMembers?: number;
  backendsPerHost: number;
  pool?: string;
  prefix?: string;
  leaseTtlS?: number;
  /** gRPC ping interval of the registrars (etcd here allows 500 ms). */
  keepaliveMs?: number;
  /** Default: random, 4 letters or digits. */
  tag?: string;
  /** Start registrars and backends (default true). */
  fleets?: boolean;
  log?: (line: string) => void;
  /** Let etcd outlive this process (`npm run hosts:up`; `hosts:down` removes it). */
  detached?: boolean;
  /** Where the lab's folder goes (default: the system's temporary folder). */
  parentDir?: string;
  /** Front hosts (f1, f2, ...) running a balancer and keepalived for one virtual address; default 0. */
  fronts?: number;
  /** A client host (c1), whose programs reach the fronts through the virtual address only. */
  client?: boolean;
  /** The fronts' VRRP advertisement interval (s; default 0.1) and balancer workers (default 2). */
  front?: Partial<Pick<FrontSettings, 'advertIntervalS' | 'workers' | 'logLevel' | 'keepalived'>>;
}

/** keepalived's program: KEEPALIVED_BIN, else where Debian's package puts it. */
export const keepalivedBin = (): string => process.env.KEEPALIVED_BIN ?? '/usr/sbin/keepalived';

export interface LabHost {
  link: HostLink;
  fleet: HostFleet;
  backends: BackendApp[];
}

function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 10_000);
}

export class Lab {
  readonly hosts: LabHost[] = [];
  readonly fronts: FrontHost[] = [];
  client: HostLink | null = null;
  /** The fronts' balancers' public port (inside their namespaces, the same on each). */
  readonly frontPort = randomPort();
  readonly pool: string;
  readonly prefix: string;
  readonly leaseTtlS: number;
  readonly keepaliveMs: number;
  /** The backends' ports, the same on every host (each host has its own ports). */
  readonly backendPorts: number[];
  private destroyed = false;

  private constructor(
    readonly network: HostNetwork,
    readonly etcd: EtcdCluster,
    readonly dir: string,
    private readonly options: LabOptions,
  ) {
    this.pool = options.pool ?? 'web';
    this.prefix = options.prefix ?? `/sbl-${network.tag}`;
    this.leaseTtlS = options.leaseTtlS ?? 3;
    this.keepaliveMs = options.keepaliveMs ?? 1000;
    const first = randomPort();
    this.backendPorts = Array.from({ length: options.backendsPerHost }, (_, i) => first + i);
  }

  get tag(): string {
    return this.network.tag;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  static async create(options: LabOptions): Promise<Lab> {
    const tag = options.tag ?? randomBytes(3).toString('hex').slice(0, 4);
    const dir = await fs.mkdtemp(path.join(options.parentDir ?? os.tmpdir(), `sbl-${tag}-`));
    let network: HostNetwork | null = null;
    let lab: Lab | null = null;
    try {
      network = await HostNetwork.create(tag, options.hosts);
      const clientPort = randomPort();
      const etcd = new EtcdCluster(network.hosts.slice(0, options.etcdMembers ?? 3), {
        dir,
        token: `sbl-${tag}`,
        clientPort,
        peerPort: clientPort + 1,
        detached: options.detached,
      });
      lab = new Lab(network, etcd, dir, options);
      lab.log(`lab ${tag}: ${options.hosts} hosts on ${network.bridge} (10.213.${network.subnet}.0/24)`);
      await etcd.start();
      lab.log(`lab ${tag}: etcd ${etcd.members.map((m) => `${m.name}@${m.host.name}`).join(', ')} healthy`);
      for (const link of network.hosts) await lab.setUpHost(link);
      for (let i = 0; i < (options.fronts ?? 0); i++) await lab.addFront();
      if (options.client === true) {
        lab.client = await network.addHost('client');
        lab.log(`lab ${tag}: client host ${lab.client.name} (${lab.client.address})`);
      }
      return lab;
    } catch (err) {
      if (lab !== null) await lab.destroy();
      else {
        await network?.destroy();
        await fs.rm(dir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  private async setUpHost(link: HostLink): Promise<LabHost> {
    const fleet = await HostFleet.create(link, this.dir);
    const backends = this.backendPorts.map((port) => ({ name: `backend-${port}`, port }));
    const host: LabHost = { link, fleet, backends };
    this.hosts.push(host);
    if (this.options.fleets !== false) {
      await fleet.startBackends(backends, this.pool);
      await fleet.startRegistrar({
        endpoints: this.etcd.endpoints,
        prefix: this.prefix,
        pool: this.pool,
        leaseTtlS: this.leaseTtlS,
        keepaliveMs: this.keepaliveMs,
      });
      this.log(
        `lab ${this.tag}: ${link.name} (${link.address}) runs ${backends.length} backends and a registrar`,
      );
    }
    return host;
  }

  /** The virtual address's URL of the fronts' balancers. */
  get frontUrl(): string {
    return `http://${this.network.virtualAddress}:${this.frontPort}`;
  }

  /**
   * One more front host: its namespace and cable, its PM2 running a balancer on the lab's etcd and
   * keepalived for the virtual address. Each front is one priority step below the last (f1 wins
   * an election, and a split brain).
   */
  private async addFront(): Promise<FrontHost> {
    const keepalived = this.options.front?.keepalived ?? keepalivedBin();
    const problem = await keepalivedProblem(keepalived);
    if (problem !== null) throw new Error(problem);
    const link = await this.network.addHost('front');
    const front = await FrontHost.create(link, this.dir, {
      port: this.frontPort,
      adminPort: this.frontPort + 1,
      vip: this.network.virtualAddress,
      prefixLength: 24,
      virtualRouterId: 1 + (this.network.subnet % 255),
      priority: 150 - 10 * (link.index - 1),
      advertIntervalS: this.options.front?.advertIntervalS ?? 0.1,
      balancerArgs: [
        ...etcdBalancerArgs(this),
        '--via',
        link.name,
        '--front-name',
        link.name,
        '--vip',
        this.network.virtualAddress,
      ],
      keepalived,
      curl: '/usr/bin/curl',
      workers: this.options.front?.workers ?? 2,
      logLevel: this.options.front?.logLevel ?? 'info',
    });
    this.fronts.push(front);
    await front.start();
    this.log(
      `lab ${this.tag}: front ${link.name} (${link.address}) runs a balancer on :${this.frontPort} and keepalived`,
    );
    return front;
  }

  front(name: string): FrontHost {
    const front = this.fronts.find((f) => f.name === name);
    if (front === undefined) throw new Error(`no front host ${name}`);
    return front;
  }

  /** The front whose interface has the virtual address now (null: none, or more than one). */
  async vipHolder(): Promise<FrontHost | null> {
    const holding = [];
    for (const f of this.fronts) if (await f.holdsVip()) holding.push(f);
    return holding.length === 1 ? (holding[0] ?? null) : null;
  }

  /** A new host joins: its namespace, its cable, its PM2 with backends and a registrar. */
  async addHost(): Promise<LabHost> {
    const link = await this.network.addHost();
    return this.setUpHost(link);
  }

  host(name: string): LabHost {
    const host = this.hosts.find((h) => h.link.name === name);
    if (host === undefined) throw new Error(`no host ${name}`);
    return host;
  }

  /** Upstream ids the balancer will list for a host's backends. */
  upstreamIds(name: string): string[] {
    const host = this.host(name);
    return host.backends.map((b) => `${host.link.address}:${b.port}`);
  }

  /** Everything down: PM2 daemons, etcd members, leftovers in the namespaces, the network, the folder. */
  async destroy(): Promise<string[]> {
    if (this.destroyed) return [];
    this.destroyed = true;
    const notes: string[] = [];
    await Promise.all(
      [...this.hosts.map((h) => h.fleet), ...this.fronts.map((f) => f.fleet)].map((fleet) =>
        fleet
          .kill()
          .catch((err: unknown) => notes.push(`pm2 kill on ${fleet.host.name}: ${errorMessage(err)}`)),
      ),
    );
    await this.etcd.stopAll('SIGKILL');
    notes.push(...(await this.network.destroy()).filter((n) => n.startsWith('process')));
    await fs.rm(this.dir, { recursive: true, force: true });
    this.log(`lab ${this.tag}: torn down${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`);
    return notes;
  }
}
