/**
 * A front host of the lab: its own PM2 daemon running the fleet's balancer (etcd discovery of the
 * backend hosts, listening on every address so it serves the virtual one whenever it holds it)
 * and keepalived holding the fronts' shared address by VRRP. The balancer's admin listener is on
 * the host's own address, so it needs a token (written here, read by whoever steers it); keepalived
 * checks the balancer's /healthz there and follows the front door's track file, and its notify
 * script writes the VRRP state the balancer shows.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BalancerStatus } from '../balancer/status.js';
import type { DoorReport } from '../balancer/front-door.js';
import { PROJECT_ROOT } from '../config/common.js';
import { errorMessage, InternalError } from '../errors.js';
import { fetchStatus, sendControl, sendDoor, type AdminTarget } from '../fleet/lb-client.js';
import { UPSTREAMS_PATH } from '../balancer/upstream-control.js';
import type { UpstreamStatus } from '../balancer/status.js';
import { HostFleet } from './host-fleet.js';
import { readVrrpFile } from '../balancer/front/vrrp-file.js';
import type { VrrpState } from '../balancer/front/vrrp-state.js';
import { keepalivedConfig, notifyScript } from './keepalived-config.js';
import { runCommand, type CommandResult } from './command.js';
import { namespacePids, type HostLink } from './network.js';

export interface FrontSettings {
  /** The balancer's public port (the same on every front) and its admin port. */
  port: number;
  adminPort: number;
  vip: string;
  prefixLength: number;
  virtualRouterId: number;
  priority: number;
  advertIntervalS: number;
  /** Discovery and timeouts: the lab's etcd command line (balancer-args.ts). */
  balancerArgs: readonly string[];
  /** The keepalived program (KEEPALIVED_BIN; /usr/sbin/keepalived). */
  keepalived: string;
  curl: string;
  /** Request-path workers of each front balancer. */
  workers: number;
  logLevel: string;
}

export class FrontHost {
  private constructor(
    readonly link: HostLink,
    readonly fleet: HostFleet,
    readonly dir: string,
    readonly settings: FrontSettings,
    private readonly token: string,
  ) {}

  get name(): string {
    return this.link.name;
  }

  get trackFile(): string {
    return path.join(this.dir, 'front-door');
  }

  get vrrpStateFile(): string {
    return path.join(this.dir, 'vrrp-state');
  }

  private get tokenFile(): string {
    return path.join(this.dir, 'admin-token');
  }

  static async create(link: HostLink, labDir: string, settings: FrontSettings): Promise<FrontHost> {
    const dir = path.join(labDir, `front-${link.name}`);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const fleet = await HostFleet.create(link, labDir);
    return new FrontHost(link, fleet, dir, settings, randomBytes(16).toString('hex'));
  }

  /** Write keepalived's files and the token, then start the balancer and, once it serves, keepalived. */
  async start(): Promise<void> {
    const s = this.settings;
    await fs.writeFile(this.tokenFile, `${this.token}\n`, { mode: 0o600 });
    const notify = path.join(this.dir, 'vrrp-notify.sh');
    await fs.writeFile(notify, notifyScript(this.vrrpStateFile), { mode: 0o700 });
    await fs.writeFile(
      path.join(this.dir, 'keepalived.conf'),
      keepalivedConfig({
        name: `sbl-${this.link.netns.split('-')[1] ?? 'lab'}-${this.name}`,
        interface: 'eth0',
        virtualRouterId: s.virtualRouterId,
        priority: s.priority,
        advertIntervalS: s.advertIntervalS,
        vip: s.vip,
        prefixLength: s.prefixLength,
        trackFile: this.trackFile,
        notifyScript: notify,
        healthUrl: `http://${this.link.address}:${s.adminPort}/healthz`,
        curl: s.curl,
      }),
      { mode: 0o600 },
    );
    await this.startApps();
  }

