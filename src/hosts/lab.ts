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
}

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
      this.hosts.map((h) =>
        h.fleet
          .kill()
          .catch((err: unknown) => notes.push(`pm2 kill on ${h.link.name}: ${errorMessage(err)}`)),
      ),
    );
    await this.etcd.stopAll('SIGKILL');
    notes.push(...(await this.network.destroy()).filter((n) => n.startsWith('process')));
    await fs.rm(this.dir, { recursive: true, force: true });
    this.log(`lab ${this.tag}: torn down${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`);
    return notes;
  }
}
