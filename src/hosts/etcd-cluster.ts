/**
 * An etcd cluster spread over the test hosts: one member per host, each `etcd` run inside the
 * host's namespace with its own data folder and ports picked for the lab (never etcd's 2379/2380).
 * Elections are tuned for a LAN of veth pairs (100 ms heartbeats, 1 s election timeout), and gRPC
 * pings every 500 ms are allowed so clients notice a partitioned member quickly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { InternalError } from '../errors.js';
import { runCommand } from './command.js';
import type { HostLink } from './network.js';
import { stopChild } from './stop-child.js';

export interface EtcdMember {
  name: string;
  host: HostLink;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process: ChildProcess | null;
}

export interface EtcdClusterOptions {
  /** Folder for data dirs and logs. */
  dir: string;
  token: string;
  clientPort: number;
  peerPort: number;
  /** Let the members outlive this process (`npm run hosts:up`). */
  detached?: boolean | undefined;
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class EtcdCluster {
  readonly members: EtcdMember[];

  constructor(
    hosts: readonly HostLink[],
    private readonly options: EtcdClusterOptions,
  ) {
    this.members = hosts.map((host, i) => ({
      name: `e${i + 1}`,
      host,
      clientUrl: `http://${host.address}:${options.clientPort}`,
      peerUrl: `http://${host.address}:${options.peerPort}`,
      dataDir: path.join(options.dir, `e${i + 1}`),
      process: null,
    }));
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  member(name: string): EtcdMember {
    const m = this.members.find((x) => x.name === name || x.host.name === name);
    if (m === undefined) throw new InternalError('ERR_HOSTS', `no etcd member ${name}`);
    return m;
  }

  async start(): Promise<void> {
    for (const m of this.members) this.startMember(m);
    await this.waitHealthy(this.members.length, 30_000);
  }

  startMember(m: EtcdMember): void {
    if (m.process !== null && m.process.exitCode === null && m.process.signalCode === null) return;
    const initialCluster = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    const log = fs.openSync(path.join(this.options.dir, `${m.name}.log`), 'a');
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        m.host.netns,
        'etcd',
        '--name',
        m.name,
        '--data-dir',
        m.dataDir,
        '--listen-client-urls',
        m.clientUrl,
        '--advertise-client-urls',
        m.clientUrl,
        '--listen-peer-urls',
        m.peerUrl,
        '--initial-advertise-peer-urls',
        m.peerUrl,
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-token',
        this.options.token,
        '--initial-cluster-state',
        'new',
        '--heartbeat-interval',
        '100',
        '--election-timeout',
        '1000',
        '--grpc-keepalive-min-time',
        '500ms',
        '--logger',
        'zap',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', log, log], detached: this.options.detached === true },
    );
    fs.closeSync(log);
    if (this.options.detached === true) child.unref();
    child.on('error', () => undefined);
    m.process = child;
  }

  /** SIGTERM (a clean stop) or SIGKILL (a crash), and wait for it to be gone. */
  async stopMember(m: EtcdMember, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    // A member that lost quorum can hang in its clean stop; a stop is a stop.
    if (m.process !== null) await stopChild(m.process, 1500, signal);
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(this.members.map((m) => this.stopMember(m, signal)));
  }

  running(): EtcdMember[] {
    return this.members.filter(
      (m) => m.process !== null && m.process.exitCode === null && m.process.signalCode === null,
    );
  }

  /** `etcdctl endpoint status` of every member: who answers, and who they say leads. */
  async status(): Promise<{ member: string; leader: string | null }[]> {
    const result = await runCommand(
      'etcdctl',
      [
        '--endpoints',
        this.endpoints.join(','),
        '--command-timeout',
        '1s',
        '--dial-timeout',
        '1s',
        'endpoint',
        'status',
        '-w',
        'json',
      ],
      { timeoutMs: 10_000 },
    );
    let parsed: { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[] = [];
    try {
      parsed = JSON.parse(result.stdout) as typeof parsed;
    } catch {
      return [];
    }
    const byId = new Map(parsed.map((p) => [p.Status.header.member_id, p.Endpoint]));
    return parsed.map((p) => ({
      member: this.members.find((m) => m.clientUrl === p.Endpoint)?.name ?? p.Endpoint,
      leader: this.members.find((m) => m.clientUrl === byId.get(p.Status.leader))?.name ?? null,
    }));
  }

  /** The member the others follow, once they agree on one. */
  async leader(timeoutMs = 10_000): Promise<EtcdMember> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const leaders = new Set((await this.status()).map((s) => s.leader));
      const [only] = [...leaders];
      if (leaders.size === 1 && only !== null && only !== undefined) return this.member(only);
      await pause(200);
    }
    throw new InternalError('ERR_HOSTS', `the etcd members agreed on no leader within ${timeoutMs} ms`);
  }

  /** Wait until `count` members answer and one of them leads. */
  async waitHealthy(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      const status = await this.status();
      const leaders = new Set(status.map((s) => s.leader));
      if (status.length >= count && leaders.size === 1 && !leaders.has(null)) return;
      last = JSON.stringify(status);
      await pause(200);
    }
    throw new InternalError(
      'ERR_HOSTS',
      `etcd: ${count} healthy member(s) not seen within ${timeoutMs} ms (${last})`,
    );
  }

  /** etcdctl against the cluster (put a malformed key, read the pool). */
  async ctl(args: readonly string[]): Promise<string> {
    const result = await runCommand(
      'etcdctl',
      ['--endpoints', this.endpoints.join(','), '--command-timeout', '3s', ...args],
      {
        timeoutMs: 10_000,
      },
    );
    if (result.code !== 0)
      throw new InternalError('ERR_HOSTS', `etcdctl ${args.join(' ')}: ${result.stderr.trim()}`);
    return result.stdout;
  }
}