  /** The balancer first, serving (its status answers), then keepalived, which may give it the address. */
  private async startApps(): Promise<void> {
    await this.fleet.startApps('balancer.json', [this.balancerApp()]);
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await this.status();
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          const log = (await this.fleet.appLog('balancer')).trim().split('\n').slice(-8).join('\n');
          throw new InternalError(
            'ERR_HOSTS',
            `the balancer on ${this.name} does not answer its admin API: ${errorMessage(err)}\n${log}`,
            { cause: err },
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await this.fleet.startApps('keepalived.json', [this.keepalivedApp()]);
  }

  private balancerApp(): Record<string, unknown> {
    const s = this.settings;
    return {
      ...this.fleet.appDefaults('balancer'),
      script: path.join(PROJECT_ROOT, 'dist', 'src', 'balancer.js'),
      wait_ready: true,
      listen_timeout: 20_000,
      // As the fleet's ecosystem: PM2 signals the primary alone, and its workers serve on the
      // handed-over sockets until the next primary's are ready (or, after a stop, drain).
      treekill: false,
      kill_timeout: 7000,
      args: [
        ...s.balancerArgs,
        '--host',
        '0.0.0.0',
        '--port',
        String(s.port),
        '--admin-host',
        this.link.address,
        '--admin-port',
        String(s.adminPort),
        '--admin-token-file',
        this.tokenFile,
        '--state-file',
        path.join(this.dir, 'state.json'),
        '--vrrp-track-file',
        this.trackFile,
        '--vrrp-state-file',
        this.vrrpStateFile,
        '--workers',
        String(s.workers),
      ],
      env: { LOG_LEVEL: s.logLevel, NAME: `balancer-${this.name}` },
    };
  }

  private keepalivedApp(): Record<string, unknown> {
    return {
      ...this.fleet.appDefaults('keepalived'),
      script: this.settings.keepalived,
      interpreter: 'none',
      // In the foreground, logging to PM2's files; only VRRP; pid files of its own (the
      // defaults in /run are one per machine, and a lab has two keepalived).
      args: [
        '--dont-fork',
        '--log-console',
        '--no-syslog',
        '--vrrp',
        '--use-file',
        path.join(this.dir, 'keepalived.conf'),
        '--pid',
        path.join(this.dir, 'keepalived.pid'),
        '--vrrp_pid',
        path.join(this.dir, 'vrrp.pid'),
      ],
      min_uptime: 2000,
      restart_delay: 1000,
    };
  }

  /** The admin API of this front's balancer, from the root namespace (over the bridge). */
  admin(timeoutMs = 10_000): AdminTarget {
    return {
      host: this.link.address,
      port: this.settings.adminPort,
      token: this.token,
      userAgent: `lab (${this.name})`,
      timeoutMs,
    };
  }

  status(): Promise<BalancerStatus> {
    return fetchStatus(this.admin(5000));
  }

  /** Close the front door (Connection: close, wait for the connections, give the address away). */
  maint(): Promise<DoorReport> {
    return sendDoor(this.admin(), 'maint');
  }

  ready(): Promise<DoorReport> {
    return sendDoor(this.admin(), 'ready');
  }

  /**
   * `npm run lb -- <words>` as an operator runs it on this front host (inside its namespace, as
   * root), against this front's balancer: `front-maint` there is the whole planned failover.
   */
  lb(words: readonly string[]): Promise<CommandResult> {
    return runCommand(
      'ip',
      [
        'netns',
        'exec',
        this.link.netns,
        process.execPath,
        path.join(PROJECT_ROOT, 'dist', 'src', 'fleet', 'cli-lb.js'),
        ...words,
        '--admin-host',
        this.link.address,
        '--admin-port',
        String(this.settings.adminPort),
        '--admin-token-file',
        this.tokenFile,
      ],
      { timeoutMs: 30_000, cwd: PROJECT_ROOT },
    );
  }

  /** An operator's decision on an upstream through this front (drain, maint, ready, weight/<n>). */
  control(upstream: string, action: string): Promise<UpstreamStatus> {
    return sendControl(this.admin(), `${UPSTREAMS_PATH}${encodeURIComponent(upstream)}/${action}`);
  }

  /** Whether the virtual address is on this host's interface now. */
  async holdsVip(): Promise<boolean> {
    const out = await runCommand(
      'ip',
      ['netns', 'exec', this.link.netns, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'],
      {
        timeoutMs: 5000,
      },
    );
    return out.stdout.includes(` ${this.settings.vip}/`);
  }

  /** What keepalived's notify script last wrote (the balancer's own reader); null before it wrote anything. */
  async vrrp(): Promise<{ state: Exclude<VrrpState, 'unknown'>; priority: number; at: number } | null> {
    const reading = await readVrrpFile(this.vrrpStateFile);
    return reading.kind === 'state' ? reading : null;
  }

  stopBalancer(): Promise<void> {
    return this.fleet.stop('balancer');
  }

  startBalancer(): Promise<void> {
    return this.fleet.start('balancer');
  }

  stopKeepalived(): Promise<void> {
    return this.fleet.stop('keepalived');
  }

  startKeepalived(): Promise<void> {
    return this.fleet.start('keepalived');
  }

  /**
   * A host crash: every process on it killed at once. The namespace's kernel lives on, so the
   * address keepalived left on the interface is removed as a reboot would (a crashed host answers
   * no ARP for it).
   */
  async crash(): Promise<number> {
    const pids = await namespacePids(this.link.netns);
    // Frozen first, then killed: a process that sees another die (keepalived's VRRP child its
    // parent) must not get the chance to say goodbye, as nothing on a crashed host does.
    for (const signal of ['SIGSTOP', 'SIGKILL'] as const) {
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch {
          // gone already
        }
      }
    }
    await runCommand('ip', [
      'netns',
      'exec',
      this.link.netns,
      'ip',
      'addr',
      'del',
      `${this.settings.vip}/${this.settings.prefixLength}`,
      'dev',
      'eth0',
    ]);
    return pids.length;
  }

  /** After a crash: the host boots, PM2 starts the balancer and keepalived again. */
  async boot(): Promise<void> {
    for (const file of ['keepalived.pid', 'vrrp.pid'])
      await fs.rm(path.join(this.dir, file), { force: true });
    await fs.rm(path.join(this.fleet.home, 'pm2.pid'), { force: true });
    await this.startApps();
  }

  /** What the front's balancer and keepalived logged. */
  async logs(): Promise<{ balancer: string; keepalived: string }> {
    return {
      balancer: await this.fleet.appLog('balancer'),
      keepalived: await this.fleet.appLog('keepalived'),
    };
  }

  kill(): Promise<void> {
    return this.fleet.kill();
  }
}

/** keepalived as this machine has it: KEEPALIVED_BIN, or the Debian package's path. */
export async function keepalivedProblem(bin: string): Promise<string | null> {
  const result = await runCommand(bin, ['--version'], { timeoutMs: 5000 });
  if (result.code === 0) return null;
  return `keepalived cannot run here (${bin}: ${result.stderr.trim().split('\n')[0] || 'not found'}); apt-get install keepalived`;
}
